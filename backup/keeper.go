package backup

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/stackhub/stackhub/internal/i18n"
	"github.com/stackhub/stackhub/internal/kv"
)

// KeyFile is the name, in the data folder, of the key that seals the
// repository password in the state database. It is created with mode 0600.
// A copy of the state database without this file does not reveal the
// password; the password itself (shown once at setup) is what opens the
// repository on a new machine.
const KeyFile = "backup.key"

// repoKey is the kv key of the repository settings.
const repoKey = "backup/repository"

// Keeper keeps the repository's settings in the state database, with the
// password, Env (S3 keys, REST basic auth) and a URL's own password sealed
// by AES-GCM under the key in <data>/backup.key.
type Keeper struct {
	DB      *kv.DB
	DataDir string
}

type storedRepo struct {
	// URL is the location as shown (Repo.Redacted: no password).
	URL         string `json:"url"`
	SFTPCommand string `json:"sftp_command,omitempty"`
	// Sealed is the password, Env and the full URL, as JSON, sealed.
	Sealed string `json:"sealed"`
}

type secrets struct {
	Password string            `json:"password"`
	Env      map[string]string `json:"env,omitempty"`
	// URL is the location with its credentials (a rest: URL's password),
	// when it has any; empty in records written before it was kept here.
	URL string `json:"url,omitempty"`
}

// Configure sets the repository up: with an empty repo.Password a new one is
// generated, the repository is created (or, when it exists, opened with the
// password), and the settings are stored. It returns the password, which
// the caller shows to the admin once.
func (k Keeper) Configure(ctx context.Context, repo Repo) (string, error) {
	if repo.URL == "" {
		return "", errors.New("configure backups: give the repository's location (a folder, sftp:user@host:/path, rest:URL or s3:URL)")
	}
	if repo.Password == "" {
		b := make([]byte, 24)
		rand.Read(b)
		repo.Password = base64.RawURLEncoding.EncodeToString(b)
	}
	if err := repo.Init(ctx); err != nil {
		return "", fmt.Errorf("configure backups: %w", err)
	}
	if err := k.Save(repo); err != nil {
		return "", err
	}
	return repo.Password, nil
}

// Save stores repo's settings without touching the repository.
func (k Keeper) Save(repo Repo) error {
	key, err := k.key(true)
	if err != nil {
		return err
	}
	sec := secrets{Password: repo.Password, Env: repo.Env}
	if repo.Redacted() != repo.URL {
		sec.URL = repo.URL
	}
	plain, _ := json.Marshal(sec)
	sealed, err := seal(key, plain)
	if err != nil {
		return err
	}
	if err := k.DB.Put(repoKey, storedRepo{URL: repo.Redacted(), SFTPCommand: repo.SFTPCommand, Sealed: sealed}); err != nil {
		return fmt.Errorf("store backup settings: %w", err)
	}
	return nil
}

// Repo returns the configured repository, password unsealed.
func (k Keeper) Repo() (Repo, error) {
	var st storedRepo
	if err := k.DB.Get(repoKey, &st); errors.Is(err, kv.ErrNotFound) {
		return Repo{}, i18n.Errorf(ErrNotConfigured, "no backup repository is configured: set one up with `stackhub backup init REPOSITORY`")
	} else if err != nil {
		return Repo{}, fmt.Errorf("read backup settings: %w", err)
	}
	key, err := k.key(false)
	if err != nil {
		return Repo{}, err
	}
	plain, err := unseal(key, st.Sealed)
	if err != nil {
		return Repo{}, fmt.Errorf("unseal the backup password with %s: %w (the key file does not match this state database: configure the repository again with its password)", filepath.Join(k.DataDir, KeyFile), err)
	}
	var s secrets
	if err := json.Unmarshal(plain, &s); err != nil {
		return Repo{}, fmt.Errorf("read backup secrets: %w", err)
	}
	url := st.URL
	if s.URL != "" {
		url = s.URL
	}
	return Repo{URL: url, SFTPCommand: st.SFTPCommand, Password: s.Password, Env: s.Env}, nil
}

// Sealed returns the stored record as it is in the state database, for
// tests and audits: no password or credential may appear in it.
func (k Keeper) Sealed() ([]byte, error) {
	var st storedRepo
	if err := k.DB.Get(repoKey, &st); err != nil {
		return nil, err
	}
	return json.Marshal(st)
}

func (k Keeper) key(create bool) ([]byte, error) {
	p := filepath.Join(k.DataDir, KeyFile)
	b, err := os.ReadFile(p)
	if err == nil {
		if len(b) != 32 {
			return nil, fmt.Errorf("backup key %s is damaged (%d bytes, want 32)", p, len(b))
		}
		return b, nil
	}
	if !errors.Is(err, os.ErrNotExist) || !create {
		return nil, fmt.Errorf("read backup key %s: %w", p, err)
	}
	b = make([]byte, 32)
	rand.Read(b)
	if err := os.MkdirAll(k.DataDir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create backup key %s: %w", p, err)
	}
	_, err = f.Write(b)
	if cerr := f.Sync(); err == nil {
		err = cerr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("write backup key %s: %w", p, err)
	}
	return b, nil
}

func seal(key, plain []byte) (string, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, gcm.NonceSize())
	rand.Read(nonce)
	return base64.StdEncoding.EncodeToString(gcm.Seal(nonce, nonce, plain, []byte(repoKey))), nil
}

func unseal(key []byte, sealed string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	if len(b) < gcm.NonceSize() {
		return nil, errors.New("sealed value too short")
	}
	return gcm.Open(nil, b[:gcm.NonceSize()], b[gcm.NonceSize():], []byte(repoKey))
}

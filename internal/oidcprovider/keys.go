package oidcprovider

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/stackhub/stackhub/internal/kv"
)

const keyKeys = "oidc/keys"

// keysRecord holds the provider's secrets: the token signing key and the
// key that encrypts opaque access tokens. Generated once, kept in kv.
type keysRecord struct {
	SigningKeyID string `json:"signing_key_id"`
	SigningKey   []byte `json:"signing_key"` // PKCS#8 DER
	CryptoKey    []byte `json:"crypto_key"`  // 32 bytes
}

type keys struct {
	id     string
	priv   *rsa.PrivateKey
	crypto [32]byte
}

// loadKeys reads the keys from kv, generating them on first use.
func loadKeys(db *kv.DB) (*keys, error) {
	var rec keysRecord
	err := db.Update(func(t *kv.Txn) error {
		err := t.Get(keyKeys, &rec)
		if err == nil {
			return nil
		}
		if !errors.Is(err, kv.ErrNotFound) {
			return err
		}
		priv, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return err
		}
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			return err
		}
		rec = keysRecord{SigningKeyID: randomID(12), SigningKey: der, CryptoKey: make([]byte, 32)}
		if _, err := rand.Read(rec.CryptoKey); err != nil {
			return err
		}
		return t.Put(keyKeys, rec)
	})
	if err != nil {
		return nil, fmt.Errorf("oidc keys: %w", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(rec.SigningKey)
	if err != nil {
		return nil, fmt.Errorf("oidc keys: signing key: %w", err)
	}
	priv, ok := k.(*rsa.PrivateKey)
	if !ok || len(rec.CryptoKey) != 32 {
		return nil, errors.New("oidc keys: stored keys are not an RSA key and a 32-byte key")
	}
	out := &keys{id: rec.SigningKeyID, priv: priv}
	copy(out.crypto[:], rec.CryptoKey)
	return out, nil
}

// signingKey is op.SigningKey.
type signingKey struct{ k *keys }

func (s signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (s signingKey) Key() any                                    { return s.k.priv }
func (s signingKey) ID() string                                  { return s.k.id }

// publicKey is op.Key.
type publicKey struct{ k *keys }

func (p publicKey) ID() string                         { return p.k.id }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return &p.k.priv.PublicKey }

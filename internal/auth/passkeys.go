package auth

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/stackhub/stackhub/internal/kv"
)

// Passkeys (WebAuthn, github.com/go-webauthn/webauthn).
//
// A passkey is a discoverable credential created with user verification
// required, so one passkey sign-in proves possession of the device and the
// user's PIN or biometric: it replaces the password and the TOTP code.
// The relying party is the portal's host (my.<domain>), not the base
// domain, so no app subdomain can ask the browser for the portal's
// passkeys; assertions are accepted only from the portal's origin.
//
// Storage: "auth/passkeys/<user>" holds the user's random 64-byte user
// handle, the user's creation time and their credentials (public keys and
// sign counters only); "auth/passkey-handle/<hex handle>" maps a handle
// back to the user for usernameless sign-in. The creation time guards
// against a removed user's passkeys signing in as a new user of the same
// name. Ceremonies in progress live in memory for CeremonyTTL.
const (
	keyPasskeys      = "auth/passkeys/"
	keyPasskeyHandle = "auth/passkey-handle/"
	keyPasskeyPolicy = "auth/passkey-policy"

	// CeremonyTTL is how long a registration or sign-in may take.
	CeremonyTTL = 5 * time.Minute
	// MaxPasskeys per user.
	MaxPasskeys = 20
)

// Errors of the passkey flows.
var (
	ErrPasskeyRequired = &Error{"admins of this StackHub sign in with a passkey (or, if the device is lost, a recovery code)"}
	ErrPasskeyFailed   = &Error{"the passkey was not accepted: try again, or sign in with your password"}
	ErrPasskeyNotFound = &Error{"no such passkey"}
)

// PasskeyConfig is the relying party.
type PasskeyConfig struct {
	// RPID is the portal's host, "my.<domain>".
	RPID string
	// Origin is the portal's origin, "https://my.<domain>[:port]".
	Origin string
	// Name is shown by the browser ("StackHub").
	Name string
}

// Passkeys runs the WebAuthn ceremonies of a Service.
type Passkeys struct {
	s  *Service
	wa *webauthn.WebAuthn

	mu         sync.Mutex
	ceremonies map[string]*ceremony // digest(token) → ceremony
}

type ceremony struct {
	user    string // registration: the signed-in user; sign-in: ""
	data    webauthn.SessionData
	expires time.Time
}

// PasskeyInfo is a registered passkey as shown to its owner.
type PasskeyInfo struct {
	ID       string    `json:"id"` // base64url credential id
	Name     string    `json:"name"`
	Created  time.Time `json:"created"`
	LastUsed time.Time `json:"last_used,omitzero"`
}

type storedPasskey struct {
	Name       string              `json:"name"`
	Created    time.Time           `json:"created"`
	LastUsed   time.Time           `json:"last_used,omitzero"`
	Credential webauthn.Credential `json:"credential"`
}

type passkeyRecord struct {
	Handle      []byte          `json:"handle"`
	UserCreated time.Time       `json:"user_created"`
	Keys        []storedPasskey `json:"keys"`
}

// passkeyUser is webauthn.User.
type passkeyUser struct {
	name string
	rec  *passkeyRecord
}

func (u passkeyUser) WebAuthnID() []byte          { return u.rec.Handle }
func (u passkeyUser) WebAuthnName() string        { return u.name }
func (u passkeyUser) WebAuthnDisplayName() string { return u.name }
func (u passkeyUser) WebAuthnCredentials() []webauthn.Credential {
	out := make([]webauthn.Credential, len(u.rec.Keys))
	for i, k := range u.rec.Keys {
		out[i] = k.Credential
	}
	return out
}

// NewPasskeys returns the passkey flows of s for relying party cfg.
func NewPasskeys(s *Service, cfg PasskeyConfig) (*Passkeys, error) {
	if cfg.Name == "" {
		cfg.Name = "StackHub"
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID: cfg.RPID, RPDisplayName: cfg.Name, RPOrigins: []string{cfg.Origin},
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification:   protocol.VerificationRequired,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("passkeys: %w", err)
	}
	p := &Passkeys{s: s, wa: wa, ceremonies: map[string]*ceremony{}}
	s.OnUserRevoked(p.forgetRemovedUser)
	return p, nil
}

// forgetRemovedUser deletes the passkeys of a user who was removed (not
// merely disabled), so a later user of the same name starts with none.
func (p *Passkeys) forgetRemovedUser(name string) {
	p.s.db.Update(func(t *kv.Txn) error {
		var u userRecord
		if err := getUser(t, name, &u); !errors.Is(err, ErrUserNotFound) {
			return nil
		}
		var rec passkeyRecord
		if t.Get(keyPasskeys+name, &rec) == nil {
			if err := t.Delete(keyPasskeyHandle + hex.EncodeToString(rec.Handle)); err != nil {
				return err
			}
		}
		return t.Delete(keyPasskeys + name)
	})
}

// userPasskeysTxn reads user name's passkey record in t (see
// passkeyRecordTxn); ErrUserNotFound when there is no such user.
func userPasskeysTxn(t *kv.Txn, name string) (*passkeyRecord, error) {
	var u userRecord
	if err := getUser(t, name, &u); err != nil {
		return nil, err
	}
	return passkeyRecordTxn(t, name, &u)
}

// passkeyRecordTxn reads the user's passkey record in t, creating its handle (not
// stored until a passkey is) when there is none. A record left by a removed
// user of the same name is ignored.
func passkeyRecordTxn(t *kv.Txn, name string, u *userRecord) (*passkeyRecord, error) {
	var rec passkeyRecord
	err := t.Get(keyPasskeys+name, &rec)
	if err == nil && rec.UserCreated.Equal(u.Created) {
		return &rec, nil
	}
	if err != nil && !errors.Is(err, kv.ErrNotFound) {
		return nil, err
	}
	h := make([]byte, 64)
	if _, err := rand.Read(h); err != nil {
		return nil, err
	}
	return &passkeyRecord{Handle: h, UserCreated: u.Created}, nil
}

func (p *Passkeys) remember(c *ceremony) string {
	tok := randomToken(32)
	now := p.s.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, v := range p.ceremonies {
		if now.After(v.expires) {
			delete(p.ceremonies, k)
		}
	}
	if len(p.ceremonies) > 10000 {
		// Bounded: the oldest ceremonies are simply forgotten.
		for k := range p.ceremonies {
			delete(p.ceremonies, k)
			if len(p.ceremonies) <= 5000 {
				break
			}
		}
	}
	c.expires = now.Add(CeremonyTTL)
	p.ceremonies[digest("passkey", tok)] = c
	return tok
}

// take returns and forgets the ceremony of tok: each is used once.
func (p *Passkeys) take(tok string) (*ceremony, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := digest("passkey", tok)
	c, ok := p.ceremonies[k]
	delete(p.ceremonies, k)
	if !ok || p.s.now().After(c.expires) {
		return nil, false
	}
	return c, true
}

// BeginRegistration starts adding a passkey for the signed-in user name.
// It returns the options for navigator.credentials.create (JSON) and a
// token that FinishRegistration needs.
func (p *Passkeys) BeginRegistration(name string) ([]byte, string, error) {
	var rec *passkeyRecord
	err := p.s.db.View(func(t *kv.Txn) error {
		var err error
		rec, err = userPasskeysTxn(t, name)
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("add passkey for %s: %w", name, err)
	}
	if len(rec.Keys) >= MaxPasskeys {
		return nil, "", fmt.Errorf("add passkey for %s: %w", name, &Error{fmt.Sprintf("at most %d passkeys per account: remove one first", MaxPasskeys)})
	}
	var exclude []protocol.CredentialDescriptor
	for _, k := range rec.Keys {
		exclude = append(exclude, k.Credential.Descriptor())
	}
	opts, data, err := p.wa.BeginRegistration(passkeyUser{name, rec}, webauthn.WithExclusions(exclude))
	if err != nil {
		return nil, "", fmt.Errorf("add passkey for %s: %w", name, err)
	}
	b, err := json.Marshal(opts)
	if err != nil {
		return nil, "", err
	}
	return b, p.remember(&ceremony{user: name, data: *data}), nil
}

// FinishRegistration checks the browser's answer (body: the
// PublicKeyCredential as JSON) and stores the new passkey under label.
func (p *Passkeys) FinishRegistration(name, token, label string, body []byte) (PasskeyInfo, error) {
	c, ok := p.take(token)
	if !ok || c.user != name {
		return PasskeyInfo{}, fmt.Errorf("add passkey for %s: %w", name, &Error{"this passkey registration expired: start again"})
	}
	parsed, err := protocol.ParseCredentialCreationResponseBody(bytes.NewReader(body))
	if err != nil {
		return PasskeyInfo{}, fmt.Errorf("add passkey for %s: %w (%v)", name, ErrPasskeyFailed, err)
	}
	label = strings.TrimSpace(label)
	if label == "" || len(label) > 64 {
		label = "Passkey"
	}
	var info PasskeyInfo
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	err = p.s.db.Update(func(t *kv.Txn) error {
		rec, err := userPasskeysTxn(t, name)
		if err != nil {
			return err
		}
		if len(rec.Keys) == 0 {
			// The first passkey: the record is stored now, with the
			// handle the browser was given at BeginRegistration.
			rec.Handle = c.data.UserID
		}
		if !bytes.Equal(rec.Handle, c.data.UserID) {
			return fmt.Errorf("%w (the account's passkeys changed meanwhile)", ErrPasskeyFailed)
		}
		cred, err := p.wa.CreateCredential(passkeyUser{name, rec}, c.data, parsed)
		if err != nil {
			return fmt.Errorf("%w (%v)", ErrPasskeyFailed, err)
		}
		if !cred.Flags.UserVerified {
			return fmt.Errorf("%w (the authenticator did not verify the user)", ErrPasskeyFailed)
		}
		now := p.s.now().UTC()
		rec.Keys = append(rec.Keys, storedPasskey{Name: label, Created: now, Credential: *cred})
		info = PasskeyInfo{ID: base64.RawURLEncoding.EncodeToString(cred.ID), Name: label, Created: now}
		if err := t.Put(keyPasskeyHandle+hex.EncodeToString(rec.Handle), name); err != nil {
			return err
		}
		return t.Put(keyPasskeys+name, rec)
	})
	if err != nil {
		return PasskeyInfo{}, fmt.Errorf("add passkey for %s: %w", name, err)
	}
	return info, nil
}

// List returns the user's passkeys.
func (p *Passkeys) List(name string) ([]PasskeyInfo, error) {
	return p.s.PasskeysOf(name)
}

// PasskeysOf returns the user's passkeys (none for a removed user's
// leftovers).
func (s *Service) PasskeysOf(name string) ([]PasskeyInfo, error) {
	var out []PasskeyInfo
	err := s.db.View(func(t *kv.Txn) error {
		rec, err := userPasskeysTxn(t, name)
		if err != nil {
			return err
		}
		for _, k := range rec.Keys {
			out = append(out, PasskeyInfo{ID: base64.RawURLEncoding.EncodeToString(k.Credential.ID), Name: k.Name, Created: k.Created, LastUsed: k.LastUsed})
		}
		return nil
	})
	return out, err
}

// Remove deletes one of the user's passkeys.
func (p *Passkeys) Remove(name, id string) error {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	err := p.s.db.Update(func(t *kv.Txn) error {
		rec, err := userPasskeysTxn(t, name)
		if err != nil {
			return err
		}
		for i, k := range rec.Keys {
			if base64.RawURLEncoding.EncodeToString(k.Credential.ID) == id {
				rec.Keys = append(rec.Keys[:i], rec.Keys[i+1:]...)
				return t.Put(keyPasskeys+name, rec)
			}
		}
		return ErrPasskeyNotFound
	})
	if err != nil {
		return fmt.Errorf("remove passkey of %s: %w", name, err)
	}
	return nil
}

// BeginLogin starts a usernameless sign-in: options for
// navigator.credentials.get (JSON, user verification required) and a token
// for FinishLogin.
func (p *Passkeys) BeginLogin() ([]byte, string, error) {
	opts, data, err := p.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, "", fmt.Errorf("passkey sign-in: %w", err)
	}
	b, err := json.Marshal(opts)
	if err != nil {
		return nil, "", err
	}
	return b, p.remember(&ceremony{data: *data}), nil
}

// FinishLogin checks the browser's assertion (body: the
// PublicKeyCredential as JSON) and, when it is valid, verified the user and
// belongs to an enabled user, creates a portal session: a passkey is both
// factors. The sign counter is checked and updated in the same kv
// transaction, so a cloned authenticator replaying an old counter fails.
func (p *Passkeys) FinishLogin(token string, body []byte, clientIP string) (NewSession, string, error) {
	c, ok := p.take(token)
	if !ok {
		return NewSession{}, "", fmt.Errorf("passkey sign-in: %w", &Error{"this passkey sign-in expired: start again"})
	}
	parsed, err := protocol.ParseCredentialRequestResponseBody(bytes.NewReader(body))
	if err != nil {
		return NewSession{}, "", fmt.Errorf("passkey sign-in: %w (%v)", ErrPasskeyFailed, err)
	}
	// Who it claims to be, from the user handle; the signature decides.
	name, err := p.handleUser(parsed.Response.UserHandle)
	if err != nil {
		return NewSession{}, "", fmt.Errorf("passkey sign-in: %w", ErrPasskeyFailed)
	}
	now := p.s.now()
	at, err := p.s.begin(name, clientIP, now, false)
	if err != nil {
		return NewSession{}, "", fmt.Errorf("passkey sign-in as %q: %w", name, err)
	}
	var ns NewSession
	p.s.mu.Lock()
	err = p.s.db.Update(func(t *kv.Txn) error {
		if err := checkUserTxn(t, name); err != nil {
			return err
		}
		rec, err := userPasskeysTxn(t, name)
		if err != nil {
			return err
		}
		if len(rec.Keys) == 0 {
			return ErrPasskeyFailed
		}
		handler := func(rawID, userHandle []byte) (webauthn.User, error) {
			if !bytes.Equal(userHandle, rec.Handle) {
				return nil, ErrPasskeyFailed
			}
			return passkeyUser{name, rec}, nil
		}
		_, cred, err := p.wa.ValidatePasskeyLogin(handler, c.data, parsed)
		if err != nil {
			return fmt.Errorf("%w (%v)", ErrPasskeyFailed, err)
		}
		if !cred.Flags.UserVerified || cred.Authenticator.CloneWarning {
			return ErrPasskeyFailed
		}
		for i := range rec.Keys {
			if bytes.Equal(rec.Keys[i].Credential.ID, cred.ID) {
				rec.Keys[i].Credential.Authenticator = cred.Authenticator
				rec.Keys[i].Credential.Flags = cred.Flags
				rec.Keys[i].LastUsed = now.UTC()
			}
		}
		if err := t.Put(keyPasskeys+name, rec); err != nil {
			return err
		}
		ns, err = p.s.createSessionTxn(t, name, now)
		return err
	})
	p.s.mu.Unlock()
	if err != nil {
		at.end(errors.Is(err, ErrPasskeyFailed) || errors.Is(err, ErrInvalidCredentials))
		return NewSession{}, "", fmt.Errorf("passkey sign-in as %q: %w", name, err)
	}
	at.end(false)
	at.succeeded()
	return ns, name, nil
}

func (p *Passkeys) handleUser(handle []byte) (string, error) {
	if len(handle) == 0 || len(handle) > 64 {
		return "", ErrPasskeyFailed
	}
	var name string
	if err := p.s.db.Get(keyPasskeyHandle+hex.EncodeToString(handle), &name); err != nil {
		return "", ErrPasskeyFailed
	}
	return name, nil
}

// passkeyPolicy is stored under keyPasskeyPolicy.
type passkeyPolicy struct {
	RequiredForAdmins bool `json:"required_for_admins,omitempty"`
}

// PasskeysRequiredForAdmins reports whether admins must sign in with a
// passkey.
func (s *Service) PasskeysRequiredForAdmins() (bool, error) {
	var pol passkeyPolicy
	if err := s.db.Get(keyPasskeyPolicy, &pol); err != nil && !errors.Is(err, kv.ErrNotFound) {
		return false, err
	}
	return pol.RequiredForAdmins, nil
}

// SetPasskeysRequiredForAdmins turns the requirement on or off. While on,
// an admin who has a passkey cannot sign in with password and TOTP code
// (a recovery code still works, for a lost device); an admin without one
// still can, so they can add one.
func (s *Service) SetPasskeysRequiredForAdmins(on bool) error {
	if err := s.db.Put(keyPasskeyPolicy, passkeyPolicy{RequiredForAdmins: on}); err != nil {
		return fmt.Errorf("change passkey requirement: %w", err)
	}
	return nil
}

// passkeyRequiredTxn refuses a password-and-code sign-in of an admin who
// has a passkey while passkeys are required for admins.
func passkeyRequiredTxn(t *kv.Txn, name string) error {
	var pol passkeyPolicy
	if err := t.Get(keyPasskeyPolicy, &pol); err != nil || !pol.RequiredForAdmins {
		return nil
	}
	var u userRecord
	if err := getUser(t, name, &u); err != nil || u.Role != RoleAdmin {
		return nil
	}
	rec, err := passkeyRecordTxn(t, name, &u)
	if err != nil {
		return err
	}
	if len(rec.Keys) > 0 {
		return ErrPasskeyRequired
	}
	return nil
}

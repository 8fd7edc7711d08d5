package auth

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/stackhub/stackhub/internal/kv"
)

// TOTP parameters: RFC 6238 defaults (30 s, 6 digits, HMAC-SHA1), because
// those are the only ones every authenticator app implements correctly.
const (
	totpPeriod     = 30
	totpSecretSize = 20 // bytes: 160 bits, RFC 4226's recommendation
	// totpSkew is the accepted window: the current step and one step on
	// either side (clock drift and typing time), never more.
	totpSkew = 1
)

var totpOpts = hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// totpRecord is a user's second factor.
type totpRecord struct {
	// Secret is the active secret (base32); empty when not enrolled.
	Secret string `json:"secret,omitempty"`
	// Pending is a secret shown to the user but not yet confirmed with a
	// valid code; it is never accepted for sign-in.
	Pending        string    `json:"pending,omitempty"`
	PendingCreated time.Time `json:"pending_created,omitzero"`
	// LastStep is the replay guard: the highest time step ever accepted
	// for Secret. Any code for a step ≤ LastStep is refused, which makes
	// every code single-use even inside its validity window.
	LastStep int64 `json:"last_step,omitempty"`
	// Recovery holds digests of the unused recovery codes.
	Recovery []string `json:"recovery,omitempty"`
}

func getTOTP(t *kv.Txn, name string) (*totpRecord, error) {
	var r totpRecord
	if err := t.Get(keyTOTP+name, &r); err != nil && !errors.Is(err, kv.ErrNotFound) {
		return nil, err
	}
	return &r, nil
}

func totpStep(now time.Time) int64 {
	u := now.Unix()
	if u < 0 {
		return 0
	}
	return u / totpPeriod
}

// matchTOTP returns the time step that code is valid for, among the steps
// in the window that are greater than last. All candidate steps are
// computed, so the time taken does not depend on which one matched.
func matchTOTP(secret, code string, now time.Time, last int64) (int64, bool) {
	code = strings.Join(strings.Fields(code), "")
	if len(code) != totpOpts.Digits.Length() {
		return 0, false
	}
	cur := totpStep(now)
	found := int64(-1)
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		st := cur + d
		if st < 0 {
			continue
		}
		want, err := hotp.GenerateCodeCustom(secret, uint64(st), totpOpts)
		if err != nil {
			return 0, false
		}
		if ctEqual(want, code) && st > last && found < 0 {
			found = st
		}
	}
	return found, found >= 0
}

// Enrolment is what the user needs to add StackHub to an authenticator
// app: a QR code of URL, or the manual key.
type Enrolment struct {
	Issuer  string
	Account string
	// Secret is the base32 secret (no padding).
	Secret string
	// URL is the otpauth:// URL to render as a QR code.
	URL string
}

// ManualKey is Secret in groups of four, for typing.
func (e Enrolment) ManualKey() string {
	var b strings.Builder
	for i := 0; i < len(e.Secret); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(e.Secret[i:min(i+4, len(e.Secret))])
	}
	return b.String()
}

// QRCode renders URL as a PNG image of size×size pixels.
func (e Enrolment) QRCode(size int) ([]byte, error) {
	k, err := otp.NewKeyFromURL(e.URL)
	if err != nil {
		return nil, fmt.Errorf("QR code: %w", err)
	}
	img, err := k.Image(size, size)
	if err != nil {
		return nil, fmt.Errorf("QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("QR code: %w", err)
	}
	return buf.Bytes(), nil
}

func (s *Service) enrolment(name, secret string) (Enrolment, error) {
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		return Enrolment{}, fmt.Errorf("stored TOTP secret: %w", err)
	}
	// A ':' separates issuer and account in the otpauth label.
	issuer := strings.ReplaceAll(s.opts.Issuer, ":", " ")
	k, err := totp.Generate(totp.GenerateOpts{
		Issuer: issuer, AccountName: name, Period: totpPeriod, Secret: raw,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return Enrolment{}, err
	}
	return Enrolment{Issuer: issuer, Account: name, Secret: k.Secret(), URL: k.URL()}, nil
}

func newTOTPSecret() string {
	b := make([]byte, totpSecretSize)
	_, _ = rand.Read(b)
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
}

// pendingTxn returns the user's pending secret, creating one when there is
// none or the last one is older than ChallengeTTL. Reusing a recent one
// keeps the QR code stable across a page reload (the user may already have
// scanned it); replacing an old one limits how long a secret that was on
// screen but never confirmed stays usable.
func (s *Service) pendingTxn(t *kv.Txn, name string, now time.Time) (string, error) {
	var u userRecord
	if err := getUser(t, name, &u); err != nil {
		return "", err
	}
	tr, err := getTOTP(t, name)
	if err != nil {
		return "", err
	}
	if tr.Secret != "" {
		return "", ErrTOTPActive
	}
	if tr.Pending != "" && now.Sub(tr.PendingCreated) < s.opts.ChallengeTTL {
		return tr.Pending, nil
	}
	tr.Pending, tr.PendingCreated = newTOTPSecret(), now.UTC()
	return tr.Pending, t.Put(keyTOTP+name, tr)
}

// confirmTxn activates the pending secret when code is valid for it,
// records the accepted step and issues fresh recovery codes.
func confirmTxn(t *kv.Txn, name, code string, now time.Time, codes []string) error {
	tr, err := getTOTP(t, name)
	if err != nil {
		return err
	}
	if tr.Secret != "" {
		return ErrTOTPActive
	}
	if tr.Pending == "" {
		return ErrTOTPNotEnrolled
	}
	// The replay guard starts over with a new secret: its codes have
	// nothing in common with the old one's.
	st, ok := matchTOTP(tr.Pending, code, now, -1)
	if !ok {
		return ErrInvalidCode
	}
	*tr = totpRecord{Secret: tr.Pending, LastStep: st, Recovery: recoveryDigests(name, codes)}
	return t.Put(keyTOTP+name, tr)
}

// confirmSecretTxn activates secret (a pending sign-in's own) when code is
// valid for it and the user has no active secret yet: the first
// half-session to confirm wins, every other one's secret stays unused.
func confirmSecretTxn(t *kv.Txn, name, secret, code string, now time.Time, codes []string) error {
	if secret == "" {
		return ErrTOTPNotEnrolled
	}
	tr, err := getTOTP(t, name)
	if err != nil {
		return err
	}
	if tr.Secret != "" {
		return ErrTOTPActive
	}
	st, ok := matchTOTP(secret, code, now, -1)
	if !ok {
		return ErrInvalidCode
	}
	*tr = totpRecord{Secret: secret, LastStep: st, Recovery: recoveryDigests(name, codes)}
	return t.Put(keyTOTP+name, tr)
}

// verifyTOTPTxn checks code against the active secret and the replay guard
// and, on success, stores the accepted step in the same transaction. The
// caller creates the session in that transaction too, so "code accepted"
// and "step recorded" commit together or not at all; two concurrent
// requests with one code conflict in badger and the retry sees the new
// step and refuses.
func verifyTOTPTxn(t *kv.Txn, name, code string, now time.Time) error {
	tr, err := getTOTP(t, name)
	if err != nil {
		return err
	}
	if tr.Secret == "" {
		return ErrTOTPNotEnrolled
	}
	st, ok := matchTOTP(tr.Secret, code, now, tr.LastStep)
	if !ok {
		return ErrInvalidCode
	}
	tr.LastStep = st
	return t.Put(keyTOTP+name, tr)
}

// useRecoveryTxn consumes one recovery code.
func useRecoveryTxn(t *kv.Txn, name, code string) error {
	tr, err := getTOTP(t, name)
	if err != nil {
		return err
	}
	norm, ok := normalizeRecovery(code)
	if !ok || tr.Secret == "" {
		return ErrInvalidRecoveryCode
	}
	d := digest("recovery/"+name, norm)
	idx := -1
	for i, h := range tr.Recovery {
		if ctEqual(h, d) {
			idx = i
		}
	}
	if idx < 0 {
		return ErrInvalidRecoveryCode
	}
	tr.Recovery = append(tr.Recovery[:idx:idx], tr.Recovery[idx+1:]...)
	return t.Put(keyTOTP+name, tr)
}

// Recovery codes: 16 characters of Crockford's base32 (80 bits), shown as
// xxxx-xxxx-xxxx-xxxx. 80 random bits make a plain SHA-256 digest safe to
// store (nothing to brute-force), and the alphabet has no 0/o or 1/l pairs
// to confuse when read from paper.
const recoveryAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

func newRecoveryCodes() []string {
	codes := make([]string, RecoveryCodeCount)
	b := make([]byte, 16)
	for i := range codes {
		_, _ = rand.Read(b)
		var sb strings.Builder
		for j, c := range b {
			if j > 0 && j%4 == 0 {
				sb.WriteByte('-')
			}
			sb.WriteByte(recoveryAlphabet[c&31])
		}
		codes[i] = sb.String()
	}
	return codes
}

func normalizeRecovery(code string) (string, bool) {
	var sb strings.Builder
	for _, r := range strings.ToLower(code) {
		switch {
		case r == '-' || r == ' ':
			continue
		case r == 'o':
			r = '0'
		case r == 'i' || r == 'l':
			r = '1'
		}
		if r > 0x7f || !strings.ContainsRune(recoveryAlphabet, r) {
			return "", false
		}
		sb.WriteRune(r)
	}
	if sb.Len() != 16 {
		return "", false
	}
	return sb.String(), true
}

func recoveryDigests(name string, codes []string) []string {
	out := make([]string, len(codes))
	for i, c := range codes {
		n, _ := normalizeRecovery(c)
		out[i] = digest("recovery/"+name, n)
	}
	return out
}

// BeginTOTPEnrolment starts (or resumes) TOTP enrolment for a signed-in
// user, for example from the account page when TOTP is optional. The
// secret is not active until ConfirmTOTPEnrolment. Enrolment during sign-in
// goes through the challenge instead (LoginEnrolment).
func (s *Service) BeginTOTPEnrolment(name string) (Enrolment, error) {
	n, err := NormalizeUsername(name)
	if err != nil {
		return Enrolment{}, err
	}
	var secret string
	err = s.db.Update(func(t *kv.Txn) error {
		var err error
		secret, err = s.pendingTxn(t, n, s.now())
		return err
	})
	if err != nil {
		return Enrolment{}, fmt.Errorf("set up two-factor authentication for %s: %w", n, err)
	}
	return s.enrolment(n, secret)
}

// ConfirmTOTPEnrolment activates the pending secret with a first valid
// code and returns the user's recovery codes (shown once, stored hashed).
func (s *Service) ConfirmTOTPEnrolment(name, code string) ([]string, error) {
	n, err := NormalizeUsername(name)
	if err != nil {
		return nil, err
	}
	codes := newRecoveryCodes()
	err = s.db.Update(func(t *kv.Txn) error { return confirmTxn(t, n, code, s.now(), codes) })
	if err != nil {
		return nil, fmt.Errorf("confirm two-factor authentication for %s: %w", n, err)
	}
	return codes, nil
}

// RegenerateRecoveryCodes replaces all recovery codes of a user with TOTP
// and returns the new ones; the old ones stop working.
func (s *Service) RegenerateRecoveryCodes(name string) ([]string, error) {
	n, err := NormalizeUsername(name)
	if err != nil {
		return nil, err
	}
	codes := newRecoveryCodes()
	err = s.db.Update(func(t *kv.Txn) error {
		tr, err := getTOTP(t, n)
		if err != nil {
			return err
		}
		if tr.Secret == "" {
			return ErrTOTPNotEnrolled
		}
		tr.Recovery = recoveryDigests(n, codes)
		return t.Put(keyTOTP+n, tr)
	})
	if err != nil {
		return nil, fmt.Errorf("new recovery codes for %s: %w", n, err)
	}
	return codes, nil
}

// ResetTOTP removes a user's second factor and recovery codes (an admin
// helping a user who lost their phone). With TOTPRequired the user enrols
// again at the next sign-in. The portal allows it to admins only.
func (s *Service) ResetTOTP(name string) error {
	n, err := NormalizeUsername(name)
	if err != nil {
		return err
	}
	err = s.db.Update(func(t *kv.Txn) error {
		if err := getUser(t, n, &userRecord{}); err != nil {
			return err
		}
		return t.Delete(keyTOTP + n)
	})
	if err != nil {
		return fmt.Errorf("reset two-factor authentication of %s: %w", n, err)
	}
	return nil
}

// Settings are platform-wide authentication settings stored in kv.
type Settings struct {
	// TOTPRequired makes every user enrol TOTP at sign-in. Default true.
	TOTPRequired bool
}

// settingsRecord stores the relaxation rather than the requirement, so a
// missing or empty record means "required": the safe value is the default.
type settingsRecord struct {
	TOTPOptional bool `json:"totp_optional,omitempty"`
}

// Settings returns the current settings.
func (s *Service) Settings() (Settings, error) {
	var r settingsRecord
	if err := s.db.Get(keySettings, &r); err != nil && !errors.Is(err, kv.ErrNotFound) {
		return Settings{}, fmt.Errorf("read auth settings: %w", err)
	}
	return Settings{TOTPRequired: !r.TOTPOptional}, nil
}

// SetTOTPRequired changes the TOTP requirement. Relaxing it is this
// explicit call only (no default, no config omission leads there); the
// platform shows a warning in the portal and the log while it is off.
// Users who enrolled keep using TOTP either way.
func (s *Service) SetTOTPRequired(required bool) error {
	if err := s.db.Put(keySettings, settingsRecord{TOTPOptional: !required}); err != nil {
		return fmt.Errorf("change TOTP requirement: %w", err)
	}
	return nil
}

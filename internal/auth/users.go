package auth

import (
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/stackhub/stackhub/internal/kv"
)

// Role is a user's role.
type Role string

const (
	// RoleAdmin manages users, apps and settings.
	RoleAdmin Role = "admin"
	// RoleMember uses the apps their policies allow.
	RoleMember Role = "member"
)

// kv layout of this package. Everything lives under "auth/".
const (
	keyUser        = "auth/user/"         // + name → userRecord
	keyTOTP        = "auth/totp/"         // + name → totpRecord
	keySession     = "auth/session/"      // + digest(token) → sessionRecord
	keyUserSession = "auth/user-session/" // + name + "/" + digest → {} (index for "revoke all")
	keySetup       = "auth/setup"         // → setupRecord (first run only)
	keySettings    = "auth/settings"      // → settingsRecord
)

// User is a user account as shown to admins. It never carries secrets.
type User struct {
	Name     string    `json:"name"`
	Email    string    `json:"email,omitempty"`
	Role     Role      `json:"role"`
	Groups   []string  `json:"groups,omitempty"`
	Disabled bool      `json:"disabled,omitempty"`
	Created  time.Time `json:"created"`
	// TOTPEnabled is true once the user confirmed an authenticator.
	TOTPEnabled bool `json:"totp_enabled"`
	// RecoveryCodesLeft is the number of unused recovery codes.
	RecoveryCodesLeft int `json:"recovery_codes_left"`
}

// NewUser is the input to CreateUser.
type NewUser struct {
	Name     string
	Email    string
	Role     Role // default RoleMember
	Groups   []string
	Password string
}

// UserUpdate changes the non-nil fields of a user.
type UserUpdate struct {
	Email    *string
	Role     *Role
	Groups   *[]string
	Disabled *bool
}

// userRecord is the stored account. Secrets of the second factor live in a
// separate totpRecord, so listing users never reads them.
type userRecord struct {
	Name         string    `json:"name"`
	Email        string    `json:"email,omitempty"`
	Role         Role      `json:"role"`
	Groups       []string  `json:"groups,omitempty"`
	Disabled     bool      `json:"disabled,omitempty"`
	Created      time.Time `json:"created"`
	PasswordHash string    `json:"password_hash"`
}

func (r *userRecord) activeAdmin() bool { return r.Role == RoleAdmin && !r.Disabled }

func (r *userRecord) identity() *Identity {
	return &Identity{User: r.Name, Email: r.Email, Role: r.Role, Groups: slices.Clone(r.Groups)}
}

type setupRecord struct {
	Digest  string    `json:"digest"`
	Created time.Time `json:"created"`
}

// NormalizeUsername lower-cases and trims a user name and validates it:
// 1–32 characters of a–z, 0–9, '.', '_', '-', starting with a letter or
// digit. The same rule covers group names. The charset is narrow on
// purpose: names end up in HTTP headers (X-Stackhub-User, comma-separated
// X-Stackhub-Groups), in logs and in kv keys, where commas, spaces, slashes
// or look-alike Unicode letters would cause confusion or injection.
func NormalizeUsername(name string) (string, error) {
	n, ok := normalizeName(name)
	if !ok {
		return "", ErrInvalidUsername
	}
	return n, nil
}

func normalizeName(name string) (string, bool) {
	n := strings.ToLower(strings.TrimSpace(name))
	if len(n) < 1 || len(n) > 32 {
		return "", false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '.' || c == '_' || c == '-') && i > 0:
		default:
			return "", false
		}
	}
	return n, true
}

func normalizeEmail(e string) (string, error) {
	e = strings.TrimSpace(e)
	if e == "" {
		return "", nil
	}
	if len(e) > 254 || strings.ContainsAny(e, ",;<>\"\\ ") {
		return "", ErrInvalidEmail
	}
	for i := 0; i < len(e); i++ {
		if e[i] < 0x21 || e[i] == 0x7f {
			return "", ErrInvalidEmail
		}
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Name != "" || a.Address != e {
		return "", ErrInvalidEmail
	}
	return e, nil
}

func normalizeGroups(groups []string) ([]string, error) {
	out := make([]string, 0, len(groups))
	for _, g := range groups {
		n, ok := normalizeName(g)
		if !ok {
			return nil, fmt.Errorf("group %q: %w", g, ErrInvalidGroup)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func normalizeRole(r Role) (Role, error) {
	switch Role(strings.ToLower(string(r))) {
	case "", RoleMember:
		return RoleMember, nil
	case RoleAdmin:
		return RoleAdmin, nil
	}
	return "", ErrInvalidRole
}

func (n NewUser) record(now time.Time) (*userRecord, error) {
	name, err := NormalizeUsername(n.Name)
	if err != nil {
		return nil, err
	}
	email, err := normalizeEmail(n.Email)
	if err != nil {
		return nil, err
	}
	groups, err := normalizeGroups(n.Groups)
	if err != nil {
		return nil, err
	}
	role, err := normalizeRole(n.Role)
	if err != nil {
		return nil, err
	}
	if err := checkPasswordPolicy(name, n.Password); err != nil {
		return nil, err
	}
	return &userRecord{Name: name, Email: email, Role: role, Groups: groups, Created: now.UTC()}, nil
}

// CreateUser adds a user. It does not check who asks: the portal allows it
// to admins only, and the local CLI (`stackhub user add [--admin]`) calls
// it directly, which is how a box can be set up without the setup token.
// Creating an admin ends first-run setup (the setup token stops working).
func (s *Service) CreateUser(n NewUser) (User, error) {
	rec, err := n.record(s.now())
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	if rec.PasswordHash, err = s.hashPassword(n.Password); err != nil {
		return User{}, fmt.Errorf("create user %s: %w", rec.Name, err)
	}
	err = s.db.Update(func(t *kv.Txn) error {
		if err := t.Get(keyUser+rec.Name, &userRecord{}); err == nil {
			return ErrUserExists
		} else if !errors.Is(err, kv.ErrNotFound) {
			return err
		}
		if rec.Role == RoleAdmin {
			if err := t.Delete(keySetup); err != nil {
				return err
			}
		}
		return t.Put(keyUser+rec.Name, rec)
	})
	if err != nil {
		return User{}, fmt.Errorf("create user %s: %w", rec.Name, err)
	}
	return rec.public(nil), nil
}

// NeedsSetup reports whether the box has no active admin yet. While it is
// true, the portal shows the first-run page, which requires the setup
// token (see SetupToken and CreateFirstAdmin).
func (s *Service) NeedsSetup() (bool, error) {
	var has bool
	err := s.db.View(func(t *kv.Txn) error {
		var err error
		has, err = hasActiveAdmin(t, "")
		return err
	})
	if err != nil {
		return false, fmt.Errorf("check first-run setup: %w", err)
	}
	return !has, nil
}

// SetupToken creates a new one-time setup token while NeedsSetup is true
// and returns it; the platform prints it in its log at start. Only its
// digest is stored, and each call replaces the previous token, so a token
// from an old log stops working at the next start. It returns ErrSetupDone
// once an admin exists.
//
// Why a token: between the first start and the first admin, anyone who
// reaches the portal could otherwise claim the box. Reading the log needs
// access to the machine, which is exactly the person who should be admin.
func (s *Service) SetupToken() (string, error) {
	tok := randomToken(24)
	err := s.db.Update(func(t *kv.Txn) error {
		has, err := hasActiveAdmin(t, "")
		if err != nil {
			return err
		}
		if has {
			return ErrSetupDone
		}
		return t.Put(keySetup, setupRecord{Digest: digest("setup", tok), Created: s.now().UTC()})
	})
	if err != nil {
		return "", fmt.Errorf("create setup token: %w", err)
	}
	return tok, nil
}

// CreateFirstAdmin creates the first admin from the portal's first-run
// page. It needs the setup token; checking the token, checking that no
// admin exists, creating the admin and deleting the token happen in one
// transaction, so two racing browsers cannot both succeed.
func (s *Service) CreateFirstAdmin(setupToken string, n NewUser) (User, error) {
	n.Role = RoleAdmin
	rec, err := n.record(s.now())
	if err != nil {
		return User{}, fmt.Errorf("first-run setup: %w", err)
	}
	// Check the token before the (slow) hash, to not hand out free argon2
	// work to anonymous callers.
	if err := s.checkSetupToken(setupToken); err != nil {
		return User{}, fmt.Errorf("first-run setup: %w", err)
	}
	if rec.PasswordHash, err = s.hashPassword(n.Password); err != nil {
		return User{}, fmt.Errorf("first-run setup: %w", err)
	}
	err = s.db.Update(func(t *kv.Txn) error {
		if err := checkSetupTxn(t, setupToken); err != nil {
			return err
		}
		if err := t.Get(keyUser+rec.Name, &userRecord{}); err == nil {
			return ErrUserExists
		} else if !errors.Is(err, kv.ErrNotFound) {
			return err
		}
		if err := t.Delete(keySetup); err != nil {
			return err
		}
		return t.Put(keyUser+rec.Name, rec)
	})
	if err != nil {
		return User{}, fmt.Errorf("first-run setup: %w", err)
	}
	return rec.public(nil), nil
}

func (s *Service) checkSetupToken(tok string) error {
	return s.db.View(func(t *kv.Txn) error { return checkSetupTxn(t, tok) })
}

func checkSetupTxn(t *kv.Txn, tok string) error {
	has, err := hasActiveAdmin(t, "")
	if err != nil {
		return err
	}
	if has {
		return ErrSetupDone
	}
	var rec setupRecord
	if err := t.Get(keySetup, &rec); errors.Is(err, kv.ErrNotFound) {
		return ErrSetupToken
	} else if err != nil {
		return err
	}
	if tok == "" || !ctEqual(rec.Digest, digest("setup", tok)) {
		return ErrSetupToken
	}
	return nil
}

// hasActiveAdmin reports whether an enabled admin other than except exists.
// It reads every user: a home server has a handful, and reading them in
// the transaction makes concurrent demotions conflict instead of both
// passing the check.
func hasActiveAdmin(t *kv.Txn, except string) (bool, error) {
	for _, k := range t.Keys(keyUser) {
		var r userRecord
		if err := t.Get(k, &r); err != nil {
			return false, err
		}
		if r.Name != except && r.activeAdmin() {
			return true, nil
		}
	}
	return false, nil
}

// GetUser returns one user.
func (s *Service) GetUser(name string) (User, error) {
	n, err := NormalizeUsername(name)
	if err != nil {
		return User{}, err
	}
	var u User
	err = s.db.View(func(t *kv.Txn) error {
		var r userRecord
		if err := getUser(t, n, &r); err != nil {
			return err
		}
		tr, err := getTOTP(t, n)
		if err != nil {
			return err
		}
		u = r.public(tr)
		return nil
	})
	if err != nil {
		return User{}, fmt.Errorf("user %s: %w", n, err)
	}
	return u, nil
}

// Users lists all users by name.
func (s *Service) Users() ([]User, error) {
	var out []User
	err := s.db.View(func(t *kv.Txn) error {
		for _, k := range t.Keys(keyUser) {
			var r userRecord
			if err := t.Get(k, &r); err != nil {
				return err
			}
			tr, err := getTOTP(t, r.Name)
			if err != nil {
				return err
			}
			out = append(out, r.public(tr))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

func getUser(t *kv.Txn, name string, r *userRecord) error {
	err := t.Get(keyUser+name, r)
	if errors.Is(err, kv.ErrNotFound) {
		return ErrUserNotFound
	}
	return err
}

func (r *userRecord) public(tr *totpRecord) User {
	u := User{Name: r.Name, Email: r.Email, Role: r.Role, Groups: slices.Clone(r.Groups), Disabled: r.Disabled, Created: r.Created}
	if tr != nil {
		u.TOTPEnabled = tr.Secret != ""
		u.RecoveryCodesLeft = len(tr.Recovery)
	}
	return u
}

// UpdateUser changes a user's e-mail, role, groups or disabled flag. The
// last active admin can be neither demoted nor disabled. Changes reach the
// user's app sessions at once (the gate sees the new groups and role on the
// next request); disabling signs the user out everywhere.
func (s *Service) UpdateUser(name string, ch UserUpdate) (User, error) {
	n, err := NormalizeUsername(name)
	if err != nil {
		return User{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var rec userRecord
	var tr *totpRecord
	err = s.db.Update(func(t *kv.Txn) error {
		rec = userRecord{}
		if err := getUser(t, n, &rec); err != nil {
			return err
		}
		wasAdmin := rec.activeAdmin()
		if ch.Email != nil {
			e, err := normalizeEmail(*ch.Email)
			if err != nil {
				return err
			}
			rec.Email = e
		}
		if ch.Role != nil {
			r, err := normalizeRole(*ch.Role)
			if err != nil {
				return err
			}
			rec.Role = r
		}
		if ch.Groups != nil {
			g, err := normalizeGroups(*ch.Groups)
			if err != nil {
				return err
			}
			rec.Groups = g
		}
		if ch.Disabled != nil {
			rec.Disabled = *ch.Disabled
		}
		if wasAdmin && !rec.activeAdmin() {
			has, err := hasActiveAdmin(t, n)
			if err != nil {
				return err
			}
			if !has {
				return ErrLastAdmin
			}
		}
		if rec.Disabled {
			if err := deleteUserSessionsTxn(t, n); err != nil {
				return err
			}
		}
		var err error
		if tr, err = getTOTP(t, n); err != nil {
			return err
		}
		return t.Put(keyUser+n, &rec)
	})
	if err != nil {
		return User{}, fmt.Errorf("update user %s: %w", n, err)
	}
	if rec.Disabled {
		s.dropUserLocked(n)
		s.userRevoked(n)
	} else if lu := s.liveUsers[n]; lu != nil {
		lu.ident.Store(rec.identity())
	}
	return rec.public(tr), nil
}

// DeleteUser removes a user, their second factor and all their sessions;
// their app sessions stop working at once. The last active admin cannot be
// removed.
func (s *Service) DeleteUser(name string) error {
	n, err := NormalizeUsername(name)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err = s.db.Update(func(t *kv.Txn) error {
		var rec userRecord
		if err := getUser(t, n, &rec); err != nil {
			return err
		}
		if rec.activeAdmin() {
			has, err := hasActiveAdmin(t, n)
			if err != nil {
				return err
			}
			if !has {
				return ErrLastAdmin
			}
		}
		if err := deleteUserSessionsTxn(t, n); err != nil {
			return err
		}
		if err := t.Delete(keyTOTP + n); err != nil {
			return err
		}
		if err := t.Delete(keyPrefs + n); err != nil {
			return err
		}
		return t.Delete(keyUser + n)
	})
	if err != nil {
		return fmt.Errorf("remove user %s: %w", n, err)
	}
	s.dropUserLocked(n)
	s.userRevoked(n)
	return nil
}

// SetPassword sets a user's password (an admin reset, or the user's own
// change after the portal re-checked the old one). It signs the user out
// everywhere: whoever knew the old password must not keep a session.
func (s *Service) SetPassword(name, password string) error {
	n, err := NormalizeUsername(name)
	if err != nil {
		return err
	}
	if err := checkPasswordPolicy(n, password); err != nil {
		return fmt.Errorf("set password of %s: %w", n, err)
	}
	h, err := s.hashPassword(password)
	if err != nil {
		return fmt.Errorf("set password of %s: %w", n, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err = s.db.Update(func(t *kv.Txn) error {
		var rec userRecord
		if err := getUser(t, n, &rec); err != nil {
			return err
		}
		rec.PasswordHash = h
		if err := deleteUserSessionsTxn(t, n); err != nil {
			return err
		}
		return t.Put(keyUser+n, &rec)
	})
	if err != nil {
		return fmt.Errorf("set password of %s: %w", n, err)
	}
	s.dropUserLocked(n)
	return nil
}

// VerifyPassword checks a user's password under the same rate limits as
// sign-in, for re-authentication before sensitive changes (changing one's
// own password or second factor). clientIP is the resolved client address.
func (s *Service) VerifyPassword(name, password, clientIP string) error {
	_, err := s.checkPassword(name, password, clientIP)
	return err
}

// checkPassword is the first sign-in factor: rate limits, then the hash,
// with the same answer and about the same time for unknown users, wrong
// passwords and disabled accounts.
func (s *Service) checkPassword(name, password, clientIP string) (*userRecord, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if len(n) > 64 {
		n = n[:64] // bound the limiter key; such a name is invalid anyway
	}
	// The attempt takes its rate-limit slots before anything is checked,
	// so parallel guesses get no more checks than the limit.
	at, err := s.begin(n, clientIP, s.now(), false)
	if err != nil {
		return nil, fmt.Errorf("sign in as %q: %w", n, err)
	}
	at.holdOnSuccess = true
	failed := false
	defer func() { at.end(failed) }()
	fail := func() (*userRecord, error) {
		failed = true
		return nil, fmt.Errorf("sign in as %q: %w", n, ErrInvalidCredentials)
	}
	if len(password) > MaxPasswordBytes {
		return fail()
	}
	var rec userRecord
	err = s.db.View(func(t *kv.Txn) error { return getUser(t, n, &rec) })
	if errors.Is(err, ErrUserNotFound) || (err == nil && rec.PasswordHash == "") {
		if err := s.burnHash(password); err != nil {
			return nil, fmt.Errorf("sign in as %q: %w", n, err)
		}
		return fail()
	}
	if err != nil {
		return nil, fmt.Errorf("sign in as %q: %w", n, err)
	}
	ok, rehash, err := s.verifyPassword(rec.PasswordHash, password)
	if err != nil {
		return nil, fmt.Errorf("sign in as %q: stored password hash: %w", n, err)
	}
	if !ok || rec.Disabled {
		return fail()
	}
	if rehash {
		// Upgrade the hash to the current parameters while we have the
		// password. A failure here is not a sign-in failure.
		if h, err := s.hashPassword(password); err == nil {
			_ = s.db.Update(func(t *kv.Txn) error {
				var cur userRecord
				if err := getUser(t, n, &cur); err != nil {
					return err
				}
				if cur.PasswordHash != rec.PasswordHash {
					return nil // changed meanwhile
				}
				cur.PasswordHash = h
				return t.Put(keyUser+n, &cur)
			})
		}
	}
	return &rec, nil
}

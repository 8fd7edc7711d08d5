package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/stackhub/stackhub/internal/kv"
)

// Defaults. Each one is the value used when the matching Options field is
// zero; the reasoning is in the package documentation.
const (
	// DefaultSessionIdle signs a portal session (and every app session
	// derived from it) out after this long without any activity.
	DefaultSessionIdle = 12 * time.Hour
	// DefaultSessionMax is the absolute lifetime of a portal session,
	// however active it is: sign in again at least once a week.
	DefaultSessionMax = 7 * 24 * time.Hour
	// DefaultTicketTTL is how long an app-access ticket may wait to be
	// redeemed: only the length of one redirect.
	DefaultTicketTTL = 60 * time.Second
	// DefaultChallengeTTL is how long the second sign-in step (TOTP code or
	// enrolment) may take after the password was accepted.
	DefaultChallengeTTL = 10 * time.Minute
	// DefaultIssuer is the issuer shown by authenticator apps.
	DefaultIssuer = "StackHub"
	// RecoveryCodeCount is how many one-time recovery codes a user gets.
	RecoveryCodeCount = 10
	// DefaultMaxHashes: two password hashes at a time (2 × 19 MiB with
	// DefaultArgon2), whatever the number of sign-ins in flight.
	DefaultMaxHashes = 2
	// DefaultHashWait is how long a sign-in waits for a free hash slot.
	DefaultHashWait = 3 * time.Second
)

// Options configure a Service. The zero value gives the documented defaults.
type Options struct {
	// Issuer is the name authenticator apps show next to the account,
	// e.g. "StackHub (home.example.com)". Default DefaultIssuer.
	Issuer string

	// SessionIdle and SessionMax: see DefaultSessionIdle, DefaultSessionMax.
	SessionIdle time.Duration
	SessionMax  time.Duration
	// TicketTTL: see DefaultTicketTTL.
	TicketTTL time.Duration
	// ChallengeTTL: see DefaultChallengeTTL.
	ChallengeTTL time.Duration

	// UserLimit (per user name and address), IPLimit (per address) and
	// UserTotalLimit (per user name, all addresses: the guard): see
	// DefaultUserLimit, DefaultIPLimit and DefaultUserTotalLimit.
	UserLimit      Limit
	IPLimit        Limit
	UserTotalLimit Limit

	// MaxHashes bounds the password hashes computed at the same time (each
	// takes Argon2.Memory); default DefaultMaxHashes. A sign-in that finds
	// them all busy waits up to HashWait (default DefaultHashWait), then
	// gets a *BusyError (the portal answers 429 with Retry-After).
	MaxHashes int
	HashWait  time.Duration

	// Argon2 are the parameters for new password hashes. Default
	// DefaultArgon2. Existing hashes keep their own parameters and are
	// re-hashed with these at the next successful sign-in.
	Argon2 Argon2Params

	// Now is the clock; tests inject one. Default time.Now.
	Now func() time.Time
}

func (o *Options) setDefaults() {
	if o.Issuer == "" {
		o.Issuer = DefaultIssuer
	}
	if o.SessionIdle <= 0 {
		o.SessionIdle = DefaultSessionIdle
	}
	if o.SessionMax <= 0 {
		o.SessionMax = DefaultSessionMax
	}
	if o.TicketTTL <= 0 {
		o.TicketTTL = DefaultTicketTTL
	}
	if o.ChallengeTTL <= 0 {
		o.ChallengeTTL = DefaultChallengeTTL
	}
	if o.UserLimit.Max <= 0 {
		o.UserLimit = DefaultUserLimit
	}
	if o.IPLimit.Max <= 0 {
		o.IPLimit = DefaultIPLimit
	}
	if o.UserTotalLimit.Max <= 0 {
		o.UserTotalLimit = DefaultUserTotalLimit
	}
	if o.MaxHashes <= 0 {
		o.MaxHashes = DefaultMaxHashes
	}
	if o.HashWait <= 0 {
		o.HashWait = DefaultHashWait
	}
	if o.Argon2.Memory == 0 {
		o.Argon2 = DefaultArgon2
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Service is the authentication state of one platform: users and sessions
// in kv, plus the in-memory parts (app tokens, tickets, pending sign-ins,
// rate limits). There is one Service per process, like the kv handle it
// wraps. It is safe for concurrent use.
type Service struct {
	db   *kv.DB
	opts Options
	now  func() time.Time

	// hashSem bounds concurrent argon2 computations, so a burst of sign-in
	// attempts cannot take more than MaxHashes times the hash memory.
	hashSem   chan struct{}
	hashHook  func(delta int) // tests: called as a hash starts (+1) and ends (-1)
	dummyOnce sync.Once
	dummyHash string

	pairs *limiter // user name + address
	ips   *limiter // address
	users *limiter // user name, all addresses (the guard)
	nets  *limiter // user name + network: failed within the window?

	// mu guards the slow-path in-memory state below and serialises the kv
	// transactions whose outcome that state mirrors (user changes, session
	// revocation), so memory never lags behind kv. The hot path (CheckApp)
	// never takes it.
	mu         sync.Mutex
	live       map[string]*liveSession // session key → live session
	liveUsers  map[string]*liveUser    // user name → live user
	tickets    map[string]*ticket      // sha256(ticket) → ticket
	challenges map[string]*challenge   // sha256(token) → pending sign-in

	// tokens holds app tokens by selector, sharded so readers on different
	// cores rarely share a lock.
	tokens [tokenShards]tokenShard

	revokeHooks []func(user string) // see OnUserRevoked
}

// New returns the Service over db. db stays owned by the caller.
func New(db *kv.DB, opts Options) (*Service, error) {
	if db == nil {
		return nil, fmt.Errorf("auth: no state database")
	}
	opts.setDefaults()
	if err := opts.Argon2.validate(); err != nil {
		return nil, fmt.Errorf("auth: password hash parameters: %w", err)
	}
	nets := newLimiter(Limit{Max: 1 << 30, Window: opts.UserTotalLimit.Window}, maxLimiterKeys)
	nets.lastOnly = true
	s := &Service{
		db:         db,
		opts:       opts,
		now:        opts.Now,
		hashSem:    make(chan struct{}, opts.MaxHashes),
		pairs:      newLimiter(opts.UserLimit, maxLimiterKeys),
		ips:        newLimiter(opts.IPLimit, maxLimiterKeys),
		users:      newLimiter(opts.UserTotalLimit, maxLimiterKeys),
		nets:       nets,
		live:       map[string]*liveSession{},
		liveUsers:  map[string]*liveUser{},
		tickets:    map[string]*ticket{},
		challenges: map[string]*challenge{},
	}
	for i := range s.tokens {
		s.tokens[i].m = map[string]*appToken{}
	}
	return s, nil
}

// Options returns the effective options (defaults filled in).
func (s *Service) Options() Options { return s.opts }

// randomToken returns n random bytes as unpadded base64url text.
func randomToken(n int) string {
	b := make([]byte, n)
	// crypto/rand.Read never fails on supported platforms (Go ≥ 1.24
	// crashes the program instead of returning an error).
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// digest is the lookup key for a high-entropy secret (session id, ticket,
// setup token). A fast hash suffices: the inputs are 256-bit random values,
// so there is nothing to brute-force, and storing only the digest means a
// copy of the database does not contain usable sessions.
func digest(domain, secret string) string {
	h := sha256.New()
	h.Write([]byte(domain))
	h.Write([]byte{0})
	h.Write([]byte(secret))
	return hex.EncodeToString(h.Sum(nil))
}

// ctEqual compares two strings in time that depends only on their lengths,
// without allocating (subtle.ConstantTimeCompare needs []byte conversions,
// which allocate on the hot path).
func ctEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	b = b[:len(a)] // lets the compiler drop the bounds checks
	var v byte
	for i := 0; i < len(a); i++ {
		v |= a[i] ^ b[i]
	}
	return v == 0
}

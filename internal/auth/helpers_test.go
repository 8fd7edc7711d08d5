package auth

import (
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/stackhub/stackhub/internal/kv"
)

// clock is an injectable, manually advanced clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// t0 is 10 s into a TOTP step, so steps are easy to reason about.
var t0 = time.Date(2026, 11, 22, 12, 0, 10, 0, time.UTC)

// Cheap argon2 parameters: the tests hash many passwords.
var testArgon2 = Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

const (
	pw     = "correct horse battery"
	ipA    = "192.0.2.1"
	ipB    = "198.51.100.7"
	vault  = "vault.home.example"
	wiki   = "wiki.home.example"
	portal = "my.home.example"
)

type env struct {
	t   testing.TB
	dir string
	db  *kv.DB
	s   *Service
	clk *clock
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), clk: &clock{t: t0}}
	e.open()
	t.Cleanup(func() { e.db.Close() })
	return e
}

// open opens (or reopens) the kv and a new Service over it.
func (e *env) open() {
	e.t.Helper()
	db, err := kv.Open(e.dir)
	if err != nil {
		e.t.Fatal(err)
	}
	s, err := New(db, Options{Now: e.clk.Now, Argon2: testArgon2})
	if err != nil {
		e.t.Fatal(err)
	}
	e.db, e.s = db, s
}

// reopen simulates a process restart.
func (e *env) reopen() {
	e.t.Helper()
	if err := e.db.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.open()
}

func (e *env) addUser(name string, role Role, groups ...string) {
	e.t.Helper()
	if _, err := e.s.CreateUser(NewUser{Name: name, Email: name + "@home.example", Role: role, Groups: groups, Password: pw}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) code(secret string, at time.Time) string {
	e.t.Helper()
	c, err := totp.GenerateCode(secret, at)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// enrol signs name in for the first time (password, enrolment, first
// code) and returns the session, the TOTP secret and the recovery codes.
func (e *env) enrol(name string) (NewSession, string, []string) {
	e.t.Helper()
	ch, err := e.s.Login(name, pw, ipA)
	if err != nil {
		e.t.Fatal(err)
	}
	if ch.Next != NextEnrol {
		e.t.Fatalf("first sign-in: next = %v, want enrol", ch.Next)
	}
	en, err := e.s.LoginEnrolment(ch.Token)
	if err != nil {
		e.t.Fatal(err)
	}
	ns, codes, err := e.s.LoginConfirmEnrolment(ch.Token, e.code(en.Secret, e.clk.Now()), ipA)
	if err != nil {
		e.t.Fatal(err)
	}
	return ns, en.Secret, codes
}

// login signs an enrolled user in with a TOTP code for time at.
func (e *env) login(name, secret string, at time.Time) (NewSession, error) {
	e.t.Helper()
	ch, err := e.s.Login(name, pw, ipA)
	if err != nil {
		return NewSession{}, err
	}
	if ch.Next != NextTOTP {
		e.t.Fatalf("next = %v, want totp", ch.Next)
	}
	return e.s.LoginTOTP(ch.Token, e.code(secret, at), ipA)
}

// appToken opens host for a session: ticket, then redemption.
func (e *env) appToken(ns NewSession, host string) string {
	e.t.Helper()
	tk, err := e.s.IssueTicket(ns.Token, host, "/", BindingOf(testNonce))
	if err != nil {
		e.t.Fatal(err)
	}
	as, err := e.s.RedeemTicket(tk, host, testNonce)
	if err != nil {
		e.t.Fatal(err)
	}
	return as.Token
}

// testNonce is the browser nonce of the tests' tickets.
var testNonce = NewBrowserNonce()

package auth

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestParallelGuessesGetNoMoreChecksThanTheLimit: 60 wrong passwords and
// the right one, all at once from one address, get at most the limit's
// worth of password checks; the others are refused before any hash.
func TestParallelGuessesGetNoMoreChecksThanTheLimit(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", RoleMember)
	var hashes atomic.Int64
	e.s.hashHook = func(d int) {
		if d > 0 {
			hashes.Add(1)
		}
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	var checked, locked, signedIn atomic.Int64
	for i := range 61 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := fmt.Sprintf("wrong password %d", i)
			if i == 30 {
				p = pw
			}
			<-start
			_, err := e.s.Login("alice", p, ipA)
			switch {
			case err == nil:
				signedIn.Add(1)
				checked.Add(1)
			case errors.Is(err, ErrInvalidCredentials):
				checked.Add(1)
			case errors.Is(err, ErrLocked):
				locked.Add(1)
			default:
				t.Errorf("attempt %d: %v", i, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if n := checked.Load(); n > int64(DefaultUserLimit.Max) || hashes.Load() > int64(DefaultUserLimit.Max) {
		t.Errorf("%d answers from a password check and %d hashes, want at most %d", n, hashes.Load(), DefaultUserLimit.Max)
	}
	if locked.Load() < 61-int64(DefaultUserLimit.Max) {
		t.Errorf("only %d attempts refused", locked.Load())
	}
	// And afterwards the address is locked for alice, right password or not.
	if _, err := e.s.Login("alice", pw, ipA); !errors.Is(err, ErrLocked) && signedIn.Load() == 0 {
		t.Errorf("after the burst: %v", err)
	}
}

// TestPasswordHashesAreBounded: no more than MaxHashes hashes run at once;
// a sign-in that finds every slot busy for HashWait gets a *BusyError.
func TestPasswordHashesAreBounded(t *testing.T) {
	e := newEnv(t)
	e.s.opts.HashWait = 50 * time.Millisecond // the length does not matter to the outcome
	for i := range 5 {
		if _, err := e.s.CreateUser(NewUser{Name: fmt.Sprintf("u%d", i), Role: RoleMember, Password: pw}); err != nil {
			t.Fatal(err)
		}
	}
	var running, peak atomic.Int64
	release := make(chan struct{})
	e.s.hashHook = func(d int) {
		if d > 0 {
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			<-release // hold the slot until the others have given up
			return
		}
		running.Add(-1)
	}
	results := make(chan error, 5)
	for i := range 5 {
		go func() {
			_, err := e.s.Login(fmt.Sprintf("u%d", i), pw, fmt.Sprintf("192.0.2.%d", 10+i))
			results <- err
		}()
	}
	var busy int
	for range 3 {
		err := <-results
		d, ok := RetryAfter(err)
		if !errors.Is(err, ErrBusy) || !ok || d <= 0 {
			t.Fatalf("beyond the bound: %v", err)
		}
		busy++
	}
	close(release)
	for range 2 {
		if err := <-results; err != nil {
			t.Errorf("within the bound: %v", err)
		}
	}
	if peak.Load() != int64(DefaultMaxHashes) || busy != 3 {
		t.Errorf("peak %d concurrent hashes, %d busy answers; want %d and 3", peak.Load(), busy, DefaultMaxHashes)
	}
}

// TestNobodyLocksAUserOutFromElsewhere: failures from other networks
// never refuse a network without failures, while the user's total stays
// bounded: under guard, networks that failed are refused and every other
// network gets a single attempt, even in a parallel burst.
func TestNobodyLocksAUserOutFromElsewhere(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", RoleMember)
	// Five wrong passwords from one address lock alice there only.
	for range DefaultUserLimit.Max {
		_, _ = e.s.Login("alice", "wrong password!", ipA)
	}
	if _, err := e.s.Login("alice", pw, ipA); !errors.Is(err, ErrLocked) {
		t.Fatalf("from the failing address: %v", err)
	}
	if _, err := e.s.Login("alice", pw, ipB); err != nil {
		t.Fatalf("from a clean address: %v", err)
	}
	// Attackers on many networks fill alice's total: she is under guard.
	for n := 0; n*DefaultUserLimit.Max < DefaultUserTotalLimit.Max; n++ {
		for range DefaultUserLimit.Max {
			_, _ = e.s.Login("alice", "wrong password!", fmt.Sprintf("100.64.%d.1", n))
		}
	}
	// A network that failed is refused, from any address in it.
	if _, err := e.s.Login("alice", pw, "100.64.0.200"); !errors.Is(err, ErrLocked) {
		t.Errorf("failed network under guard: %v", err)
	}
	// Alice from home (no failures there) signs in.
	if _, err := e.s.Login("alice", pw, "203.0.113.5"); err != nil {
		t.Errorf("clean network under guard: %v", err)
	}
	// A fresh network gets one attempt, even all at once.
	var wg sync.WaitGroup
	var checked atomic.Int64
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.s.Login("alice", "another guess!", "198.18.7.9"); errors.Is(err, ErrInvalidCredentials) {
				checked.Add(1)
			}
		}()
	}
	wg.Wait()
	if checked.Load() != 1 {
		t.Errorf("fresh network under guard: %d checks, want 1", checked.Load())
	}
	if _, err := e.s.Login("alice", pw, "198.18.7.10"); !errors.Is(err, ErrLocked) {
		t.Errorf("that network again: %v", err)
	}
	// The guard ends with its lockout.
	e.clk.Add(DefaultUserTotalLimit.Lockout + DefaultUserTotalLimit.Window)
	if _, err := e.s.Login("alice", pw, "100.64.0.200"); err != nil {
		t.Errorf("after the guard: %v", err)
	}
}

// TestHalfSignedInSessionsDoNotShareTheEnrolmentSecret: an attacker who
// knows alice's password signs in while alice enrols. Each pending
// sign-in has its own secret; after alice confirms, the attacker's secret
// neither confirms nor signs in.
func TestHalfSignedInSessionsDoNotShareTheEnrolmentSecret(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", RoleMember)
	alice, err := e.s.Login("alice", pw, ipA)
	if err != nil || alice.Next != NextEnrol {
		t.Fatalf("alice: %v %v", alice.Next, err)
	}
	mallory, err := e.s.Login("alice", pw, ipB)
	if err != nil || mallory.Next != NextEnrol {
		t.Fatalf("mallory: %v %v", mallory.Next, err)
	}
	ea, _ := e.s.LoginEnrolment(alice.Token)
	em, _ := e.s.LoginEnrolment(mallory.Token)
	if again, _ := e.s.LoginEnrolment(alice.Token); ea.Secret == "" || ea.Secret == em.Secret || again.Secret != ea.Secret {
		t.Fatalf("secrets: alice %q (again %q), mallory %q", ea.Secret, again.Secret, em.Secret)
	}
	if _, _, err := e.s.LoginConfirmEnrolment(alice.Token, e.code(ea.Secret, e.clk.Now()), ipA); err != nil {
		t.Fatalf("alice confirms: %v", err)
	}
	if ns, _, err := e.s.LoginConfirmEnrolment(mallory.Token, e.code(em.Secret, e.clk.Now()), ipB); !errors.Is(err, ErrTOTPActive) || ns.Token != "" {
		t.Errorf("mallory confirms after alice: %v", err)
	}
	if _, err := e.s.LoginEnrolment(mallory.Token); !errors.Is(err, ErrTOTPActive) {
		t.Errorf("mallory's enrolment page after alice's: %v", err)
	}
	e.clk.Add(2 * totpPeriod * time.Second)
	ch, err := e.s.Login("alice", pw, ipB)
	if err != nil || ch.Next != NextTOTP {
		t.Fatalf("sign-in: %v %v", ch.Next, err)
	}
	if _, err := e.s.LoginTOTP(ch.Token, e.code(em.Secret, e.clk.Now()), ipB); !errors.Is(err, ErrInvalidCode) {
		t.Errorf("mallory's secret signs in: %v", err)
	}
	if list, _ := e.s.Sessions("alice"); len(list) != 1 {
		t.Errorf("alice has %d sessions, want only her own", len(list))
	}
}

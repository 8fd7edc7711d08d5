package auth

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestPasswordRightWrongAndUnknownUser(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", RoleAdmin)

	_, errWrong := e.s.Login("alice", "not the password", ipA)
	_, errUnknown := e.s.Login("mallory", pw, ipA)
	for _, err := range []error{errWrong, errUnknown} {
		if !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("err = %v, want ErrInvalidCredentials", err)
		}
	}
	if PublicMessage(errWrong) != PublicMessage(errUnknown) || PublicMessage(errWrong) != "wrong username or password" {
		t.Fatalf("messages differ: %q vs %q", PublicMessage(errWrong), PublicMessage(errUnknown))
	}

	// The name is normalised: "  Alice " is alice.
	ch, err := e.s.Login("  Alice ", pw, ipA)
	if err != nil {
		t.Fatal(err)
	}
	// TOTP is required by default, so a first sign-in must enrol.
	if ch.Next != NextEnrol || ch.Session != nil {
		t.Fatalf("challenge = %+v, want enrolment without a session", ch)
	}
	// A TOTP code is the wrong step for an enrolment challenge.
	if _, err := e.s.LoginTOTP(ch.Token, "123456", ipA); !errors.Is(err, ErrWrongStep) {
		t.Fatalf("LoginTOTP at enrol step: %v", err)
	}
}

func TestDisabledUserLooksLikeWrongPassword(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", RoleAdmin)
	e.addUser("bob", RoleMember)
	yes := true
	if _, err := e.s.UpdateUser("bob", UserUpdate{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Login("bob", pw, ipA); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("disabled user: %v", err)
	}
}

func TestEnrolmentNeedsAValidFirstCode(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", RoleAdmin)
	ch, err := e.s.Login("alice", pw, ipA)
	if err != nil {
		t.Fatal(err)
	}
	en, err := e.s.LoginEnrolment(ch.Token)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(en.URL, "otpauth://totp/") || !strings.Contains(en.URL, "secret="+en.Secret) {
		t.Fatalf("enrolment URL %q", en.URL)
	}
	if len(strings.ReplaceAll(en.ManualKey(), " ", "")) != len(en.Secret) {
		t.Fatalf("manual key %q vs secret %q", en.ManualKey(), en.Secret)
	}
	if png, err := en.QRCode(200); err != nil || len(png) < 100 {
		t.Fatalf("QR code: %d bytes, %v", len(png), err)
	}
	// Reloading the page shows the same secret.
	if en2, _ := e.s.LoginEnrolment(ch.Token); en2.Secret != en.Secret {
		t.Fatal("enrolment secret changed on reload")
	}
	// A wrong first code does not activate anything.
	wrong := e.code(en.Secret, e.clk.Now().Add(-5*time.Minute))
	if _, _, err := e.s.LoginConfirmEnrolment(ch.Token, wrong, ipA); !errors.Is(err, ErrInvalidCode) {
		t.Fatalf("wrong first code: %v", err)
	}
	if u, _ := e.s.GetUser("alice"); u.TOTPEnabled {
		t.Fatal("TOTP active after a wrong first code")
	}
	ns, codes, err := e.s.LoginConfirmEnrolment(ch.Token, e.code(en.Secret, e.clk.Now()), ipA)
	if err != nil {
		t.Fatal(err)
	}
	if ns.Token == "" || len(codes) != RecoveryCodeCount {
		t.Fatalf("session %q, %d recovery codes", ns.Token, len(codes))
	}
	if u, _ := e.s.GetUser("alice"); !u.TOTPEnabled || u.RecoveryCodesLeft != RecoveryCodeCount {
		t.Fatalf("user after enrolment: %+v", u)
	}
	// The challenge is used up.
	if _, _, err := e.s.LoginConfirmEnrolment(ch.Token, e.code(en.Secret, e.clk.Now()), ipA); !errors.Is(err, ErrChallenge) {
		t.Fatalf("reused challenge: %v", err)
	}
}

func TestTOTPCodeWorksOnceAndWindowIsOneStep(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", RoleAdmin)
	_, secret, _ := e.enrol("alice") // accepted step S = step(t0)

	// The enrolment code (step S) cannot sign in again.
	if _, err := e.login("alice", secret, e.clk.Now()); !errors.Is(err, ErrInvalidCode) {
		t.Fatalf("enrolment code reused: %v", err)
	}

	// Two steps later: the current code works once.
	e.clk.Add(2 * totpPeriod * time.Second) // now S+2
	if _, err := e.login("alice", secret, e.clk.Now()); err != nil {
		t.Fatalf("current code: %v", err)
	}
	if _, err := e.login("alice", secret, e.clk.Now()); !errors.Is(err, ErrInvalidCode) {
		t.Fatalf("same code again: %v", err)
	}
	if PublicMessage(ErrInvalidCode) == "" {
		t.Fatal("no message")
	}

	// A code two steps old is refused, even though it was never used.
	e.clk.Add(5 * totpPeriod * time.Second) // now S+7, last accepted S+2
	if _, err := e.login("alice", secret, e.clk.Now().Add(-2*totpPeriod*time.Second)); !errors.Is(err, ErrInvalidCode) {
		t.Fatalf("code two steps old: %v", err)
	}
	// A code one step old is accepted, once.
	old := e.clk.Now().Add(-totpPeriod * time.Second)
	if _, err := e.login("alice", secret, old); err != nil {
		t.Fatalf("code one step old: %v", err)
	}
	if _, err := e.login("alice", secret, old); !errors.Is(err, ErrInvalidCode) {
		t.Fatalf("code one step old, again: %v", err)
	}
	// And once a step is accepted, earlier steps are over too.
	e.clk.Add(totpPeriod * time.Second) // now S+8, last accepted S+6
	if _, err := e.login("alice", secret, e.clk.Now()); err != nil {
		t.Fatalf("next code: %v", err)
	}
	if _, err := e.login("alice", secret, e.clk.Now().Add(-totpPeriod*time.Second)); !errors.Is(err, ErrInvalidCode) {
		t.Fatalf("earlier step after a later one: %v", err)
	}
}

func TestReplayGuardSurvivesRestart(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", RoleAdmin)
	_, secret, _ := e.enrol("alice")
	e.clk.Add(3 * totpPeriod * time.Second)
	if _, err := e.login("alice", secret, e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	e.reopen()
	if _, err := e.login("alice", secret, e.clk.Now()); !errors.Is(err, ErrInvalidCode) {
		t.Fatalf("code replayed after restart: %v", err)
	}
	e.clk.Add(totpPeriod * time.Second)
	if _, err := e.login("alice", secret, e.clk.Now()); err != nil {
		t.Fatalf("next code after restart: %v", err)
	}
}

func TestConcurrentUseOfOneCodeSignsInOnce(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", RoleAdmin)
	_, secret, _ := e.enrol("alice")
	e.clk.Add(2 * totpPeriod * time.Second)
	code := e.code(secret, e.clk.Now())
	const n = 4 // within the per-user failure limit
	chs := make([]string, n)
	for i := range chs {
		ch, err := e.s.Login("alice", pw, ipA)
		if err != nil {
			t.Fatal(err)
		}
		chs[i] = ch.Token
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for _, ch := range chs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.s.LoginTOTP(ch, code, ipA); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("%d sign-ins with one code, want 1", ok)
	}
}

func TestRecoveryCodeWorksOnce(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", RoleAdmin)
	_, _, codes := e.enrol("alice")

	recover := func(code string) error {
		ch, err := e.s.Login("alice", pw, ipA)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.s.LoginRecovery(ch.Token, code, ipA)
		return err
	}
	// Typed in upper case without dashes: still accepted.
	if err := recover(strings.ToUpper(strings.ReplaceAll(codes[3], "-", ""))); err != nil {
		t.Fatalf("recovery code: %v", err)
	}
	if err := recover(codes[3]); !errors.Is(err, ErrInvalidRecoveryCode) {
		t.Fatalf("recovery code reused: %v", err)
	}
	if u, _ := e.s.GetUser("alice"); u.RecoveryCodesLeft != RecoveryCodeCount-1 {
		t.Fatalf("codes left = %d", u.RecoveryCodesLeft)
	}
	if err := recover(codes[4]); err != nil {
		t.Fatalf("another recovery code: %v", err)
	}
	// Regenerating invalidates the old ones.
	fresh, err := e.s.RegenerateRecoveryCodes("alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := recover(codes[5]); !errors.Is(err, ErrInvalidRecoveryCode) {
		t.Fatalf("old code after regeneration: %v", err)
	}
	if err := recover(fresh[0]); err != nil {
		t.Fatalf("new code: %v", err)
	}
}

func TestAdminResetsTOTP(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", RoleAdmin)
	e.addUser("bob", RoleMember)
	e.enrol("bob")
	if err := e.s.ResetTOTP("bob"); err != nil {
		t.Fatal(err)
	}
	ch, err := e.s.Login("bob", pw, ipA)
	if err != nil {
		t.Fatal(err)
	}
	if ch.Next != NextEnrol {
		t.Fatalf("after reset: next = %v, want enrol", ch.Next)
	}
	if err := e.s.ResetTOTP("nobody"); !errors.Is(err, ErrUserNotFound) {
		t.Fatalf("reset of unknown user: %v", err)
	}
}

func TestTOTPOptionalOnlyWhenRelaxedExplicitly(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", RoleAdmin)
	if st, err := e.s.Settings(); err != nil || !st.TOTPRequired {
		t.Fatalf("default settings %+v, %v: TOTP must be required", st, err)
	}
	if err := e.s.SetTOTPRequired(false); err != nil {
		t.Fatal(err)
	}
	ch, err := e.s.Login("alice", pw, ipA)
	if err != nil {
		t.Fatal(err)
	}
	if ch.Next != NextDone || ch.Session == nil {
		t.Fatalf("TOTP optional, not enrolled: %+v", ch)
	}
	if _, _, err := e.s.CheckSession(ch.Session.Token); err != nil {
		t.Fatal(err)
	}
	// A user who enrolled keeps needing the code.
	en, err := e.s.BeginTOTPEnrolment("alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.ConfirmTOTPEnrolment("alice", e.code(en.Secret, e.clk.Now())); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.BeginTOTPEnrolment("alice"); !errors.Is(err, ErrTOTPActive) {
		t.Fatalf("second enrolment: %v", err)
	}
	if ch, _ := e.s.Login("alice", pw, ipA); ch.Next != NextTOTP {
		t.Fatalf("enrolled user, TOTP optional: next = %v", ch.Next)
	}
	if err := e.s.SetTOTPRequired(true); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.s.Settings(); !st.TOTPRequired {
		t.Fatal("requirement not restored")
	}
}

func TestLockoutRefusesRightPasswordUntilWindowPasses(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", RoleAdmin)
	for i := 0; i < DefaultUserLimit.Max; i++ {
		if _, err := e.s.Login("alice", "wrong password!", ipA); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	// Locked: the right password is refused too, from that address.
	_, err := e.s.Login("alice", pw, ipA)
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) {
		t.Fatalf("after %d failures: %v", DefaultUserLimit.Max, err)
	}
	if le.RetryAfter <= 0 || le.RetryAfter > DefaultUserLimit.Lockout {
		t.Fatalf("retry after %v", le.RetryAfter)
	}
	if !strings.Contains(PublicMessage(err), "try again in 15m") {
		t.Fatalf("message %q", PublicMessage(err))
	}
	// Unknown users lock the same way (no user enumeration by lockout).
	for i := 0; i < DefaultUserLimit.Max; i++ {
		_, _ = e.s.Login("ghost", "x", ipB)
	}
	if _, err := e.s.Login("ghost", "x", ipB); !errors.Is(err, ErrLocked) {
		t.Fatalf("unknown user not locked: %v", err)
	}
	e.clk.Add(DefaultUserLimit.Lockout - time.Second)
	if _, err := e.s.Login("alice", pw, ipA); !errors.Is(err, ErrLocked) {
		t.Fatalf("lock lifted early: %v", err)
	}
	e.clk.Add(time.Second)
	if _, err := e.s.Login("alice", pw, ipA); err != nil {
		t.Fatalf("after the lockout: %v", err)
	}
}

func TestFailuresSpreadOverTheWindowDoNotLock(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", RoleAdmin)
	for i := 0; i < 3*DefaultUserLimit.Max; i++ {
		_, _ = e.s.Login("alice", "wrong password!", ipA)
		e.clk.Add(DefaultUserLimit.Window / time.Duration(DefaultUserLimit.Max-1))
	}
	if _, err := e.s.Login("alice", pw, ipA); err != nil {
		t.Fatalf("slow failures locked the user: %v", err)
	}
}

func TestWrongTOTPCodesCountTowardsLockout(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", RoleAdmin)
	_, secret, _ := e.enrol("alice")
	e.clk.Add(2 * totpPeriod * time.Second)
	ch, err := e.s.Login("alice", pw, ipA)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < DefaultUserLimit.Max; i++ {
		if _, err := e.s.LoginTOTP(ch.Token, "000000", ipA); !errors.Is(err, ErrInvalidCode) {
			// (a 1e-6 chance that 000000 is right)
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if _, err := e.s.LoginTOTP(ch.Token, e.code(secret, e.clk.Now()), ipA); !errors.Is(err, ErrLocked) {
		t.Fatalf("right code while locked: %v", err)
	}
}

func TestLockoutPerClientAddress(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", RoleAdmin)
	// Password spraying: one address, many user names.
	for i := 0; i < DefaultIPLimit.Max; i++ {
		_, _ = e.s.Login("user"+string(rune('a'+i)), "guess guess", ipA)
	}
	if _, err := e.s.Login("alice", pw, ipA); !errors.Is(err, ErrLocked) {
		t.Fatalf("sprayed address not locked: %v", err)
	}
	if _, err := e.s.Login("alice", pw, ipB); err != nil {
		t.Fatalf("other address: %v", err)
	}
	// IPv6 addresses count per /64.
	for i := 0; i < DefaultIPLimit.Max; i++ {
		_, _ = e.s.Login("v6user"+string(rune('a'+i)), "guess guess", "2001:db8:1:2::"+string(rune('a'+i%6)))
	}
	if _, err := e.s.Login("alice", pw, "[2001:db8:1:2:ffff::1]:443"); !errors.Is(err, ErrLocked) {
		t.Fatalf("same /64 not locked: %v", err)
	}
	e.clk.Add(DefaultIPLimit.Lockout)
	if _, err := e.s.Login("alice", pw, ipA); err != nil {
		t.Fatalf("after lockout: %v", err)
	}
}

func TestLimiterMemoryIsBounded(t *testing.T) {
	l := newLimiter(Limit{Max: 3, Window: time.Minute, Lockout: time.Minute}, 100)
	for i := 0; i < 1000; i++ {
		l.fail(strings.Repeat("k", i%50)+string(rune(i)), int64(i))
	}
	if len(l.m) > 100 {
		t.Fatalf("%d entries, bound 100", len(l.m))
	}
}

func TestChallengeExpires(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", RoleAdmin)
	_, secret, _ := e.enrol("alice")
	ch, err := e.s.Login("alice", pw, ipA)
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Add(DefaultChallengeTTL + time.Second)
	if _, err := e.s.LoginTOTP(ch.Token, e.code(secret, e.clk.Now()), ipA); !errors.Is(err, ErrChallenge) {
		t.Fatalf("expired challenge: %v", err)
	}
	if _, err := e.s.LoginTOTP("forged", "123456", ipA); !errors.Is(err, ErrChallenge) {
		t.Fatalf("forged challenge: %v", err)
	}
}

func TestPublicMessageHidesInternalErrors(t *testing.T) {
	if got := PublicMessage(errors.New("badger: disk on fire")); strings.Contains(got, "badger") {
		t.Fatalf("internal error leaked: %q", got)
	}
	wrapped := errors.Join(errors.New("ctx"), ErrLastAdmin)
	if PublicMessage(wrapped) != ErrLastAdmin.Error() {
		t.Fatalf("PublicMessage(wrapped) = %q", PublicMessage(wrapped))
	}
}

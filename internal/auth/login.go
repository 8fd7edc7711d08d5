package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/stackhub/stackhub/internal/kv"
)

// maxChallenges bounds pending sign-ins (password accepted, second step
// not done yet). Creating one needs a correct password, so only users can
// fill the table.
const maxChallenges = 10000

// Next is what a sign-in needs after the password.
type Next int

const (
	// NextDone: signed in; Challenge.Session is set. Only when TOTP is
	// optional and the user has not enrolled.
	NextDone Next = iota
	// NextTOTP: ask for a TOTP code (LoginTOTP) or a recovery code
	// (LoginRecovery).
	NextTOTP
	// NextEnrol: TOTP is required and the user has none yet: show
	// LoginEnrolment and ask for the first code (LoginConfirmEnrolment).
	NextEnrol
)

func (n Next) String() string {
	switch n {
	case NextDone:
		return "done"
	case NextTOTP:
		return "totp"
	case NextEnrol:
		return "enrol"
	}
	return fmt.Sprintf("Next(%d)", int(n))
}

// Challenge is a sign-in whose password was accepted.
type Challenge struct {
	// Token identifies the pending sign-in for the next step; the portal
	// keeps it in a short-lived host-only cookie or a hidden form field.
	// It is not a session: alone it gives access to nothing but the next
	// step, which needs the second factor.
	Token   string
	Next    Next
	Expires time.Time
	// Session is the new session when Next is NextDone.
	Session *NewSession
}

type challenge struct {
	user    string
	next    Next
	expires int64
	// pending is the TOTP secret shown to this pending sign-in (NextEnrol
	// only). It belongs to this half-session alone: another sign-in of the
	// same user gets its own, and only the one confirmed first becomes
	// the user's.
	pending string
}

// Login is the first sign-in step: user name and password. clientIP is
// the client address as resolved by Caddy (X-Forwarded-For trusted only
// from configured proxies); it keys the per-address rate limit.
//
// An unknown user, a wrong password and a disabled account give the same
// error (ErrInvalidCredentials) after the same work. While the user name or
// the address is locked out, the answer is a *LockedError without checking
// the password at all, so guessing is useless even with the right one.
func (s *Service) Login(username, password, clientIP string) (Challenge, error) {
	rec, err := s.checkPassword(username, password, clientIP)
	if err != nil {
		return Challenge{}, err
	}
	settings, err := s.Settings()
	if err != nil {
		return Challenge{}, err
	}
	var tr *totpRecord
	err = s.db.View(func(t *kv.Txn) error {
		var err error
		tr, err = getTOTP(t, rec.Name)
		return err
	})
	if err != nil {
		return Challenge{}, fmt.Errorf("sign in as %q: %w", rec.Name, err)
	}
	now := s.now()
	switch {
	case tr.Secret != "":
		return s.newChallenge(rec.Name, NextTOTP, now)
	case settings.TOTPRequired:
		return s.newChallenge(rec.Name, NextEnrol, now)
	}
	var ns NewSession
	err = s.db.Update(func(t *kv.Txn) error {
		if err := checkUserTxn(t, rec.Name); err != nil {
			return err
		}
		var err error
		ns, err = s.createSessionTxn(t, rec.Name, now)
		return err
	})
	if err != nil {
		return Challenge{}, fmt.Errorf("sign in as %q: %w", rec.Name, err)
	}
	s.pairs.reset(rec.Name + "\x00" + ipLimitKey(clientIP))
	return Challenge{Next: NextDone, Session: &ns}, nil
}

func (s *Service) newChallenge(name string, next Next, now time.Time) (Challenge, error) {
	tok := randomToken(32)
	exp := now.Add(s.opts.ChallengeTTL)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.challenges) >= maxChallenges {
		n := now.UnixNano()
		for k, c := range s.challenges {
			if n >= c.expires {
				delete(s.challenges, k)
			}
		}
		if len(s.challenges) >= maxChallenges {
			return Challenge{}, fmt.Errorf("sign in as %q: %w", name, ErrBusy)
		}
	}
	s.challenges[digest("challenge", tok)] = &challenge{user: name, next: next, expires: exp.UnixNano()}
	return Challenge{Token: tok, Next: next, Expires: exp}, nil
}

// challenge returns the pending sign-in for tok if it is at step want.
func (s *Service) challenge(tok string, want Next) (challenge, error) {
	if len(tok) != 43 {
		return challenge{}, ErrChallenge
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.challenges[digest("challenge", tok)]
	if c == nil || s.now().UnixNano() >= c.expires {
		return challenge{}, ErrChallenge
	}
	if c.next != want {
		return challenge{}, ErrWrongStep
	}
	return *c, nil
}

func (s *Service) endChallenge(tok string) {
	s.mu.Lock()
	delete(s.challenges, digest("challenge", tok))
	s.mu.Unlock()
}

// checkUserTxn makes sure the user still exists and is enabled when the
// session is created (it may have been removed during the sign-in).
func checkUserTxn(t *kv.Txn, name string) error {
	var u userRecord
	if err := getUser(t, name, &u); err != nil {
		if errors.Is(err, ErrUserNotFound) {
			return ErrInvalidCredentials
		}
		return err
	}
	if u.Disabled {
		return ErrInvalidCredentials
	}
	return nil
}

// secondFactor runs one second-factor attempt: rate limits, then check and
// session creation in one kv transaction. A failure of check counts
// against the user and the client address like a wrong password.
func (s *Service) secondFactor(chTok string, want Next, clientIP string, check func(t *kv.Txn, c challenge, now time.Time) error) (NewSession, error) {
	c, err := s.challenge(chTok, want)
	if err != nil {
		return NewSession{}, err
	}
	now := s.now()
	at, err := s.begin(c.user, clientIP, now, true)
	if err != nil {
		return NewSession{}, fmt.Errorf("sign in as %q: %w", c.user, err)
	}
	var ns NewSession
	err = s.db.Update(func(t *kv.Txn) error {
		if err := checkUserTxn(t, c.user); err != nil {
			return err
		}
		if err := check(t, c, now); err != nil {
			return err
		}
		var err error
		ns, err = s.createSessionTxn(t, c.user, now)
		return err
	})
	if err != nil {
		var ue *Error
		at.end(errors.As(err, &ue) && (ue == ErrInvalidCode || ue == ErrInvalidRecoveryCode || ue == ErrInvalidCredentials))
		return NewSession{}, fmt.Errorf("sign in as %q: %w", c.user, err)
	}
	at.end(false)
	at.succeeded()
	s.endChallenge(chTok)
	return ns, nil
}

// LoginTOTP is the second sign-in step: a TOTP code. The code is checked
// against the current time step ±1, and against the replay guard (the last
// accepted step): the check, the new guard value and the new session are
// one kv transaction. So each code works once, a code two steps old never
// works, and an intercepted code cannot be replayed, not even after a
// restart.
func (s *Service) LoginTOTP(challengeToken, code, clientIP string) (NewSession, error) {
	return s.secondFactor(challengeToken, NextTOTP, clientIP, func(t *kv.Txn, c challenge, now time.Time) error {
		if err := passkeyRequiredTxn(t, c.user); err != nil { // passkeys.go
			return err
		}
		return verifyTOTPTxn(t, c.user, code, now)
	})
}

// LoginRecovery is the second sign-in step with a one-time recovery code
// instead of a TOTP code. The code is consumed in the transaction that
// creates the session.
func (s *Service) LoginRecovery(challengeToken, code, clientIP string) (NewSession, error) {
	return s.secondFactor(challengeToken, NextTOTP, clientIP, func(t *kv.Txn, c challenge, _ time.Time) error {
		return useRecoveryTxn(t, c.user, code)
	})
}

// LoginEnrolment returns the TOTP enrolment (QR code URL and manual key)
// for a sign-in at step NextEnrol. The secret belongs to this pending
// sign-in: calling it again with the same token returns the same secret,
// another sign-in of the same user gets another one.
func (s *Service) LoginEnrolment(challengeToken string) (Enrolment, error) {
	c, err := s.challenge(challengeToken, NextEnrol)
	if err != nil {
		return Enrolment{}, err
	}
	err = s.db.View(func(t *kv.Txn) error {
		if err := checkUserTxn(t, c.user); err != nil {
			return err
		}
		tr, err := getTOTP(t, c.user)
		if err == nil && tr.Secret != "" {
			err = ErrTOTPActive // enrolled meanwhile, by another sign-in
		}
		return err
	})
	if err != nil {
		return Enrolment{}, fmt.Errorf("set up two-factor authentication for %s: %w", c.user, err)
	}
	s.mu.Lock()
	secret := ""
	if cc := s.challenges[digest("challenge", challengeToken)]; cc != nil {
		if cc.pending == "" {
			cc.pending = newTOTPSecret()
		}
		secret = cc.pending
	}
	s.mu.Unlock()
	if secret == "" {
		return Enrolment{}, ErrChallenge
	}
	return s.enrolment(c.user, secret)
}

// LoginConfirmEnrolment finishes a sign-in at step NextEnrol: the first
// code from the new authenticator activates it, and the session is created
// in the same transaction. It returns the recovery codes to show once.
func (s *Service) LoginConfirmEnrolment(challengeToken, code, clientIP string) (NewSession, []string, error) {
	codes := newRecoveryCodes()
	ns, err := s.secondFactor(challengeToken, NextEnrol, clientIP, func(t *kv.Txn, c challenge, now time.Time) error {
		if err := passkeyRequiredTxn(t, c.user); err != nil { // passkeys.go
			return err
		}
		return confirmSecretTxn(t, c.user, c.pending, code, now, codes)
	})
	if err != nil {
		return NewSession{}, nil, err
	}
	return ns, codes, nil
}

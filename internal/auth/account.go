package auth

import (
	"errors"
	"fmt"

	"github.com/stackhub/stackhub/internal/kv"
)

// The user's own account: changes that need the current password, and
// what a session was started from.

// ChangePassword is a user's own password change: current must be right
// (under the sign-in rate limits), then every other session of the user
// ends (and their app sessions); keepSession (a Session.ID, the browser
// making the change) stays signed in.
func (s *Service) ChangePassword(name, current, newPassword, keepSession, clientIP string) error {
	n, err := NormalizeUsername(name)
	if err != nil {
		return err
	}
	if err := s.VerifyPassword(n, current, clientIP); errors.Is(err, ErrInvalidCredentials) {
		return fmt.Errorf("change password of %s: %w", n, ErrWrongCurrentPassword)
	} else if err != nil {
		return fmt.Errorf("change password of %s: %w", n, err)
	}
	if err := checkPasswordPolicy(n, newPassword); err != nil {
		return fmt.Errorf("change password of %s: %w", n, err)
	}
	h, err := s.hashPassword(newPassword)
	if err != nil {
		return fmt.Errorf("change password of %s: %w", n, err)
	}
	s.mu.Lock()
	err = s.db.Update(func(t *kv.Txn) error {
		var rec userRecord
		if err := getUser(t, n, &rec); err != nil {
			return err
		}
		rec.PasswordHash = h
		return t.Put(keyUser+n, &rec)
	})
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("change password of %s: %w", n, err)
	}
	return s.RevokeOtherSessions(n, keepSession)
}

// ErrWrongCurrentPassword is returned by the changes that ask for the
// current password when it is wrong.
var ErrWrongCurrentPassword = &Error{"your current password is not right: type it again"}

// RevokeOtherSessions ends every session of name but keep (a Session.ID).
func (s *Service) RevokeOtherSessions(name, keep string) error {
	list, err := s.Sessions(name)
	if err != nil {
		return err
	}
	for _, se := range list {
		if se.ID == keep {
			continue
		}
		if err := s.RevokeSession(name, se.ID); err != nil && !errors.Is(err, ErrNoSession) {
			return err
		}
	}
	return nil
}

// NoteSessionClient records the device (a short User-Agent summary) and
// the client address a new session was started from, for the user's list
// of sessions. token is the session token.
func (s *Service) NoteSessionClient(token, device, address string) error {
	id := digest("session", token)
	if len(device) > 120 {
		device = device[:120]
	}
	if len(address) > 64 {
		address = address[:64]
	}
	return s.db.Update(func(t *kv.Txn) error {
		var rec sessionRecord
		if err := t.Get(keySession+id, &rec); err != nil {
			return err
		}
		rec.Device, rec.Address = device, address
		return t.Put(keySession+id, &rec)
	})
}

// BeginTOTPReenrolment starts replacing the authenticator of a user who has
// one (a new phone): a pending secret to scan, while the active one keeps
// working until ConfirmTOTPReenrolment.
func (s *Service) BeginTOTPReenrolment(name string) (Enrolment, error) {
	n, err := NormalizeUsername(name)
	if err != nil {
		return Enrolment{}, err
	}
	var secret string
	err = s.db.Update(func(t *kv.Txn) error {
		var u userRecord
		if err := getUser(t, n, &u); err != nil {
			return err
		}
		tr, err := getTOTP(t, n)
		if err != nil {
			return err
		}
		if tr.Pending != "" && s.now().Sub(tr.PendingCreated) < s.opts.ChallengeTTL {
			secret = tr.Pending
			return nil
		}
		tr.Pending, tr.PendingCreated = newTOTPSecret(), s.now().UTC()
		secret = tr.Pending
		return t.Put(keyTOTP+n, tr)
	})
	if err != nil {
		return Enrolment{}, fmt.Errorf("new authenticator for %s: %w", n, err)
	}
	return s.enrolment(n, secret)
}

// ConfirmTOTPReenrolment makes the pending secret the active one when code
// is valid for it and current is the user's password, and returns new
// recovery codes (the old codes and the old authenticator stop working).
func (s *Service) ConfirmTOTPReenrolment(name, current, code, clientIP string) ([]string, error) {
	n, err := NormalizeUsername(name)
	if err != nil {
		return nil, err
	}
	if err := s.VerifyPassword(n, current, clientIP); errors.Is(err, ErrInvalidCredentials) {
		return nil, fmt.Errorf("new authenticator for %s: %w", n, ErrWrongCurrentPassword)
	} else if err != nil {
		return nil, fmt.Errorf("new authenticator for %s: %w", n, err)
	}
	codes := newRecoveryCodes()
	err = s.db.Update(func(t *kv.Txn) error {
		tr, err := getTOTP(t, n)
		if err != nil {
			return err
		}
		if tr.Pending == "" || s.now().Sub(tr.PendingCreated) >= s.opts.ChallengeTTL {
			return ErrEnrolmentExpired
		}
		st, ok := matchTOTP(tr.Pending, code, s.now(), -1)
		if !ok {
			return ErrInvalidCode
		}
		*tr = totpRecord{Secret: tr.Pending, LastStep: st, Recovery: recoveryDigests(n, codes)}
		return t.Put(keyTOTP+n, tr)
	})
	if err != nil {
		return nil, fmt.Errorf("new authenticator for %s: %w", n, err)
	}
	return codes, nil
}

// RegenerateRecoveryCodesWithPassword is RegenerateRecoveryCodes for the
// user's own page: the current password is asked first.
func (s *Service) RegenerateRecoveryCodesWithPassword(name, current, clientIP string) ([]string, error) {
	if err := s.VerifyPassword(name, current, clientIP); errors.Is(err, ErrInvalidCredentials) {
		return nil, fmt.Errorf("new recovery codes for %s: %w", name, ErrWrongCurrentPassword)
	} else if err != nil {
		return nil, fmt.Errorf("new recovery codes for %s: %w", name, err)
	}
	return s.RegenerateRecoveryCodes(name)
}

// ErrEnrolmentExpired is returned when a new authenticator is confirmed
// after its secret expired.
var ErrEnrolmentExpired = &Error{"this new authenticator was not confirmed in time: scan the new code and try again"}

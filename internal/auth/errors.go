package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/stackhub/stackhub/internal/i18n"
)

// Error is an error whose text is written for the person at the keyboard.
// The Service wraps it with context (fmt.Errorf("…: %w")) for logs; the
// portal shows PublicMessage(err), which is the Error's own text only.
type Error struct{ msg string }

func (e *Error) Error() string { return e.msg }

// User-facing errors. Compare with errors.Is.
var (
	// ErrInvalidCredentials is returned for an unknown user, a wrong
	// password and a disabled account alike, so the sign-in form does not
	// tell an attacker which user names exist.
	ErrInvalidCredentials = &Error{"wrong username or password"}
	// ErrInvalidCode covers a wrong code, a code outside the ±1 step window
	// and a code that was already used: the user's remedy is the same.
	ErrInvalidCode = &Error{"wrong or already used code: wait for the next code and try again"}
	// ErrInvalidRecoveryCode is a wrong or already used recovery code.
	ErrInvalidRecoveryCode = &Error{"wrong or already used recovery code"}
	// ErrLocked is matched (errors.Is) by every *LockedError.
	ErrLocked = &Error{"too many failed attempts: try again later"}
	// ErrChallenge means the pending sign-in is unknown or took too long.
	ErrChallenge = &Error{"this sign-in has expired: start again"}
	// ErrWrongStep means the pending sign-in is at another step (for
	// example a TOTP code sent while enrolment is required).
	ErrWrongStep = &Error{"this sign-in step does not apply: start again"}
	// ErrNoSession means a session is unknown, revoked or expired.
	ErrNoSession = &Error{"you are signed out: sign in again"}
	// ErrTicket means an app-access ticket is unknown, used, expired or
	// for another app.
	ErrTicket = &Error{"this sign-in link is invalid or has expired: open the app again"}
	// ErrTicketBrowser means a valid ticket was opened in another browser
	// than the one that asked for it (or one without the gate's nonce).
	ErrTicketBrowser = &Error{"this sign-in link was opened in another browser than the one that asked for it: open the app again in this browser"}
	// ErrBadReturn is a return path a ticket cannot carry.
	ErrBadReturn = &Error{"invalid return address"}
	// ErrBusy means an in-memory table is full of live entries.
	ErrBusy = &Error{"too many sign-ins in progress: try again in a minute"}

	ErrUserExists      = &Error{"a user with this name already exists"}
	ErrUserNotFound    = &Error{"no such user"}
	ErrInvalidUsername = &Error{"user names are 1 to 32 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"}
	ErrInvalidEmail    = &Error{"invalid e-mail address"}
	ErrInvalidGroup    = &Error{"group names are 1 to 32 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"}
	ErrInvalidRole     = &Error{"role must be admin or member"}
	ErrWeakPassword    = &Error{fmt.Sprintf("passwords must have at least %d characters (at most %d bytes) and differ from the user name", MinPasswordLen, MaxPasswordBytes)}
	ErrLastAdmin       = &Error{"this is the last active admin: make another user admin first"}

	// ErrSetupToken is a missing or wrong first-run setup token.
	ErrSetupToken = &Error{"invalid setup token: use the one printed in the StackHub log at start"}
	// ErrSetupDone means the first admin already exists.
	ErrSetupDone = &Error{"StackHub is already set up: sign in instead"}

	ErrTOTPActive      = &Error{"two-factor authentication is already active for this user"}
	ErrTOTPNotEnrolled = &Error{"two-factor authentication is not set up for this user"}
)

// LockedError is returned while a user name or client address is locked out
// after too many failures. It matches ErrLocked with errors.Is.
type LockedError struct {
	// RetryAfter is how long the lockout still lasts.
	RetryAfter time.Duration
}

func (e *LockedError) Error() string { return e.Message().English() }

// Message is the error as a catalog message, for the pages.
func (e *LockedError) Message() i18n.Msg {
	return i18n.M("too many failed attempts: try again in {{.Wait}}", "Wait", roundUp(e.RetryAfter))
}

// BusyError is returned when every password-hash slot stayed busy for the
// whole wait (Options.MaxHashes, HashWait). It matches ErrBusy.
type BusyError struct {
	// RetryAfter is a fair time to wait before trying again.
	RetryAfter time.Duration
}

func (e *BusyError) Error() string { return e.Message().English() }

// Message is the error as a catalog message, for the pages.
func (e *BusyError) Message() i18n.Msg {
	return i18n.M("StackHub is busy checking other sign-ins: try again in {{.Wait}}", "Wait", roundUp(e.RetryAfter))
}

// Is makes errors.Is(err, ErrBusy) true.
func (e *BusyError) Is(target error) bool { return target == ErrBusy }

// RetryAfter returns how long the client should wait after err: the rest
// of a lockout, or the wait of a busy answer. ok is false for other errors.
func RetryAfter(err error) (d time.Duration, ok bool) {
	var le *LockedError
	if errors.As(err, &le) {
		return le.RetryAfter, true
	}
	var be *BusyError
	if errors.As(err, &be) {
		return be.RetryAfter, true
	}
	return 0, false
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

func roundUp(d time.Duration) time.Duration {
	if d < time.Minute {
		return ((d + time.Second - 1) / time.Second) * time.Second
	}
	return ((d + time.Minute - 1) / time.Minute) * time.Minute
}

// PublicMessage is the text to show a user for err: the message of the
// user-facing error inside it, or a generic sentence for internal failures
// (disk errors and the like belong in the log, not on the page).
func PublicMessage(err error) string {
	if err == nil {
		return ""
	}
	var le *LockedError
	if errors.As(err, &le) {
		return le.Error()
	}
	var e *Error
	if errors.As(err, &e) {
		return e.msg
	}
	return "something went wrong: see the StackHub log"
}

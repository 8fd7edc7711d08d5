// Package auth is StackHub's sign-in and access logic: users, passwords,
// TOTP second factor, portal sessions, per-app sessions, authorization by
// app policy, brute-force limits and safe return addresses. It is plain Go
// over internal/kv; the portal (fiber) and the gate (a Caddy handler) call
// it and own the HTTP details (cookies, forms, headers).
//
// # The model
//
// Users live in kv ("auth/user/<name>"): a lower-case name, e-mail, role
// (admin or member), groups, an argon2id password hash, a disabled flag
// and a creation time. Their second factor lives apart ("auth/totp/<name>")
// so listing users never reads secrets.
//
// Signing in is two steps. Login checks the password and returns a
// Challenge saying what comes next: a TOTP code (LoginTOTP, or a recovery
// code with LoginRecovery), or, when TOTP is required and the user has
// none yet, enrolment (LoginEnrolment shows QR code and manual key,
// LoginConfirmEnrolment activates it with a first code and returns the
// recovery codes). The last step creates the portal session. Only when an
// admin explicitly relaxed TOTPRequired does a user without TOTP get a
// session from the password alone.
//
// A portal session is a random 256-bit token in a host-only cookie on
// my.<domain>. kv stores the session under the SHA-256 digest of the token
// with user, creation, last activity, absolute expiry and a CSRF token.
// CheckSession validates it on each portal request.
//
// Apps never see the portal session. To open an app, the portal issues a
// ticket (IssueTicket): random, in memory, valid 60 s, bound to the
// session, the app host and the return path. The browser carries it to
// https://<app>/.stackhub/callback; the gate redeems it (RedeemTicket) once
// and sets the returned app token as a host-only cookie on the app host.
// From then on the gate calls CheckApp on every request, and Allowed with
// the app's policy.
//
// # Why each choice
//
// Passwords: argon2id (memory-hard, the current recommendation of RFC 9106
// and OWASP) with a per-user random salt, stored in the PHC string format
// so parameters can be raised later (old hashes are upgraded at the next
// sign-in), compared in constant time. Hashing is bounded to a few at a
// time so a burst of attempts cannot exhaust memory. Unknown users cost
// the same hash as known ones, and unknown user, wrong password and
// disabled account give one message: the form does not reveal user names.
//
// TOTP: pquerna/otp generates secrets and codes (RFC 6238, SHA-1, 6 digits,
// 30 s: what every authenticator supports). The library's own validation
// does not say which time step matched, so it cannot stop replays; we
// check the steps ourselves, window ±1 step at most, and keep per user the
// last accepted step. A code is accepted only for a step greater than
// that, and the new value is written in the same kv transaction that
// creates the session (badger detects the conflict when two requests race
// with one code; the retry sees the new step and refuses). Hence: a code
// works once, a code two steps old never works, and a code observed by a
// shoulder-surfer or a proxy log is useless, also after a restart. A secret
// is active only after a first valid code (so a mis-scanned QR code cannot
// lock a user out). Recovery codes are 80-bit random, stored as SHA-256
// digests (no slow hash needed at that entropy) and removed when used, in
// the session transaction. TOTP secrets themselves must be readable to
// compute codes; they are protected by the data folder's permissions (0700).
//
// First run: until an active admin exists, NeedsSetup is true and the
// portal's setup page needs a one-time setup token that the platform
// prints in its log (SetupToken; only its digest is stored; a new one each
// start). Whoever can read the log owns the machine; whoever merely reaches
// the port first does not get to claim it. The local CLI creates users
// with CreateUser directly, which needs no token. The last active admin
// can be neither removed, demoted nor disabled.
//
// Sessions: ids are 256-bit random, so a fast SHA-256 digest is a safe
// storage key and a copy of the database holds no usable session. A
// session ends after SessionIdle without activity (12 h) or SessionMax
// after sign-in (7 days), whichever comes first. Activity is written to kv
// at most once a minute per session (every write is a synced disk write).
// Revocation (Logout, RevokeSession, RevokeUserSessions), removing or
// disabling a user and setting a password delete the sessions in kv and
// revoke them in memory in the same step.
//
// App tokens (the hot path): CheckApp must not touch the disk or hash a
// password, so app tokens exist only in memory: a sharded map from a
// random selector to the token's verifier (compared in constant time), its
// host and its live session. All tokens of a portal session point to one
// live session entry, and all sessions of a user to one live user entry.
// Revoking a session sets an atomic flag that every token of it reads, so
// "sign out once" signs out of every app immediately; expiry and idle time
// are read from the same entry, and app activity counts as session
// activity (it is flushed to kv by Maintain, never on the request path).
// Changing a user's groups or role swaps the user entry's identity pointer,
// seen by the next request. A token is valid only for the host it was
// issued for, so one app cannot replay a cookie it received against
// another app. Choice: app tokens are not persisted. After a restart they
// are gone; the gate redirects to the portal, whose session is in kv, and
// the portal sends the browser straight back with a new ticket: one
// redirect, no sign-in. Persisting them would put a disk read on the hot
// path or a second source of truth in memory and kv.
//
// Authorization: Allowed evaluates the app policy on the cleaned path
// (see CleanPath), so "/api/../admin" cannot ride a "/api/*" exception;
// the gate must pass the path the upstream will act on.
//
// Brute force: failures (passwords and codes together) are counted per
// user name and client address, per address (IPv6 per /64) and per user
// name overall (a guard that never refuses a network without failures) in
// memory, bounded; see DefaultUserLimit, DefaultIPLimit and
// DefaultUserTotalLimit. Each attempt reserves its slots before the
// password is checked, so parallel guesses get no more checks than the
// limit, and a locked key is refused before the password is checked, so
// the right password does not pass either. At most MaxHashes password
// hashes run at once.
//
// Login CSRF: a ticket is bound to a nonce the gate gave the requesting
// browser on the app host (see ReturnWithBinding, RedeemTicket).
//
// Return addresses: SafeReturn accepts only paths on the current host and
// https URLs on our own hosts, refusing the usual open-redirect tricks.
//
// Errors: user-facing errors are *Error values (compare with errors.Is),
// wrapped with context for logs; PublicMessage gives the text for a page.
package auth

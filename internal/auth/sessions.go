package auth

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/stackhub/stackhub/internal/kv"
)

// sessionTokenBytes is the size of a portal session id: 256 random bits.
const sessionTokenBytes = 32

// touchInterval is how stale the stored "last seen" time of a session may
// get before a request writes it again. Writing on every portal request
// would make each page view a synced disk write; idle expiry is measured
// in hours, so a minute of imprecision does not matter.
const touchInterval = time.Minute

// Session is a portal session as seen by the portal.
type Session struct {
	// ID is the digest of the session token: a handle to list and revoke
	// sessions with. It is not a credential and may be shown or logged.
	ID          string
	User        string
	Created     time.Time
	LastSeen    time.Time
	IdleExpires time.Time
	Expires     time.Time
	// CSRF is this session's anti-CSRF token: embed it in portal forms
	// and check it with ValidCSRF on every state-changing request.
	CSRF string
	// Device and Address are the browser (a User-Agent summary) and the
	// client address the session was started from (NoteSessionClient).
	Device, Address string
}

// ValidCSRF reports whether got is this session's CSRF token. The
// comparison is constant-time. The token is random per session (not
// derived from the session id), so a page leaking it does not leak
// anything about the session cookie.
func (s Session) ValidCSRF(got string) bool {
	return s.CSRF != "" && ctEqual(s.CSRF, got)
}

// NewSession is a freshly created portal session.
type NewSession struct {
	// Token is the value of the portal's session cookie (host-only,
	// Secure, HttpOnly, SameSite=Lax). It is shown once; kv keeps only a
	// digest of it.
	Token   string
	Session Session
}

type sessionRecord struct {
	User     string    `json:"user"`
	Created  time.Time `json:"created"`
	LastSeen time.Time `json:"last_seen"`
	Expires  time.Time `json:"expires"`
	CSRF     string    `json:"csrf"`
	Device   string    `json:"device,omitempty"`
	Address  string    `json:"address,omitempty"`
}

func (s *Service) sessionView(id string, r *sessionRecord, lastSeen time.Time) Session {
	return Session{
		ID: id, User: r.User, Created: r.Created, LastSeen: lastSeen,
		IdleExpires: minTime(lastSeen.Add(s.opts.SessionIdle), r.Expires),
		Expires:     r.Expires, CSRF: r.CSRF, Device: r.Device, Address: r.Address,
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// createSessionTxn stores a new session for name.
func (s *Service) createSessionTxn(t *kv.Txn, name string, now time.Time) (NewSession, error) {
	tok := randomToken(sessionTokenBytes)
	id := digest("session", tok)
	now = now.UTC()
	rec := sessionRecord{User: name, Created: now, LastSeen: now, Expires: now.Add(s.opts.SessionMax), CSRF: randomToken(32)}
	if err := t.Put(keySession+id, &rec); err != nil {
		return NewSession{}, err
	}
	if err := t.Put(keyUserSession+name+"/"+id, struct{}{}); err != nil {
		return NewSession{}, err
	}
	return NewSession{Token: tok, Session: s.sessionView(id, &rec, now)}, nil
}

func deleteSessionTxn(t *kv.Txn, id, user string) error {
	if err := t.Delete(keySession + id); err != nil {
		return err
	}
	return t.Delete(keyUserSession + user + "/" + id)
}

func deleteUserSessionsTxn(t *kv.Txn, name string) error {
	prefix := keyUserSession + name + "/"
	for _, k := range t.Keys(prefix) {
		if err := deleteSessionTxn(t, strings.TrimPrefix(k, prefix), name); err != nil {
			return err
		}
	}
	return nil
}

// liveUser is the in-memory identity of a user with live sessions. Every
// app token of the user points to it, so a change of groups or role is one
// pointer swap, seen by the next request.
type liveUser struct {
	ident    atomic.Pointer[Identity]
	sessions map[string]*liveSession // guarded by Service.mu
}

// liveSession mirrors a portal session that is in use by app tokens. The
// hot path reads only its atomics: revocation and expiry take effect for
// every app of the session at once, without a disk read.
type liveSession struct {
	id       string
	user     *liveUser
	name     string
	expires  int64        // absolute expiry, Unix ns
	lastSeen atomic.Int64 // last activity anywhere (portal or app), Unix ns
	revoked  atomic.Bool
	// persisted is the LastSeen value known to be in kv (guarded by mu).
	persisted int64
	tokens    map[string]*appToken // by host; guarded by Service.mu
}

// expired reports whether the session is past its absolute or idle expiry.
func (s *Service) expired(ls *liveSession, now int64) bool {
	return now >= ls.expires || now-ls.lastSeen.Load() >= int64(s.opts.SessionIdle)
}

// liveLocked returns the live session for id, creating it from the stored
// records. Callers hold s.mu.
func (s *Service) liveLocked(id string, rec *sessionRecord, u *userRecord) *liveSession {
	if ls := s.live[id]; ls != nil {
		return ls
	}
	lu := s.liveUsers[u.Name]
	if lu == nil {
		lu = &liveUser{sessions: map[string]*liveSession{}}
		lu.ident.Store(u.identity())
		s.liveUsers[u.Name] = lu
	}
	ls := &liveSession{id: id, user: lu, name: u.Name, expires: rec.Expires.UnixNano(),
		persisted: rec.LastSeen.UnixNano(), tokens: map[string]*appToken{}}
	ls.lastSeen.Store(rec.LastSeen.UnixNano())
	s.live[id] = ls
	lu.sessions[id] = ls
	return ls
}

// dropSessionLocked revokes a live session in memory: its flag first, so a
// concurrent CheckApp fails from this instant, then its app tokens.
func (s *Service) dropSessionLocked(ls *liveSession) {
	ls.revoked.Store(true)
	for _, at := range ls.tokens {
		s.tokenDelete(at)
	}
	ls.tokens = nil
	delete(s.live, ls.id)
	if lu := ls.user; lu != nil {
		delete(lu.sessions, ls.id)
		if len(lu.sessions) == 0 && s.liveUsers[ls.name] == lu {
			delete(s.liveUsers, ls.name)
		}
	}
}

func (s *Service) dropUserLocked(name string) {
	lu := s.liveUsers[name]
	if lu == nil {
		return
	}
	for _, ls := range lu.sessions {
		s.dropSessionLocked(ls)
	}
	delete(s.liveUsers, name)
}

// CheckSession validates a portal session cookie and returns the session
// and its user's identity. It reads kv (the portal is not the hot path),
// refuses sessions past their idle or absolute expiry and sessions of
// removed or disabled users, and records the activity.
func (s *Service) CheckSession(token string) (Session, Identity, error) {
	if len(token) != 43 { // base64url of 32 bytes
		return Session{}, Identity{}, ErrNoSession
	}
	id := digest("session", token)
	now := s.now()
	s.mu.Lock()
	var rec sessionRecord
	var u userRecord
	err := s.db.View(func(t *kv.Txn) error {
		if err := t.Get(keySession+id, &rec); err != nil {
			return err
		}
		return getUser(t, rec.User, &u)
	})
	if errors.Is(err, kv.ErrNotFound) || errors.Is(err, ErrUserNotFound) {
		s.mu.Unlock()
		return Session{}, Identity{}, ErrNoSession
	}
	if err != nil {
		s.mu.Unlock()
		return Session{}, Identity{}, fmt.Errorf("check session: %w", err)
	}
	last := rec.LastSeen.UnixNano()
	ls := s.live[id]
	if ls != nil {
		last = max(last, ls.lastSeen.Load())
	}
	n := now.UnixNano()
	if u.Disabled || n >= rec.Expires.UnixNano() || n-last >= int64(s.opts.SessionIdle) {
		if ls != nil {
			s.dropSessionLocked(ls)
		}
		_ = s.db.Update(func(t *kv.Txn) error { return deleteSessionTxn(t, id, rec.User) })
		s.mu.Unlock()
		return Session{}, Identity{}, ErrNoSession
	}
	ls = s.liveLocked(id, &rec, &u)
	ls.lastSeen.Store(max(n, ls.lastSeen.Load()))
	ident := *ls.user.ident.Load()
	persist := n-ls.persisted >= int64(touchInterval)
	if persist {
		ls.persisted = n
	}
	s.mu.Unlock()
	if persist {
		if err := s.persistLastSeen(id, now); err != nil {
			return Session{}, Identity{}, fmt.Errorf("check session: %w", err)
		}
	}
	return s.sessionView(id, &rec, now), ident, nil
}

// persistLastSeen writes the activity time of a session, unless the
// session was deleted meanwhile.
func (s *Service) persistLastSeen(id string, at time.Time) error {
	return s.db.Update(func(t *kv.Txn) error {
		var rec sessionRecord
		if err := t.Get(keySession+id, &rec); errors.Is(err, kv.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		if !at.After(rec.LastSeen) {
			return nil
		}
		rec.LastSeen = at.UTC()
		return t.Put(keySession+id, &rec)
	})
}

// Logout ends the portal session with this token, and with it every app
// session derived from it: sign out once, signed out of every app. An
// unknown token is not an error.
func (s *Service) Logout(token string) error {
	return s.revoke(digest("session", token), "")
}

// RevokeSession ends the session of user with this ID (Session.ID, from
// Sessions) and its app sessions. The owner is part of the call so that a
// portal handler passing an ID from a form cannot end another user's
// session by mistake: an ID of someone else's session is ErrNoSession.
func (s *Service) RevokeSession(user, id string) error {
	n, err := NormalizeUsername(user)
	if err != nil {
		return err
	}
	return s.revoke(id, n)
}

// revoke ends session id; when owner is set, only if it belongs to owner.
func (s *Service) revoke(id, owner string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.db.Update(func(t *kv.Txn) error {
		var rec sessionRecord
		if err := t.Get(keySession+id, &rec); errors.Is(err, kv.ErrNotFound) {
			if owner != "" {
				return ErrNoSession
			}
			return nil
		} else if err != nil {
			return err
		}
		if owner != "" && rec.User != owner {
			return ErrNoSession
		}
		return deleteSessionTxn(t, id, rec.User)
	})
	if errors.Is(err, ErrNoSession) {
		return err
	}
	// Revoke in memory even when kv failed: failing closed is right here.
	if ls := s.live[id]; ls != nil {
		s.dropSessionLocked(ls)
	}
	if err != nil {
		return fmt.Errorf("sign out: %w", err)
	}
	return nil
}

// RevokeUserSessions ends every session of a user, on every device, and
// their app sessions ("sign out everywhere").
func (s *Service) RevokeUserSessions(name string) error {
	n, err := NormalizeUsername(name)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropUserLocked(n)
	if err := s.db.Update(func(t *kv.Txn) error { return deleteUserSessionsTxn(t, n) }); err != nil {
		return fmt.Errorf("sign %s out everywhere: %w", n, err)
	}
	return nil
}

// Sessions lists a user's live sessions, newest first, without their CSRF
// tokens (for an "active sessions" page).
func (s *Service) Sessions(name string) ([]Session, error) {
	n, err := NormalizeUsername(name)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out []Session
	s.mu.Lock()
	defer s.mu.Unlock()
	err = s.db.View(func(t *kv.Txn) error {
		prefix := keyUserSession + n + "/"
		for _, k := range t.Keys(prefix) {
			id := strings.TrimPrefix(k, prefix)
			var rec sessionRecord
			if err := t.Get(keySession+id, &rec); errors.Is(err, kv.ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			last := rec.LastSeen
			if ls := s.live[id]; ls != nil && ls.lastSeen.Load() > last.UnixNano() {
				last = time.Unix(0, ls.lastSeen.Load()).UTC()
			}
			v := s.sessionView(id, &rec, last)
			if !now.Before(v.IdleExpires) {
				continue
			}
			v.CSRF = ""
			out = append(out, v)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list sessions of %s: %w", n, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

// Maintain does the periodic housekeeping; Run calls it every minute. It
// deletes expired sessions from kv and memory, writes the last activity of
// sessions used only through apps (the hot path never writes), and drops
// expired tickets, pending sign-ins and rate-limit entries.
func (s *Service) Maintain() error {
	now := s.now()
	n := now.UnixNano()
	s.users.prune(n)
	s.ips.prune(n)
	s.pairs.prune(n)
	s.nets.prune(n)
	type flush struct {
		id string
		at time.Time
	}
	var flushes []flush
	s.mu.Lock()
	for k, tk := range s.tickets {
		if n >= tk.expires {
			delete(s.tickets, k)
		}
	}
	for k, c := range s.challenges {
		if n >= c.expires {
			delete(s.challenges, k)
		}
	}
	for _, ls := range s.live {
		if ls.revoked.Load() || s.expired(ls, n) {
			s.dropSessionLocked(ls)
			continue
		}
		if last := ls.lastSeen.Load(); last-ls.persisted >= int64(touchInterval) {
			ls.persisted = last
			flushes = append(flushes, flush{ls.id, time.Unix(0, last)})
		}
	}
	err := s.db.Update(func(t *kv.Txn) error {
		for _, k := range t.Keys(keySession) {
			id := strings.TrimPrefix(k, keySession)
			if s.live[id] != nil {
				continue // alive (checked above)
			}
			var rec sessionRecord
			if err := t.Get(k, &rec); err != nil {
				return err
			}
			var u userRecord
			gone := getUser(t, rec.User, &u) != nil || u.Disabled
			if gone || n >= rec.Expires.UnixNano() || n-rec.LastSeen.UnixNano() >= int64(s.opts.SessionIdle) {
				if err := deleteSessionTxn(t, id, rec.User); err != nil {
					return err
				}
			}
		}
		return nil
	})
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("auth housekeeping: %w", err)
	}
	for _, f := range flushes {
		if err := s.persistLastSeen(f.id, f.at); err != nil {
			return fmt.Errorf("auth housekeeping: %w", err)
		}
	}
	return nil
}

// Run calls Maintain every minute until ctx ends. Errors are passed to
// logf (which may be nil) and do not stop the loop.
func (s *Service) Run(ctx context.Context, logf func(format string, args ...any)) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Maintain(); err != nil && logf != nil {
				logf("%v", err)
			}
		}
	}
}

package auth

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// App tokens are "selector + verifier": 16 random bytes that locate the
// entry in a map, then 32 random bytes compared in constant time. The map
// lookup may leak timing about the selector, which alone is worthless; the
// secret half is never used as a map key. No hash is computed per request.
const (
	selectorLen = 22 // base64url of 16 bytes
	verifierLen = 43 // base64url of 32 bytes
	appTokenLen = selectorLen + verifierLen
	ticketLen   = 43 // base64url of 32 bytes

	tokenShards = 16
	// maxTickets bounds tickets waiting to be redeemed (they live 60 s).
	maxTickets = 10000
	// maxTokensPerSession bounds app tokens of one portal session; a
	// session has one per app host, so this is far above real use.
	maxTokensPerSession = 256
)

type tokenShard struct {
	mu sync.RWMutex
	m  map[string]*appToken // selector → token
	_  [32]byte             // pad to 64 bytes: shards on separate cache lines
}

type appToken struct {
	selector string
	verifier string
	host     string
	sess     *liveSession
}

type ticket struct {
	sess    *liveSession
	host    string
	path    string
	binding string // BindingOf(the browser's nonce on host)
	expires int64
}

var b64urlIndex = func() (t [256]byte) {
	const a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := 0; i < len(a); i++ {
		t[a[i]] = byte(i)
	}
	return t
}()

func (s *Service) shard(selector string) *tokenShard {
	return &s.tokens[b64urlIndex[selector[0]]%tokenShards]
}

func (s *Service) tokenDelete(at *appToken) {
	sh := s.shard(at.selector)
	sh.mu.Lock()
	if sh.m[at.selector] == at {
		delete(sh.m, at.selector)
	}
	sh.mu.Unlock()
}

// normalizeHost lower-cases a host and strips a port and a trailing dot.
func normalizeHost(h string) string {
	return strings.ToLower(hostOnly(h))
}

// hostOnly strips a port and a trailing dot without allocating.
func hostOnly(h string) string {
	if strings.HasPrefix(h, "[") {
		if i := strings.IndexByte(h, ']'); i > 0 {
			h = h[:i+1]
		}
	} else if i := strings.IndexByte(h, ':'); i >= 0 && strings.IndexByte(h[i+1:], ':') < 0 {
		h = h[:i]
	}
	return strings.TrimSuffix(h, ".")
}

// validHost accepts DNS names and bracketed IPv6 literals.
func validHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	if h[0] == '[' && h[len(h)-1] == ']' {
		return strings.Trim(h[1:len(h)-1], "0123456789abcdef:.") == ""
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// IssueTicket is called by the portal, for a signed-in user, to send them
// to an app: it returns a ticket for https://<host>/.stackhub/callback.
// The ticket is bound to this session, this host, this return path (the
// path and query the user wanted, "/" when empty) and binding, the
// BindingOf the nonce the gate gave the requesting browser on host (see
// ReturnBinding): only that browser can redeem it. It is valid for
// TicketTTL (60 s) and can be redeemed once. The ticket does not check the
// app's policy: the gate applies it on every request anyway.
//
// Tickets live in memory only: a restart within the 60 s simply makes the
// user click again.
func (s *Service) IssueTicket(sessionToken, host, returnPath, binding string) (string, error) {
	sess, _, err := s.CheckSession(sessionToken)
	if err != nil {
		return "", err
	}
	if !validBinding(binding) {
		return "", fmt.Errorf("issue app ticket: no browser binding: %w", ErrBadReturn)
	}
	h := normalizeHost(host)
	if !validHost(h) {
		return "", fmt.Errorf("issue app ticket: host %q: %w", host, ErrBadReturn)
	}
	if returnPath == "" {
		returnPath = "/"
	}
	if !safeRelative(returnPath) {
		return "", fmt.Errorf("issue app ticket: %w", ErrBadReturn)
	}
	tok := randomToken(32)
	now := s.now().UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	ls := s.live[sess.ID]
	if ls == nil || ls.revoked.Load() {
		return "", ErrNoSession // revoked between the check and now
	}
	if len(s.tickets) >= maxTickets {
		for k, tk := range s.tickets {
			if now >= tk.expires {
				delete(s.tickets, k)
			}
		}
		if len(s.tickets) >= maxTickets {
			return "", fmt.Errorf("issue app ticket: %w", ErrBusy)
		}
	}
	s.tickets[digest("ticket", tok)] = &ticket{sess: ls, host: h, path: returnPath, binding: binding, expires: now + int64(s.opts.TicketTTL)}
	return tok, nil
}

// AppSession is the result of redeeming a ticket on an app host.
type AppSession struct {
	// Token is the value for the app host's cookie (host-only, Secure,
	// HttpOnly, SameSite=Lax). It is valid for this host only.
	Token string
	// ReturnPath is where to send the browser: the path bound to the
	// ticket, not anything from the callback URL.
	ReturnPath string
	Identity   Identity
	// Expires is the parent portal session's absolute expiry: a good
	// cookie expiry (the token dies earlier if the session does).
	Expires time.Time
}

// RedeemTicket exchanges a ticket for an app session token on host (the
// Host of the callback request), for the browser whose nonce cookie on
// host is nonce: a ticket issued for another browser's binding is refused
// with ErrTicketBrowser (login CSRF: an attacker's ticket opened in a
// victim's browser). A ticket is consumed by the first attempt, successful
// or not, so it is single-use even under concurrent requests and cannot be
// probed. Redeeming again for the same host and session replaces the
// previous app token.
func (s *Service) RedeemTicket(tok, host, nonce string) (AppSession, error) {
	if len(tok) != ticketLen {
		return AppSession{}, ErrTicket
	}
	d := digest("ticket", tok)
	now := s.now().UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	tk := s.tickets[d]
	delete(s.tickets, d)
	if tk == nil || now >= tk.expires || !strings.EqualFold(tk.host, hostOnly(host)) {
		return AppSession{}, ErrTicket
	}
	if nonce == "" || !ctEqual(tk.binding, BindingOf(nonce)) {
		return AppSession{}, ErrTicketBrowser
	}
	ls := tk.sess
	if ls.revoked.Load() || s.expired(ls, now) || s.live[ls.id] != ls {
		return AppSession{}, ErrNoSession
	}
	if old := ls.tokens[tk.host]; old != nil {
		s.tokenDelete(old)
		delete(ls.tokens, tk.host)
	}
	if len(ls.tokens) >= maxTokensPerSession {
		for h, at := range ls.tokens {
			s.tokenDelete(at)
			delete(ls.tokens, h)
			break
		}
	}
	at := &appToken{selector: randomToken(16), verifier: randomToken(32), host: tk.host, sess: ls}
	sh := s.shard(at.selector)
	sh.mu.Lock()
	sh.m[at.selector] = at
	sh.mu.Unlock()
	ls.tokens[tk.host] = at
	ls.lastSeen.Store(max(now, ls.lastSeen.Load()))
	return AppSession{
		Token:      at.selector + at.verifier,
		ReturnPath: tk.path,
		Identity:   *ls.user.ident.Load(),
		Expires:    time.Unix(0, ls.expires).UTC(),
	}, nil
}

// CheckApp is the gate's per-request check of an app cookie: it returns
// the identity behind token when token is a live app token issued for
// host. It touches neither the disk nor a password hash and does not
// allocate: one read-locked map lookup in a shard, a constant-time compare
// and a few atomic loads. The parent portal session's revocation, expiry
// and idle time are read from the shared live session, so signing out,
// removing or disabling the user, or changing their groups, is seen by the
// next request.
//
// The returned Identity's Groups slice is shared: do not modify it.
func (s *Service) CheckApp(token, host string) (Identity, bool) {
	if len(token) != appTokenLen {
		return Identity{}, false
	}
	sel := token[:selectorLen]
	sh := s.shard(sel)
	sh.mu.RLock()
	at := sh.m[sel]
	sh.mu.RUnlock()
	if at == nil || !ctEqual(at.verifier, token[selectorLen:]) || !strings.EqualFold(at.host, hostOnly(host)) {
		return Identity{}, false
	}
	ls := at.sess
	if ls.revoked.Load() {
		return Identity{}, false
	}
	now := s.now().UnixNano()
	last := ls.lastSeen.Load()
	if now >= ls.expires || now-last >= int64(s.opts.SessionIdle) {
		return Identity{}, false
	}
	// Record activity at most once a second per session, so parallel
	// requests do not all write the same cache line.
	if now-last > int64(time.Second) {
		ls.lastSeen.CompareAndSwap(last, now)
	}
	return *ls.user.ident.Load(), true
}

// LogoutApp signs out from an app host (for a /.stackhub/logout link): it
// ends the whole portal session behind the app token, so every app of that
// session is signed out too. An invalid token is not an error.
func (s *Service) LogoutApp(token, host string) error {
	if len(token) != appTokenLen {
		return nil
	}
	sel := token[:selectorLen]
	sh := s.shard(sel)
	sh.mu.RLock()
	at := sh.m[sel]
	sh.mu.RUnlock()
	if at == nil || !ctEqual(at.verifier, token[selectorLen:]) || !strings.EqualFold(at.host, hostOnly(host)) {
		return nil
	}
	return s.revoke(at.sess.id, "")
}

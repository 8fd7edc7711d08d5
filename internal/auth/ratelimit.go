package auth

import (
	"net/netip"
	"sync"
	"time"
)

// Limit is a brute-force limit: Max failures within Window lock the key
// for Lockout. While locked, attempts are refused before any password or
// code is checked, so the right password does not get through either.
//
// An attempt takes its slot before the password is checked (reserve) and
// gives it back, counted as a failure or not, when the answer is known
// (release). Attempts still being checked count like failures, so a burst
// of parallel guesses gets no more checks than Max.
type Limit struct {
	Max     int
	Window  time.Duration
	Lockout time.Duration
}

// Default limits. The rule (README, Accounts):
//
//   - per user name and client address: 5 failures (wrong passwords and
//     wrong TOTP or recovery codes together) in 15 minutes lock that user
//     name from that address for 15 minutes. Guessing a 6-digit code (3
//     valid codes per try window) from one address takes about a year on
//     average.
//   - per client address: 20 failures in 15 minutes lock the address for
//     every user (password spraying), leaving room for a household behind
//     one NAT address.
//   - per user name, from all addresses together: 50 failures in 15
//     minutes put the user under guard for 15 minutes. Under guard, a
//     network (IPv4 /24, IPv6 /48) that has failed for this user in the
//     window may not try again, and any other network gets one attempt.
//     So nobody locks a user out from elsewhere: a user signing in from a
//     network without failures is never refused because of other
//     networks' failures, while guesses at one user stay bounded by the
//     networks an attacker controls.
//
// IPv6 clients are counted per /64, the block one subscriber usually gets.
var (
	DefaultUserLimit      = Limit{Max: 5, Window: 15 * time.Minute, Lockout: 15 * time.Minute}
	DefaultIPLimit        = Limit{Max: 20, Window: 15 * time.Minute, Lockout: 15 * time.Minute}
	DefaultUserTotalLimit = Limit{Max: 50, Window: 15 * time.Minute, Lockout: 15 * time.Minute}
)

// busyRetry is the Retry-After of an attempt refused because other
// attempts of the same key are still being checked.
const busyRetry = time.Second

// maxLimiterKeys bounds each limiter's table (about 300 bytes per entry).
// The state is in memory on purpose: a restart forgets it, which costs an
// attacker a restart they cannot trigger, and keeps failed attempts from
// causing synced disk writes. When the table is full of live entries, the
// one with the oldest activity is evicted.
const maxLimiterKeys = 10000

type limiter struct {
	lim  Limit
	maxN int
	// lastOnly keeps only the latest failure per key: enough to tell
	// whether a key failed within the window (the guard's networks).
	lastOnly bool
	mu       sync.Mutex
	m        map[string]*limEntry
}

type limEntry struct {
	fails       []int64 // recent failure times (Unix ns), oldest first, len < lim.Max
	inflight    int     // attempts reserved and not yet released
	held        []int64 // right passwords awaiting their second factor (see hold)
	lockedUntil int64
}

func (e *limEntry) lastActivity() int64 {
	last := e.lockedUntil
	if n := len(e.fails); n > 0 && e.fails[n-1] > last {
		last = e.fails[n-1]
	}
	if n := len(e.held); n > 0 && e.held[n-1] > last {
		last = e.held[n-1]
	}
	return last
}

func newLimiter(l Limit, maxKeys int) *limiter {
	return &limiter{lim: l, maxN: maxKeys, m: map[string]*limEntry{}}
}

// entryLocked returns key's entry, creating it (and making room) if needed.
func (l *limiter) entryLocked(key string, now int64) *limEntry {
	e := l.m[key]
	if e != nil {
		return e
	}
	if len(l.m) >= l.maxN {
		l.pruneLocked(now)
	}
	if len(l.m) >= l.maxN {
		var oldK string
		var oldT int64
		for k, e := range l.m {
			if e.inflight > 0 {
				continue
			}
			if t := e.lastActivity(); oldK == "" || t < oldT {
				oldK, oldT = k, t
			}
		}
		delete(l.m, oldK)
	}
	e = &limEntry{}
	l.m[key] = e
	return e
}

func (l *limiter) trimLocked(e *limEntry, now int64) {
	cut := 0
	for cut < len(e.fails) && e.fails[cut] <= now-int64(l.lim.Window) {
		cut++
	}
	e.fails = append(e.fails[:0], e.fails[cut:]...)
	cut = 0
	for cut < len(e.held) && e.held[cut] <= now-int64(l.lim.Window) {
		cut++
	}
	e.held = append(e.held[:0], e.held[cut:]...)
}

// check returns how long key is still locked (0 when not).
func (l *limiter) check(key string, now int64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.m[key]; e != nil && now < e.lockedUntil {
		return time.Duration(e.lockedUntil - now)
	}
	return 0
}

// reserve takes a slot for one attempt of key, or returns how long to wait:
// the rest of a lockout, or busyRetry when recent failures and attempts in
// progress already fill the limit (max, or lim.Max when max is 0).
func (l *limiter) reserve(key string, now int64, max int) time.Duration {
	return l.reserveInherit(key, now, max, false)
}

// reserveInherit is reserve; with inherit, an attempt takes over a held
// slot (a second factor after its right password) before asking for a new
// one.
func (l *limiter) reserveInherit(key string, now int64, max int, inherit bool) time.Duration {
	if max == 0 {
		max = l.lim.Max
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entryLocked(key, now)
	if now < e.lockedUntil {
		return time.Duration(e.lockedUntil - now)
	}
	l.trimLocked(e, now)
	if inherit && len(e.held) > 0 {
		e.held = e.held[1:]
		e.inflight++
		return 0
	}
	if len(e.fails)+len(e.held)+e.inflight >= max {
		return busyRetry
	}
	e.inflight++
	return 0
}

// release gives back a slot taken by reserve; failed counts the attempt
// as a failure, which locks key when the failures reach the limit.
func (l *limiter) release(key string, now int64, failed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.m[key]
	if e == nil { // evicted meanwhile
		if !failed {
			return
		}
		e = l.entryLocked(key, now)
	} else if e.inflight > 0 {
		e.inflight--
	}
	if !failed {
		return
	}
	l.trimLocked(e, now)
	if l.lastOnly {
		e.fails = e.fails[:0]
	}
	e.fails = append(e.fails, now)
	if len(e.fails) >= l.lim.Max {
		e.lockedUntil = now + int64(l.lim.Lockout)
		e.fails = e.fails[:0]
	}
}

// hold turns key's reserved slot into a held one: a right password whose
// sign-in is not complete yet. A held slot still fills the burst limit for
// the window, so a burst that holds the right password gets no more checks
// than the limit either; the second factor's attempt takes it over
// (reserve with inherit), and reset (a complete sign-in) forgets it. It
// never locks key.
func (l *limiter) hold(key string, now int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.m[key]
	if e == nil {
		return
	}
	if e.inflight > 0 {
		e.inflight--
	}
	l.trimLocked(e, now)
	e.held = append(e.held, now)
}

// fail records a failure without a reservation.
func (l *limiter) fail(key string, now int64) {
	l.mu.Lock()
	e := l.entryLocked(key, now)
	e.inflight++
	l.mu.Unlock()
	l.release(key, now, true)
}

// reset forgets key's failures (after a complete successful sign-in). It
// does not lift a running lockout, which is checked before.
func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.m[key]; e != nil && e.lockedUntil == 0 && e.inflight == 0 {
		delete(l.m, key)
	} else if e != nil {
		e.fails = e.fails[:0]
		e.held = e.held[:0]
	}
}

func (l *limiter) prune(now int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pruneLocked(now)
}

func (l *limiter) pruneLocked(now int64) {
	for k, e := range l.m {
		if e.inflight == 0 && now >= e.lockedUntil && e.lastActivity() <= now-int64(l.lim.Window) {
			delete(l.m, k)
		}
	}
}

// ipLimitKey is the rate-limit key of a client address: the address for
// IPv4 (and IPv4-mapped IPv6), the /64 prefix for IPv6. An address with a
// port is accepted. Anything unparseable shares one key, so a caller bug
// that passes garbage fails towards limiting rather than towards none.
func ipLimitKey(ip string) string { return ipPrefixKey(ip, 32, 64) }

// networkKey is the wider key of the per-user guard: IPv4 /24, IPv6 /48.
func networkKey(ip string) string { return ipPrefixKey(ip, 24, 48) }

func ipPrefixKey(ip string, bits4, bits6 int) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		ap, err2 := netip.ParseAddrPort(ip)
		if err2 != nil {
			return "invalid"
		}
		a = ap.Addr()
	}
	a = a.WithZone("").Unmap()
	if a.Is4() {
		if bits4 == 32 {
			return a.String()
		}
		p, _ := a.Prefix(bits4)
		return p.String()
	}
	p, _ := a.Prefix(bits6)
	return p.String()
}

// attempt is one password or code check holding its rate-limit slots.
type attempt struct {
	s                   *Service
	user, pair, ip, net string
	total               bool // holds a slot of the per-user total
	// holdOnSuccess keeps the address's slot counted after a right password
	// (the first factor), until the sign-in completes (see limiter.hold).
	holdOnSuccess bool
}

// begin reserves the slots of one attempt by user from the client address
// clientIP, before anything is checked, or refuses it with a *LockedError.
//
// secondFactor marks the code step after a right password: it takes over
// the slot the password held (see limiter.hold).
func (s *Service) begin(user, clientIP string, now time.Time, secondFactor bool) (*attempt, error) {
	n := now.UnixNano()
	ipKey := ipLimitKey(clientIP)
	a := &attempt{s: s, user: user, pair: user + "\x00" + ipKey, ip: ipKey, net: user + "\x00" + networkKey(clientIP)}
	if d := s.pairs.reserveInherit(a.pair, n, 0, secondFactor); d > 0 {
		return nil, &LockedError{RetryAfter: d}
	}
	if d := s.ips.reserve(a.ip, n, 0); d > 0 {
		s.pairs.release(a.pair, n, false)
		return nil, &LockedError{RetryAfter: d}
	}
	// Under guard (the user's total is full), a network gets one attempt
	// as long as it has no failure for this user in the window.
	netMax := 1 << 30
	if d := s.users.reserve(user, n, 0); d == 0 {
		a.total = true
	} else {
		netMax = 1
	}
	if d := s.nets.reserve(a.net, n, netMax); d > 0 {
		s.pairs.release(a.pair, n, false)
		s.ips.release(a.ip, n, false)
		if a.total {
			s.users.release(user, n, false)
		}
		if g := s.users.check(user, n); g > d {
			d = g
		}
		return nil, &LockedError{RetryAfter: d}
	}
	return a, nil
}

// end releases the attempt's slots; failed counts it everywhere.
func (a *attempt) end(failed bool) {
	n := a.s.now().UnixNano()
	if !failed && a.holdOnSuccess {
		a.s.pairs.hold(a.pair, n)
	} else {
		a.s.pairs.release(a.pair, n, failed)
	}
	a.s.ips.release(a.ip, n, failed)
	a.s.nets.release(a.net, n, failed)
	if a.total {
		a.s.users.release(a.user, n, failed)
	} else if failed {
		a.s.users.fail(a.user, n)
	}
}

// succeeded forgets the failures of this user from this address, after a
// complete sign-in.
func (a *attempt) succeeded() { a.s.pairs.reset(a.pair) }

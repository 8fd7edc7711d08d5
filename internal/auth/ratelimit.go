package auth

import (
	"net/netip"
	"sync"
	"time"
)

// Limit is a brute-force limit: Max failures within Window lock the key
// (user name or client address) for Lockout. While locked, attempts are
// refused before any password or code is checked, so the right password
// does not get through either.
type Limit struct {
	Max     int
	Window  time.Duration
	Lockout time.Duration
}

// Default limits. Per user: 5 failures (wrong passwords and wrong TOTP or
// recovery codes together) in 15 minutes lock that user name for 15
// minutes; that makes guessing a 6-digit code (3 valid codes per try
// window) take about a year on average. Per client address: 20 failures in
// 15 minutes lock the address for 15 minutes, which stops spraying one
// password over many user names while leaving room for a household behind
// one NAT address. IPv6 clients are counted per /64, the block one
// subscriber usually gets.
var (
	DefaultUserLimit = Limit{Max: 5, Window: 15 * time.Minute, Lockout: 15 * time.Minute}
	DefaultIPLimit   = Limit{Max: 20, Window: 15 * time.Minute, Lockout: 15 * time.Minute}
)

// maxLimiterKeys bounds each limiter's table (about 300 bytes per entry).
// The state is in memory on purpose: a restart forgets it, which costs an
// attacker a restart they cannot trigger, and keeps failed attempts from
// causing synced disk writes. When the table is full of live entries, the
// one with the oldest activity is evicted.
const maxLimiterKeys = 10000

type limiter struct {
	lim  Limit
	maxN int
	mu   sync.Mutex
	m    map[string]*limEntry
}

type limEntry struct {
	fails       []int64 // recent failure times (Unix ns), oldest first, len < lim.Max
	lockedUntil int64
}

func (e *limEntry) lastActivity() int64 {
	if n := len(e.fails); n > 0 && e.fails[n-1] > e.lockedUntil {
		return e.fails[n-1]
	}
	return e.lockedUntil
}

func newLimiter(l Limit, maxKeys int) *limiter {
	return &limiter{lim: l, maxN: maxKeys, m: map[string]*limEntry{}}
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

// fail records a failure and locks key when it reaches the limit.
func (l *limiter) fail(key string, now int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.m[key]
	if e == nil {
		if len(l.m) >= l.maxN {
			l.pruneLocked(now)
		}
		if len(l.m) >= l.maxN {
			var oldK string
			var oldT int64
			for k, e := range l.m {
				if t := e.lastActivity(); oldK == "" || t < oldT {
					oldK, oldT = k, t
				}
			}
			delete(l.m, oldK)
		}
		e = &limEntry{}
		l.m[key] = e
	}
	cut := 0
	for cut < len(e.fails) && e.fails[cut] <= now-int64(l.lim.Window) {
		cut++
	}
	e.fails = append(e.fails[:0], e.fails[cut:]...)
	e.fails = append(e.fails, now)
	if len(e.fails) >= l.lim.Max {
		e.lockedUntil = now + int64(l.lim.Lockout)
		e.fails = e.fails[:0]
	}
}

// reset forgets key's failures (after a complete successful sign-in). It
// does not lift a running lockout, which is checked before.
func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.m[key]; e != nil && e.lockedUntil == 0 {
		delete(l.m, key)
	} else if e != nil {
		e.fails = e.fails[:0]
	}
}

func (l *limiter) prune(now int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pruneLocked(now)
}

func (l *limiter) pruneLocked(now int64) {
	for k, e := range l.m {
		if now >= e.lockedUntil && (len(e.fails) == 0 || e.fails[len(e.fails)-1] <= now-int64(l.lim.Window)) {
			delete(l.m, k)
		}
	}
}

// ipLimitKey is the rate-limit key of a client address: the address for
// IPv4 (and IPv4-mapped IPv6), the /64 prefix for IPv6. An address with a
// port is accepted. Anything unparseable shares one key, so a caller bug
// that passes garbage fails towards limiting rather than towards none.
func ipLimitKey(ip string) string {
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
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// allow refuses an attempt while the user name or the address is locked.
func (s *Service) allow(user, ipKey string, now time.Time) error {
	n := now.UnixNano()
	d := max(s.users.check(user, n), s.ips.check(ipKey, n))
	if d > 0 {
		return &LockedError{RetryAfter: d}
	}
	return nil
}

func (s *Service) fail(user, ipKey string, now time.Time) {
	n := now.UnixNano()
	s.users.fail(user, n)
	s.ips.fail(ipKey, n)
}

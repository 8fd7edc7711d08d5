package dns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mdns "github.com/miekg/dns"
)

// maxCacheTTL caps how long a forwarded answer is kept, so a record with a
// huge TTL cannot pin a stale answer for days.
const maxCacheTTL = time.Hour

// forwarder is the last step of the chain: names outside the zone, for
// allowed clients only, sent to upstream resolvers through a cache.
type forwarder struct {
	upstreams []string
	udp, tcp  *mdns.Client
	cache     *cache // nil when disabled
	log       *slog.Logger
	exchanges atomic.Uint64 // upstream round trips, for tests and metrics
	lastWarn  atomic.Int64  // unix nanoseconds of the last warning

	mu       sync.Mutex
	inflight map[cacheKey]*call
}

const warnEvery = 10 * time.Second

func newForwarder(st *settings, log *slog.Logger) *forwarder {
	f := &forwarder{
		upstreams: st.forward,
		udp:       &mdns.Client{Net: "udp", Timeout: st.timeout, UDPSize: st.maxUDP},
		tcp:       &mdns.Client{Net: "tcp", Timeout: st.timeout},
		log:       log,
		inflight:  map[cacheKey]*call{},
	}
	if st.cacheSize > 0 {
		f.cache = &cache{max: st.cacheSize, m: map[cacheKey]*cacheEntry{}}
	}
	return f
}

// forward fills m with the answer to q, from the cache or an upstream;
// SERVFAIL when no upstream answers usefully.
func (f *forwarder) forward(ctx context.Context, q mdns.Question, do bool, m *mdns.Msg) {
	key := cacheKey{name: strings.ToLower(q.Name), qtype: q.Qtype, do: do}
	now := time.Now()
	if e := f.cache.get(key, now); e != nil {
		e.fill(m, now)
		return
	}
	e, err := f.resolve(ctx, key, q, do, now)
	if err != nil {
		f.warn(q, err)
		m.Rcode = mdns.RcodeServerFailure
		return
	}
	e.fill(m, now)
}

// call is one upstream exchange that concurrent askers of the same
// question share, so a burst of identical queries (every device on the LAN
// waking up) costs one round trip.
type call struct {
	done  chan struct{}
	entry *cacheEntry
	err   error
}

func (f *forwarder) resolve(ctx context.Context, key cacheKey, q mdns.Question, do bool, now time.Time) (*cacheEntry, error) {
	f.mu.Lock()
	if c, ok := f.inflight[key]; ok {
		f.mu.Unlock()
		select {
		case <-c.done:
			return c.entry, c.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	c := &call{done: make(chan struct{})}
	f.inflight[key] = c
	f.mu.Unlock()

	resp, err := f.exchange(ctx, q, do)
	if err == nil {
		c.entry = newCacheEntry(resp, now)
		if c.entry.expires.After(now) {
			f.cache.put(key, c.entry)
		}
	}
	c.err = err
	f.mu.Lock()
	delete(f.inflight, key)
	f.mu.Unlock()
	close(c.done)
	return c.entry, c.err
}

// warn logs a failed forward, at most once per warnEvery, so an upstream
// outage does not turn every LAN query into a log line.
func (f *forwarder) warn(q mdns.Question, err error) {
	now := time.Now().UnixNano()
	last := f.lastWarn.Load()
	if now-last < int64(warnEvery) || !f.lastWarn.CompareAndSwap(last, now) {
		f.log.Debug("dns: forward failed", "name", q.Name, "type", mdns.TypeToString[q.Qtype], "error", err)
		return
	}
	f.log.Warn("dns: forward failed", "name", q.Name, "type", mdns.TypeToString[q.Qtype], "error", err)
}

// exchange asks each upstream in turn until one gives an answer worth
// passing on (anything but SERVFAIL, REFUSED or a mismatched question).
func (f *forwarder) exchange(ctx context.Context, q mdns.Question, do bool) (*mdns.Msg, error) {
	req := &mdns.Msg{}
	req.Id = mdns.Id()
	req.RecursionDesired = true
	req.Question = []mdns.Question{{Name: q.Name, Qtype: q.Qtype, Qclass: q.Qclass}}
	req.SetEdns0(f.udp.UDPSize, do)

	var errs []error
	for _, up := range f.upstreams {
		f.exchanges.Add(1)
		resp, _, err := f.udp.ExchangeContext(ctx, req, up)
		if err == nil && resp.Truncated {
			f.exchanges.Add(1)
			resp, _, err = f.tcp.ExchangeContext(ctx, req, up)
		}
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("upstream %s: %w", up, err))
		case len(resp.Question) != 1 || !strings.EqualFold(resp.Question[0].Name, q.Name) ||
			resp.Question[0].Qtype != q.Qtype || resp.Question[0].Qclass != q.Qclass:
			errs = append(errs, fmt.Errorf("upstream %s: answer for another question", up))
		case resp.Rcode == mdns.RcodeServerFailure || resp.Rcode == mdns.RcodeRefused:
			errs = append(errs, fmt.Errorf("upstream %s: %s", up, mdns.RcodeToString[resp.Rcode]))
		default:
			return resp, nil
		}
	}
	if len(errs) == 0 {
		return nil, errors.New("no upstream configured")
	}
	return nil, errors.Join(errs...)
}

type cacheKey struct {
	name  string
	qtype uint16
	do    bool
}

// cacheEntry is an upstream answer, without its OPT record, and when it
// stops being valid: the smallest TTL of its records (for a negative answer,
// the SOA's, per RFC 2308), capped by maxCacheTTL.
type cacheEntry struct {
	rcode            int
	ad               bool
	answer, ns, extr []mdns.RR
	stored, expires  time.Time
}

func newCacheEntry(resp *mdns.Msg, now time.Time) *cacheEntry {
	e := &cacheEntry{rcode: resp.Rcode, ad: resp.AuthenticatedData, answer: resp.Answer, ns: resp.Ns, stored: now}
	if e.rcode > 0xF {
		// Extended rcodes only exist inside EDNS; the client may not
		// speak it, and none of them is an answer anyway.
		e.rcode = mdns.RcodeServerFailure
	}
	for _, rr := range resp.Extra {
		if rr.Header().Rrtype != mdns.TypeOPT {
			e.extr = append(e.extr, rr)
		}
	}
	e.expires = now.Add(e.ttl())
	return e
}

// ttl returns 0 for answers that must not be cached.
func (e *cacheEntry) ttl() time.Duration {
	if e.rcode != mdns.RcodeSuccess && e.rcode != mdns.RcodeNameError {
		return 0
	}
	ttl := uint32(maxCacheTTL / time.Second)
	if len(e.answer) == 0 {
		// Negative answer: cacheable only with an SOA to say how long.
		soaFound := false
		for _, rr := range e.ns {
			if soa, ok := rr.(*mdns.SOA); ok {
				soaFound = true
				ttl = min(ttl, soa.Hdr.Ttl, soa.Minttl)
			}
		}
		if !soaFound {
			return 0
		}
	}
	for _, sec := range [][]mdns.RR{e.answer, e.ns, e.extr} {
		for _, rr := range sec {
			ttl = min(ttl, rr.Header().Ttl)
		}
	}
	return time.Duration(ttl) * time.Second
}

// fill copies the entry into m with TTLs aged by the time spent in cache,
// so downstream caches do not keep the answer longer than its origin said.
func (e *cacheEntry) fill(m *mdns.Msg, now time.Time) {
	m.Rcode = e.rcode
	m.AuthenticatedData = e.ad
	age := uint32(now.Sub(e.stored) / time.Second)
	m.Answer = agedCopy(e.answer, age)
	m.Ns = agedCopy(e.ns, age)
	m.Extra = agedCopy(e.extr, age)
}

func agedCopy(rrs []mdns.RR, age uint32) []mdns.RR {
	if len(rrs) == 0 {
		return nil
	}
	out := make([]mdns.RR, len(rrs))
	for i, rr := range rrs {
		c := mdns.Copy(rr)
		h := c.Header()
		if h.Ttl > age {
			h.Ttl -= age
		} else {
			h.Ttl = 0
		}
		out[i] = c
	}
	return out
}

// cache is a bounded map. When full, expired entries go first, then an
// arbitrary one (Go's map order): simpler than LRU and, for a LAN's working
// set, about as good.
type cache struct {
	mu  sync.Mutex
	max int
	m   map[cacheKey]*cacheEntry
}

func (c *cache) get(k cacheKey, now time.Time) *cacheEntry {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.m[k]
	if e == nil {
		return nil
	}
	if !now.Before(e.expires) {
		delete(c.m, k)
		return nil
	}
	return e
}

func (c *cache) put(k cacheKey, e *cacheEntry) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.m) >= c.max {
		c.evict(e.stored)
	}
	c.m[k] = e
}

// evict frees one slot, preferring an expired entry among a few looked at.
func (c *cache) evict(now time.Time) {
	var victim cacheKey
	found := false
	looked := 0
	for k, e := range c.m {
		if !now.Before(e.expires) {
			delete(c.m, k)
			return
		}
		if !found {
			victim, found = k, true
		}
		if looked++; looked >= 8 {
			break
		}
	}
	if found {
		delete(c.m, victim)
	}
}

func (c *cache) len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

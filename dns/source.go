package dns

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// RecordSource says which app hosts exist in the zone. The platform adapts
// its registry to it (Has is registry.Lookup's ok), which keeps the registry
// the single source of DNS answers: a host resolves exactly while it is
// published.
//
// Has is called on the query path, concurrently, for any name of the zone
// that is not one of its fixed names, so it must be fast and should not
// lock. host is lower case, fully qualified without the trailing dot
// ("vault.home.example.com") and always inside the zone. A true answer
// makes the name resolve to the box's addresses.
//
// A source may also implement [Versioner] (so the SOA serial follows its
// changes) and [HostLister] (so [Server.Records] can list its hosts).
type RecordSource interface {
	Has(host string) bool
}

// Versioner is optionally implemented by a [RecordSource]. Version must
// change whenever the set of hosts changes; the zone's SOA serial moves with
// it so secondaries and caches can notice.
type Versioner interface {
	Version() uint64
}

// HostLister is optionally implemented by a [RecordSource]: Hosts returns
// every host (same form as Has receives), for [Server.Records].
type HostLister interface {
	Hosts() []string
}

// HostSet is a small concurrency-safe [RecordSource] (also a [Versioner]
// and a [HostLister]) for fixed configurations and tests. Reads are
// lock-free: the set is an immutable map swapped on each change.
type HostSet struct {
	mu      sync.Mutex // serialises writers
	set     atomic.Pointer[map[string]struct{}]
	version atomic.Uint64
}

// NewHostSet returns a set holding hosts.
func NewHostSet(hosts ...string) *HostSet {
	h := &HostSet{}
	h.Add(hosts...)
	return h
}

func hostKey(host string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(host), "."))
}

func (h *HostSet) edit(fn func(map[string]struct{})) {
	h.mu.Lock()
	defer h.mu.Unlock()
	next := map[string]struct{}{}
	if old := h.set.Load(); old != nil {
		for k := range *old {
			next[k] = struct{}{}
		}
	}
	fn(next)
	h.set.Store(&next)
	h.version.Add(1)
}

// Add publishes hosts (case-insensitive, trailing dot allowed).
func (h *HostSet) Add(hosts ...string) {
	h.edit(func(m map[string]struct{}) {
		for _, host := range hosts {
			m[hostKey(host)] = struct{}{}
		}
	})
}

// Remove withdraws hosts.
func (h *HostSet) Remove(hosts ...string) {
	h.edit(func(m map[string]struct{}) {
		for _, host := range hosts {
			delete(m, hostKey(host))
		}
	})
}

// Has implements [RecordSource].
func (h *HostSet) Has(host string) bool {
	m := h.set.Load()
	if m == nil {
		return false
	}
	_, ok := (*m)[host]
	return ok
}

// Version implements [Versioner].
func (h *HostSet) Version() uint64 { return h.version.Load() }

// Hosts implements [HostLister], sorted.
func (h *HostSet) Hosts() []string {
	m := h.set.Load()
	if m == nil {
		return nil
	}
	out := make([]string, 0, len(*m))
	for k := range *m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

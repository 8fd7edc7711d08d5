// Package registry is the in-memory table of published apps: for each app
// host, where to proxy it and who may reach it.
//
// It is the single source for routing, DNS answers, on-demand TLS permission
// and the gate's policy (DESIGN.md invariant 2): an app is reachable,
// resolvable and certifiable together or not at all, because all four read
// the same entry. Reads happen on every request and every DNS query, so they
// take no lock: the table is an immutable snapshot swapped atomically on
// each change (copy on write; changes are rare, reads are constant).
package registry

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Access is who may reach an app.
type Access string

const (
	// Private apps are open to any signed-in user. It is the default.
	Private Access = "private"
	// Restricted apps are open to the listed users and members of the listed groups.
	Restricted Access = "restricted"
	// Public apps need no sign-in.
	Public Access = "public"
)

// Policy is an app's access policy, read by the gate on each request.
type Policy struct {
	Access Access   `json:"access,omitempty"`
	Users  []string `json:"users,omitempty"`
	Groups []string `json:"groups,omitempty"`
	// PublicPaths are path patterns ("/api/*", "/health") that pass without
	// sign-in, for webhooks and clients that authenticate themselves.
	PublicPaths []string `json:"public_paths,omitempty"`
}

// Entry is one published app.
type Entry struct {
	// App is the app's id; it is also the first label of its host.
	App string `json:"app"`
	// Host is the full host name, lower case: "<app>.<domain>".
	Host string `json:"host"`
	// Upstream is the dial address ("host:port") of the app's main service.
	Upstream string `json:"upstream"`
	Policy   Policy `json:"policy"`
	// Alias marks a custom domain of the app (Host is then the user's own
	// name, e.g. "photos.example.org"): routed, certified and gated like
	// the app's main host.
	Alias bool `json:"alias,omitempty"`
	// Redirect, on an alias, is the app's main URL: the alias answers 308
	// to it instead of serving the app.
	Redirect string `json:"redirect,omitempty"`
}

// Registry holds the published apps. The zero value is not usable; call New.
type Registry struct {
	mu      sync.Mutex // serialises writers
	table   atomic.Pointer[map[string]Entry]
	version atomic.Uint64
	watch   []func()
}

// New returns an empty registry.
func New() *Registry {
	r := &Registry{}
	empty := map[string]Entry{}
	r.table.Store(&empty)
	return r
}

func normalize(host string) string {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	return host
}

// Lookup returns the entry for host (case-insensitive, trailing dot allowed).
func (r *Registry) Lookup(host string) (Entry, bool) {
	e, ok := (*r.table.Load())[normalize(host)]
	return e, ok
}

// Put publishes or replaces the entry for e.Host.
func (r *Registry) Put(e Entry) {
	e.Host = normalize(e.Host)
	r.change(func(m map[string]Entry) { m[e.Host] = e })
}

// Delete withdraws host; it is a no-op when host is not published.
func (r *Registry) Delete(host string) {
	host = normalize(host)
	r.change(func(m map[string]Entry) { delete(m, host) })
}

// DeleteApp withdraws every host of app.
func (r *Registry) DeleteApp(app string) {
	r.change(func(m map[string]Entry) {
		for h, e := range m {
			if e.App == app {
				delete(m, h)
			}
		}
	})
}

func (r *Registry) change(edit func(map[string]Entry)) {
	r.mu.Lock()
	old := *r.table.Load()
	next := make(map[string]Entry, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	edit(next)
	r.table.Store(&next)
	r.version.Add(1)
	watchers := r.watch
	r.mu.Unlock()
	for _, fn := range watchers {
		fn()
	}
}

// Entries returns every published entry, ordered by host.
func (r *Registry) Entries() []Entry {
	m := *r.table.Load()
	out := make([]Entry, 0, len(m))
	for _, e := range m {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Host < out[j].Host })
	return out
}

// Version counts changes; it lets caches (a DNS zone's SOA serial, say)
// notice that the table moved on.
func (r *Registry) Version() uint64 { return r.version.Load() }

// OnChange registers fn to be called after every change. fn must not block.
func (r *Registry) OnChange(fn func()) {
	r.mu.Lock()
	r.watch = append(r.watch, fn)
	r.mu.Unlock()
}

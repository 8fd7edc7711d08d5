package stores

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/stackhub/stackhub/internal/i18n"
)

// Source is where a store's apps come from: the embedded catalog, a
// folder, or an archive fetched over HTTP(S).
type Source interface {
	// Name is the store's name, unique in a catalog ("builtin", "casaos" …).
	Name() string
	// Load reads every app of the store. A broken app does not fail the
	// whole load: it is returned with Unavailable set. When the store
	// cannot be refreshed but a last good copy exists (an archive source's
	// cache), Load returns that copy's apps together with the error.
	Load(ctx context.Context) ([]App, error)
}

// locator is implemented by sources that live somewhere a user named.
type locator interface{ Location() string }

// StoreStatus is what `stackhub store list` shows of one store.
type StoreStatus struct {
	Name        string `json:"name"`
	Apps        int    `json:"apps"`
	Unavailable int    `json:"unavailable"`
	// Location is the store's URL or folder ("" for the built-in store).
	Location string `json:"location,omitempty"`
	// Refreshed is the time of the last refresh attempt, Updated of the
	// last one that succeeded.
	Refreshed time.Time `json:"refreshed"`
	Updated   time.Time `json:"updated"`
	Error     string    `json:"error,omitempty"`
	// FromIndex is set while the store's apps are the last good index kept
	// across a restart, until its first load.
	FromIndex bool `json:"from_index,omitempty"`
}

// Catalog is the set of stores a platform installs from. It is safe for
// concurrent use; a refresh swaps a store's apps whole, and keeps the last
// good copy when it fails.
type Catalog struct {
	refresh sync.Mutex // one refresh at a time
	mu      sync.RWMutex
	order   []string
	source  map[string]Source
	apps    map[string][]App
	status  map[string]*StoreStatus
	gen     map[string]int // bumped when a store is added or replaced
	index   Index          // keeps each store's last good apps across restarts (index.go)
}

// NewCatalog returns a catalog of the given sources; call Refresh to load them.
func NewCatalog(sources ...Source) *Catalog {
	c := &Catalog{source: map[string]Source{}, apps: map[string][]App{}, status: map[string]*StoreStatus{}, gen: map[string]int{}}
	for _, s := range sources {
		c.Add(s)
	}
	return c
}

// Add adds (or replaces) a store; it is loaded at the next Refresh.
func (c *Catalog) Add(s Source) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.source[s.Name()]; !ok {
		c.order = append(c.order, s.Name())
	}
	c.source[s.Name()] = s
	st := &StoreStatus{Name: s.Name()}
	if l, ok := s.(locator); ok {
		st.Location = l.Location()
	}
	c.status[s.Name()] = st
	c.gen[s.Name()]++
	delete(c.apps, s.Name())
}

// Remove removes a store and its apps; it reports whether there was one.
func (c *Catalog) Remove(name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.source[name]; !ok {
		return false
	}
	delete(c.source, name)
	delete(c.apps, name)
	delete(c.status, name)
	for i, n := range c.order {
		if n == name {
			c.order = append(c.order[:i], c.order[i+1:]...)
			break
		}
	}
	return true
}

// Refresh loads every store. A store that fails keeps its previous apps and
// reports the error in Status; the returned error joins those failures.
func (c *Catalog) Refresh(ctx context.Context) error {
	return c.refreshStores(ctx, nil)
}

// RefreshStore loads one store, the others left as they are (adding a
// store reads that store only).
func (c *Catalog) RefreshStore(ctx context.Context, name string) error {
	return c.refreshStores(ctx, func(n string) bool { return n == name })
}

func (c *Catalog) refreshStores(ctx context.Context, only func(string) bool) error {
	c.refresh.Lock()
	defer c.refresh.Unlock()
	c.mu.RLock()
	type job struct {
		src Source
		gen int
	}
	jobs := make([]job, 0, len(c.order))
	for _, n := range c.order {
		if only == nil || only(n) {
			jobs = append(jobs, job{c.source[n], c.gen[n]})
		}
	}
	c.mu.RUnlock()
	var errs []string
	for _, j := range jobs {
		s := j.src
		apps, err := s.Load(ctx)
		c.mu.Lock()
		st, ok := c.status[s.Name()]
		if !ok || c.gen[s.Name()] != j.gen {
			c.mu.Unlock() // removed or replaced meanwhile
			continue
		}
		st.Refreshed = time.Now()
		if err != nil {
			st.Error = err.Error()
			errs = append(errs, err.Error())
		} else {
			st.Error = ""
			st.Updated = st.Refreshed
		}
		// On error, a source may still give its last good copy; otherwise
		// the apps loaded before stay.
		if err == nil || (apps != nil && c.apps[s.Name()] == nil) {
			c.setApps(s.Name(), apps)
			st.FromIndex = false
		}
		updated := st.Updated
		c.mu.Unlock()
		if err == nil {
			if ierr := c.saveIndex(s.Name(), apps, updated); ierr != nil {
				errs = append(errs, ierr.Error())
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("refresh stores: %s", strings.Join(errs, "; "))
	}
	return nil
}

// setApps sets a store's apps; the caller holds c.mu.
func (c *Catalog) setApps(name string, apps []App) {
	for i := range apps {
		apps[i].Store = name
	}
	sort.Slice(apps, func(i, j int) bool { return apps[i].ID < apps[j].ID })
	c.apps[name] = apps
	st := c.status[name]
	st.Apps, st.Unavailable = len(apps), 0
	for _, a := range apps {
		if a.Unavailable != "" {
			st.Unavailable++
		}
	}
}

// RefreshEvery refreshes the catalog now and then every d until ctx ends;
// each store's outcome is in Status. Run it in its own goroutine.
func (c *Catalog) RefreshEvery(ctx context.Context, d time.Duration) {
	if d <= 0 {
		d = 6 * time.Hour
	}
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		c.Refresh(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Search lists the apps whose name, id, tagline, description or categories
// hold every word of query (case-insensitive), and that are in category
// when one is given. An empty query lists every app (of the category).
func (c *Catalog) Search(query, category string) []App {
	words := strings.Fields(strings.ToLower(query))
	category = strings.ToLower(strings.TrimSpace(category))
	var out []App
	for _, a := range c.Apps() {
		if category != "" {
			found := false
			for _, cat := range a.Categories {
				if strings.ToLower(cat) == category {
					found = true
				}
			}
			if !found {
				continue
			}
		}
		text := strings.ToLower(strings.Join(append([]string{a.ID, a.Name, a.Tagline, a.Description}, a.Categories...), " "))
		match := true
		for _, w := range words {
			if !strings.Contains(text, w) {
				match = false
				break
			}
		}
		if match {
			out = append(out, a)
		}
	}
	// Best matches first: in the name or id, then tagline or category,
	// then description.
	sort.SliceStable(out, func(i, j int) bool { return searchScore(out[i], words) > searchScore(out[j], words) })
	return out
}

func searchScore(a App, words []string) int {
	n := 0
	for _, w := range words {
		switch {
		case strings.Contains(strings.ToLower(a.Name), w) || strings.Contains(a.ID, w):
			n += 4
		case strings.Contains(strings.ToLower(a.Tagline), w) || strings.Contains(strings.ToLower(strings.Join(a.Categories, " ")), w):
			n += 2
		default:
			n++
		}
	}
	return n
}

// Status reports each store in the order they were added.
func (c *Catalog) Status() []StoreStatus {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]StoreStatus, 0, len(c.order))
	for _, n := range c.order {
		out = append(out, *c.status[n])
	}
	return out
}

// Apps lists every app of every store, stores in the order they were added.
func (c *Catalog) Apps() []App {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []App
	for _, n := range c.order {
		out = append(out, c.apps[n]...)
	}
	return out
}

// Find returns the app named ref: "store/id", or "id" when exactly one
// store has it. An id several stores have is an error that lists the
// STORE/ID forms to choose from.
func (c *Catalog) Find(ref string) (App, error) {
	store, id, qualified := strings.Cut(ref, "/")
	if !qualified {
		id, store = store, ""
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	var found []App
	var refs []string // STORE/ID of each found app
	for _, n := range c.order {
		if store != "" && n != store {
			continue
		}
		for _, a := range c.apps[n] {
			if a.ID == id {
				found = append(found, a)
				refs = append(refs, n+"/"+a.ID)
				break
			}
		}
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) > 1:
		return App{}, i18n.Errorf(nil, "app \"{{.App}}\" is in several stores: name one as STORE/ID: {{.Refs}}", "App", id, "Refs", strings.Join(refs, ", "))
	}
	if store != "" {
		if _, ok := c.source[store]; !ok {
			return App{}, i18n.Errorf(nil, "no store named \"{{.Store}}\": `stackhub store list` shows the stores (a folder on disk is written ./{{.Ref}})", "Store", store, "Ref", ref)
		}
	}
	return App{}, i18n.Errorf(nil, "no app \"{{.App}}\" in the stores: `stackhub store search WORD` finds apps, or pass the path of an app folder or compose file (./FOLDER)", "App", ref)
}

//go:embed all:builtin
var builtinFS embed.FS

// Builtin is the store compiled into StackHub: apps written by us in the
// native format, one folder each under builtin/.
func Builtin() Source { return FolderSource("builtin", mustSub(builtinFS, "builtin")) }

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

// FolderSource is a store of native app folders, one per top-level folder
// of fsys.
func FolderSource(name string, fsys fs.FS) Source { return NewFSSource(name, FormatNative, fsys) }

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
)

// Source is where a store's apps come from: the embedded catalog, a
// folder, or an archive fetched over HTTP(S).
type Source interface {
	// Name is the store's name, unique in a catalog ("builtin", "casaos" …).
	Name() string
	// Load reads every app of the store. A broken app does not fail the
	// whole load: it is returned with Unavailable set.
	Load(ctx context.Context) ([]App, error)
}

// StoreStatus is what `stackhub store list` shows of one store.
type StoreStatus struct {
	Name        string    `json:"name"`
	Apps        int       `json:"apps"`
	Unavailable int       `json:"unavailable"`
	Refreshed   time.Time `json:"refreshed"`
	Error       string    `json:"error,omitempty"`
}

// Catalog is the set of stores a platform installs from. It is safe for
// concurrent use; a refresh swaps a store's apps whole, and keeps the last
// good copy when it fails.
type Catalog struct {
	mu     sync.RWMutex
	order  []string
	source map[string]Source
	apps   map[string][]App
	status map[string]*StoreStatus
}

// NewCatalog returns a catalog of the given sources; call Refresh to load them.
func NewCatalog(sources ...Source) *Catalog {
	c := &Catalog{source: map[string]Source{}, apps: map[string][]App{}, status: map[string]*StoreStatus{}}
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
	c.status[s.Name()] = &StoreStatus{Name: s.Name()}
}

// Refresh loads every store. A store that fails keeps its previous apps and
// reports the error in Status; the returned error joins those failures.
func (c *Catalog) Refresh(ctx context.Context) error {
	c.mu.RLock()
	sources := make([]Source, 0, len(c.order))
	for _, n := range c.order {
		sources = append(sources, c.source[n])
	}
	c.mu.RUnlock()
	var errs []string
	for _, s := range sources {
		apps, err := s.Load(ctx)
		c.mu.Lock()
		st := c.status[s.Name()]
		st.Refreshed = time.Now()
		if err != nil {
			st.Error = err.Error()
			errs = append(errs, fmt.Sprintf("store %s: %v", s.Name(), err))
		} else {
			for i := range apps {
				apps[i].Store = s.Name()
			}
			sort.Slice(apps, func(i, j int) bool { return apps[i].ID < apps[j].ID })
			c.apps[s.Name()] = apps
			st.Error = ""
			st.Apps, st.Unavailable = len(apps), 0
			for _, a := range apps {
				if a.Unavailable != "" {
					st.Unavailable++
				}
			}
		}
		c.mu.Unlock()
	}
	if len(errs) > 0 {
		return fmt.Errorf("refresh stores: %s", strings.Join(errs, "; "))
	}
	return nil
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

// Find returns the app named ref: "store/id", or "id" for the first store
// (in the order added) that has it.
func (c *Catalog) Find(ref string) (App, error) {
	store, id, qualified := strings.Cut(ref, "/")
	if !qualified {
		id, store = store, ""
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, n := range c.order {
		if store != "" && n != store {
			continue
		}
		for _, a := range c.apps[n] {
			if a.ID == id {
				return a, nil
			}
		}
	}
	if store != "" {
		if _, ok := c.source[store]; !ok {
			return App{}, fmt.Errorf("no store named %q: `stackhub store list` shows the stores", store)
		}
	}
	return App{}, fmt.Errorf("no app %q in the stores: `stackhub store search WORD` finds apps, or pass the path of an app folder or compose file", ref)
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

type folderSource struct {
	name string
	fsys fs.FS
}

// FolderSource is a store of native app folders, one per top-level folder of fsys.
func FolderSource(name string, fsys fs.FS) Source { return folderSource{name, fsys} }

func (s folderSource) Name() string { return s.name }

func (s folderSource) Load(ctx context.Context) ([]App, error) {
	entries, err := fs.ReadDir(s.fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read store %s: %w", s.name, err)
	}
	var apps []App
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		app, err := ReadNative(s.fsys, e.Name(), e.Name())
		if err != nil {
			app = App{ID: e.Name(), Name: e.Name(), Unavailable: err.Error()}
		}
		apps = append(apps, app)
	}
	return apps, nil
}

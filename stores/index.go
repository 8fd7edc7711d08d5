package stores

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Index keeps each store's last good list of apps across restarts, so a
// platform serves its stores at once at start-up and loads them in the
// background (the platform keeps it in its state database).
type Index interface {
	LoadIndex(store string) ([]byte, bool)
	SaveIndex(store string, data []byte) error
}

// indexedApp is an App with the parts its JSON leaves out.
type indexedApp struct {
	App
	Compose []byte            `json:"compose"`
	Files   map[string][]byte `json:"files,omitempty"`
	Seed    map[string][]byte `json:"seed,omitempty"`
}

type indexDoc struct {
	Updated time.Time    `json:"updated"`
	Apps    []indexedApp `json:"apps"`
}

// maxIndexBytes bounds a decoded index (a corrupt or hostile one).
const maxIndexBytes = 512 << 20

func encodeIndex(apps []App, updated time.Time) ([]byte, error) {
	doc := indexDoc{Updated: updated, Apps: make([]indexedApp, len(apps))}
	for i, a := range apps {
		doc.Apps[i] = indexedApp{App: a, Compose: a.Compose, Files: a.Files, Seed: a.Seed}
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(doc); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func decodeIndex(b []byte) ([]App, time.Time, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, time.Time{}, err
	}
	var doc indexDoc
	if err := json.NewDecoder(io.LimitReader(zr, maxIndexBytes)).Decode(&doc); err != nil {
		return nil, time.Time{}, err
	}
	apps := make([]App, len(doc.Apps))
	for i, ia := range doc.Apps {
		a := ia.App
		a.Compose, a.Files, a.Seed = ia.Compose, ia.Files, ia.Seed
		apps[i] = a
	}
	return apps, doc.Updated, nil
}

// UseIndex makes the catalog keep each store's last good apps in ix, and
// serves at once, for every store not loaded yet, the apps ix kept: a
// refresh (in the background) replaces them. It returns the stores it
// could not serve from ix, which have no apps until they load.
func (c *Catalog) UseIndex(ix Index) (missing []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.index = ix
	for _, n := range c.order {
		if c.apps[n] != nil {
			continue
		}
		b, ok := ix.LoadIndex(n)
		if !ok {
			missing = append(missing, n)
			continue
		}
		apps, updated, err := decodeIndex(b)
		if err != nil {
			missing = append(missing, n)
			c.status[n].Error = fmt.Sprintf("the last good index of the store is unreadable (%v): loading", err)
			continue
		}
		c.setApps(n, apps)
		st := c.status[n]
		st.Updated, st.FromIndex = updated, true
	}
	return missing
}

// saveIndex keeps a store's apps in the index, if the catalog has one.
func (c *Catalog) saveIndex(name string, apps []App, updated time.Time) error {
	c.mu.RLock()
	ix := c.index
	c.mu.RUnlock()
	if ix == nil {
		return nil
	}
	b, err := encodeIndex(apps, updated)
	if err != nil {
		return fmt.Errorf("index of store %s: %w", name, err)
	}
	if err := ix.SaveIndex(name, b); err != nil {
		return fmt.Errorf("index of store %s: %w", name, err)
	}
	return nil
}

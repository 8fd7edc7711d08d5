package stores

import (
	"crypto/sha256"
	"io/fs"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
)

// appCache remembers the apps a source read, by app folder and the digest
// of the folder's files, so a refresh converts only the apps that changed:
// converting (compose-go loads, hazard checks) is what takes time, reading
// the files is quick. Umbrel's 390 apps took 12 s to convert on a busy
// 2-core machine; a refresh where nothing changed now reads files only.
type appCache struct {
	mu    sync.Mutex
	byDir map[string]cachedApp
	next  map[string]cachedApp // what this read saw, swapped in by done
}

// conversions counts the app folders converted through a cache (tests
// check that a refresh converts only what changed).
var conversions atomic.Int64

type cachedApp struct {
	sum  [sha256.Size]byte
	salt string // what else the conversion depended on (envDigest)
	app  App
	err  error
}

// read returns the app of folder dir, converting it only when its files
// (or salt: what else the conversion used) changed since the last read. A
// nil cache converts every time.
func (c *appCache) read(read func(fs.FS, string) (App, error), fsys fs.FS, dir, salt string) (App, error) {
	if c == nil {
		return readApp(read, fsys, dir)
	}
	sum, ok := folderSum(fsys, dir)
	c.mu.Lock()
	prev, hit := c.byDir[dir]
	c.mu.Unlock()
	if ok && hit && prev.sum == sum && prev.salt == salt {
		c.keep(dir, prev)
		return prev.app.shallowCopy(), prev.err
	}
	conversions.Add(1)
	app, err := readApp(read, fsys, dir)
	if ok {
		c.keep(dir, cachedApp{sum: sum, salt: salt, app: app.shallowCopy(), err: err})
	}
	return app, err
}

func (c *appCache) keep(dir string, e cachedApp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.next == nil {
		c.next = map[string]cachedApp{}
	}
	c.next[dir] = e
}

// done ends a read of the whole store: folders it did not see are
// forgotten.
func (c *appCache) done() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byDir, c.next = c.next, nil
}

// shallowCopy returns a copy whose slices are clipped, so appending to one
// copy's Warnings (say) never writes into another's.
func (a App) shallowCopy() App {
	a.Warnings = slices.Clip(a.Warnings)
	a.Fields = slices.Clip(a.Fields)
	a.Requires = slices.Clip(a.Requires)
	a.Hazards = slices.Clip(a.Hazards)
	a.Ports = slices.Clip(a.Ports)
	a.Categories = slices.Clip(a.Categories)
	return a
}

// folderSum digests the names and contents of the regular files below dir
// (symbolic links are not app files). ok is false when the folder cannot
// be read whole, or is larger than an app folder may be.
func folderSum(fsys fs.FS, dir string) (sum [sha256.Size]byte, ok bool) {
	h := sha256.New()
	total := 0
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		if total += len(b); total > maxAppBytes {
			return fs.ErrInvalid
		}
		h.Write([]byte(p + "\x00" + strconv.Itoa(len(b)) + "\x00"))
		h.Write(b)
		return nil
	})
	if err != nil {
		return sum, false
	}
	copy(sum[:], h.Sum(nil))
	return sum, true
}

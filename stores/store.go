package stores

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
)

// Format is the layout of a store's tree.
type Format string

// Store formats. FormatAuto detects the layout (DetectFormat).
const (
	FormatAuto    Format = ""
	FormatNative  Format = "native"
	FormatCasaOS  Format = "casaos"
	FormatRuntipi Format = "runtipi"
	FormatUmbrel  Format = "umbrel"
)

// ParseFormat reads a format name as a Caddyfile or the CLI gives it;
// "auto" and "" detect the layout.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case FormatAuto, FormatNative, FormatCasaOS, FormatRuntipi, FormatUmbrel:
		return f, nil
	case "auto":
		return FormatAuto, nil
	case "stackhub":
		return FormatNative, nil
	case "tipi":
		return FormatRuntipi, nil
	}
	return "", fmt.Errorf("unknown store format %q: use native, casaos, runtipi, umbrel or auto", s)
}

// maxStoreApps bounds the apps one store may hold.
const maxStoreApps = 5000

// DetectFormat tells the layout of a store tree and the folder (relative to
// the tree's root) holding its app folders:
//
//	Apps/<Name>/docker-compose.yml with x-casaos      CasaOS  (root Apps)
//	apps/<id>/config.json                              Runtipi (root apps)
//	<id>/umbrel-app.yml                                Umbrel  (root .)
//	<id>/compose.yaml with x-stackhub                  native  (root .)
//
// A tree whose only entry is a folder (an archive of a repository,
// "repo-main/") is looked into.
func DetectFormat(fsys fs.FS) (Format, string, error) {
	return detect(fsys, ".", 0)
}

func detect(fsys fs.FS, dir string, depth int) (Format, string, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return "", "", fmt.Errorf("read store: %w", err)
	}
	var dirs []string
	files := 0
	has := map[string]bool{}
	for _, e := range entries {
		has[e.Name()] = e.IsDir()
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			dirs = append(dirs, e.Name())
		} else if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			files++
		}
	}
	if has["Apps"] {
		return FormatCasaOS, path.Join(dir, "Apps"), nil
	}
	if has["apps"] && anyChildHas(fsys, path.Join(dir, "apps"), "config.json") {
		return FormatRuntipi, path.Join(dir, "apps"), nil
	}
	if _, err := fs.Stat(fsys, path.Join(dir, "umbrel-app-store.yml")); err == nil || anyChildHas(fsys, dir, "umbrel-app.yml") {
		return FormatUmbrel, dir, nil
	}
	if anyChildHas(fsys, dir, "config.json") && anyChildHas(fsys, dir, "docker-compose.json", "docker-compose.yml") {
		return FormatRuntipi, dir, nil
	}
	if f := nativeOrCasa(fsys, dir, dirs); f != "" {
		return f, dir, nil
	}
	if len(dirs) == 1 && files <= 2 && depth < 2 {
		// "repo-main/" of an archive, maybe next to a README.
		return detect(fsys, path.Join(dir, dirs[0]), depth+1)
	}
	return "", "", errors.New("cannot tell the store's format: expected Apps/<app>/docker-compose.yml (CasaOS), apps/<app>/config.json (Runtipi), <app>/umbrel-app.yml (Umbrel) or <app>/compose.yaml with an x-stackhub block (native)")
}

func anyChildHas(fsys fs.FS, dir string, names ...string) bool {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		for _, n := range names {
			if _, err := fs.Stat(fsys, path.Join(dir, e.Name(), n)); err == nil {
				return true
			}
		}
	}
	return false
}

// nativeOrCasa looks at the compose files of a few app folders for an
// x-stackhub or x-casaos block.
func nativeOrCasa(fsys fs.FS, dir string, dirs []string) Format {
	looked := 0
	for _, d := range dirs {
		b, _, err := readFirst(fsys, path.Join(dir, d), composeNames)
		if err != nil {
			continue
		}
		s := string(b)
		switch {
		case strings.Contains(s, "x-stackhub:"):
			return FormatNative
		case strings.Contains(s, "x-casaos:"):
			return FormatCasaOS
		}
		if looked++; looked >= 20 {
			break
		}
	}
	return ""
}

// ReadStore reads every app of a store tree in the given format
// (FormatAuto detects it). An app that cannot be read is returned with
// Unavailable set to the reason; only a tree that is not a store at all is
// an error.
func ReadStore(ctx context.Context, fsys fs.FS, format Format) ([]App, error) {
	return readStore(ctx, fsys, format, nil)
}

// readStore is ReadStore converting only the app folders that changed since
// cache's last read (readcache.go); a nil cache converts every app.
func readStore(ctx context.Context, fsys fs.FS, format Format, cache *appCache) ([]App, error) {
	root := "."
	if format == FormatAuto {
		f, r, err := DetectFormat(fsys)
		if err != nil {
			return nil, err
		}
		format, root = f, r
	} else {
		root = formatRoot(fsys, format)
	}
	var read func(fs.FS, string) (App, error)
	var depEnvs map[string]map[string]string // by app folder: what its required apps export
	if format == FormatUmbrel {
		depEnvs = umbrelDependencyEnvs(fsys, root)
	}
	switch format {
	case FormatNative:
		read = func(f fs.FS, dir string) (App, error) { return ReadNative(f, dir, path.Base(dir)) }
	case FormatCasaOS:
		read = ReadCasaOS
	case FormatRuntipi:
		read = ReadRuntipi
	case FormatUmbrel:
		read = func(f fs.FS, dir string) (App, error) {
			return readUmbrel(withDependencyEnv(ctx, depEnvs[dir]), f, dir)
		}
	default:
		return nil, fmt.Errorf("unknown store format %q", format)
	}
	entries, err := fs.ReadDir(fsys, root)
	if err != nil {
		return nil, fmt.Errorf("read store: %w", err)
	}
	var apps []App
	byID := map[string]string{}
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") || strings.HasPrefix(e.Name(), "_") {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		dir := path.Join(root, e.Name())
		if !isAppFolder(fsys, dir, format) {
			continue
		}
		if len(apps) >= maxStoreApps {
			return nil, fmt.Errorf("the store holds more than %d apps", maxStoreApps)
		}
		app, err := cache.read(read, fsys, dir, envDigest(depEnvs[dir]))
		if err == nil && format == FormatNative {
			// Native apps are written by hand: check them as the readers
			// check what they convert.
			if _, verr := validateApp(ctx, app); verr != nil {
				app.Unavailable = verr.Error()
			}
		}
		if err != nil {
			id := app.ID
			if !ValidID(id) {
				id = sanitizeID(e.Name())
			}
			if !ValidID(id) {
				id = fmt.Sprintf("app-%d", len(apps)+1)
			}
			name := app.Name
			if name == "" {
				name = e.Name()
			}
			app = App{ID: id, Name: name, Unavailable: err.Error()}
		}
		if prev, dup := byID[app.ID]; dup {
			app = App{ID: uniqueID(app.ID, byID), Name: app.Name,
				Unavailable: fmt.Sprintf("folder %s has the app id %q of folder %s", e.Name(), app.ID, prev)}
		}
		byID[app.ID] = e.Name()
		apps = append(apps, app)
	}
	sort.SliceStable(apps, func(i, j int) bool { return apps[i].ID < apps[j].ID })
	linkDependencies(apps)
	cache.done()
	return apps, nil
}

func uniqueID(id string, used map[string]string) string {
	for n := 2; ; n++ {
		c := fmt.Sprintf("%s-%d", id, n)
		if len(c) > 63 {
			c = fmt.Sprintf("app-%d", n)
		}
		if _, ok := used[c]; !ok && ValidID(c) {
			return c
		}
	}
}

// readApp reads one app folder; a panic of a reader (a bug met on odd
// input) makes that one app unavailable instead of taking the store down.
func readApp(read func(fs.FS, string) (App, error), fsys fs.FS, dir string) (app App, err error) {
	defer func() {
		if r := recover(); r != nil {
			app, err = App{}, fmt.Errorf("internal error reading %s: %v", dir, r)
		}
	}()
	return read(fsys, dir)
}

// formatRoot is the folder of a store tree holding the app folders of a
// known format.
func formatRoot(fsys fs.FS, format Format) string {
	dir := "."
	for depth := 0; depth < 3; depth++ {
		switch format {
		case FormatCasaOS:
			if isDir(fsys, path.Join(dir, "Apps")) {
				return path.Join(dir, "Apps")
			}
		case FormatRuntipi:
			if isDir(fsys, path.Join(dir, "apps")) {
				return path.Join(dir, "apps")
			}
		}
		entries, err := fs.ReadDir(fsys, dir)
		if err != nil {
			return dir
		}
		var only string
		n := 0
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), ".") && e.IsDir() {
				only = e.Name()
				n++
			}
		}
		if n != 1 || isAppFolder(fsys, path.Join(dir, only), format) {
			return dir
		}
		dir = path.Join(dir, only)
	}
	return dir
}

func isDir(fsys fs.FS, name string) bool {
	st, err := fs.Stat(fsys, name)
	return err == nil && st.IsDir()
}

// isAppFolder reports whether dir looks like an app folder of format:
// folders without the format's main file (docs, schemas, nested groups)
// are not apps.
func isAppFolder(fsys fs.FS, dir string, format Format) bool {
	var names []string
	switch format {
	case FormatNative:
		names = composeNames
	case FormatCasaOS:
		names = casaComposeNames
	case FormatRuntipi:
		names = []string{"config.json"}
	case FormatUmbrel:
		names = []string{"umbrel-app.yml", "umbrel-app.yaml"}
	}
	for _, n := range names {
		if _, err := fs.Stat(fsys, path.Join(dir, n)); err == nil {
			return true
		}
	}
	return false
}

type fsSource struct {
	name   string
	format Format
	fsys   fs.FS
}

// NewFSSource is a store read from fsys in the given format (FormatAuto
// detects it): an embedded tree, or any fs.FS.
func NewFSSource(name string, format Format, fsys fs.FS) Source {
	return fsSource{name: name, format: format, fsys: fsys}
}

func (s fsSource) Name() string { return s.name }

func (s fsSource) Load(ctx context.Context) ([]App, error) {
	apps, err := ReadStore(ctx, s.fsys, s.format)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", s.name, err)
	}
	return apps, nil
}

type dirSource struct {
	name   string
	dir    string
	format Format
	cache  *appCache
}

// DirSource is a store in a local folder (a checkout of a store's
// repository, say), read anew at each Load. Symbolic links pointing out of
// the folder are not followed.
func DirSource(name, dir string, format Format) Source {
	return dirSource{name: name, dir: dir, format: format, cache: &appCache{}}
}

func (s dirSource) Name() string     { return s.name }
func (s dirSource) Location() string { return s.dir }

func (s dirSource) Load(ctx context.Context) ([]App, error) {
	root, err := os.OpenRoot(s.dir)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", s.name, err)
	}
	defer root.Close()
	apps, err := readStore(ctx, root.FS(), s.format, s.cache)
	if err != nil {
		return nil, fmt.Errorf("store %s (%s): %w", s.name, s.dir, err)
	}
	return apps, nil
}

package stores

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// composeNames are the file names a native app folder's compose file may
// have, in the order they are looked for.
var composeNames = []string{"compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"}

// nativeMeta is the x-stackhub block of a native compose file.
type nativeMeta struct {
	ID            string   `yaml:"id"`
	Name          string   `yaml:"name"`
	Tagline       string   `yaml:"tagline"`
	Description   string   `yaml:"description"`
	Icon          string   `yaml:"icon"`
	Version       string   `yaml:"version"`
	Website       string   `yaml:"website"`
	Source        string   `yaml:"source"`
	Categories    []string `yaml:"categories"`
	Architectures []string `yaml:"architectures"`
	Main          struct {
		Service string `yaml:"service"`
		Port    int    `yaml:"port"`
		Scheme  string `yaml:"scheme"`
	} `yaml:"main"`
	Fields []Field `yaml:"fields"`
	// NoWebUI: the app has no web UI (main.port is then not needed).
	NoWebUI bool `yaml:"no_web_ui"`
	// Ports describe the app's host publications other than the web UI.
	Ports []Port `yaml:"ports"`
	// OIDC declares that the app signs users in with OpenID Connect.
	OIDC *OIDC `yaml:"oidc"`
}

// composeDoc is the part of a compose file the readers look at.
type composeDoc struct {
	Name     string `yaml:"name"`
	Services map[string]struct {
		Image  string `yaml:"image"`
		Ports  []any  `yaml:"ports"`
		Expose []any  `yaml:"expose"`
	} `yaml:"services"`
	Meta *nativeMeta `yaml:"x-stackhub"`
}

// ReadNative reads the native app folder dir of fsys: a compose file with an
// x-stackhub block, and the other files of the folder. id is used when the
// block names none.
func ReadNative(fsys fs.FS, dir, id string) (App, error) {
	var composeName string
	var compose []byte
	for _, name := range composeNames {
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err == nil {
			composeName, compose = name, b
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return App{}, fmt.Errorf("read %s: %w", path.Join(dir, name), err)
		}
	}
	if compose == nil {
		return App{}, fmt.Errorf("app folder %s has no compose file (looked for %s)", dir, strings.Join(composeNames, ", "))
	}
	app, err := parseNative(compose, id)
	if err != nil {
		return App{}, fmt.Errorf("%s: %w", path.Join(dir, composeName), err)
	}
	files, err := readFiles(fsys, dir, composeName)
	if err != nil {
		return App{}, err
	}
	for name, b := range files {
		if rest, ok := strings.CutPrefix(name, "seed/"); ok {
			if app.Seed == nil {
				app.Seed = map[string][]byte{}
			}
			app.Seed[rest] = b
			delete(files, name)
		}
	}
	if len(files) > 0 {
		app.Files = files
	}
	return app, nil
}

// maxAppFiles and maxAppBytes bound what one app folder may hold, so a
// hostile store cannot exhaust memory.
const (
	maxAppFiles = 200
	maxAppBytes = 8 << 20
)

func readFiles(fsys fs.FS, dir, skip string) (map[string][]byte, error) {
	files := map[string][]byte{}
	total := 0
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil // symlinks and devices are not app files
		}
		rel := p
		if dir != "." {
			rel = strings.TrimPrefix(p, dir+"/")
		}
		if rel == skip {
			return nil
		}
		if len(files) >= maxAppFiles {
			return fmt.Errorf("app folder %s holds more than %d files", dir, maxAppFiles)
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		total += len(b)
		if total > maxAppBytes {
			return fmt.Errorf("app folder %s holds more than %d MiB", dir, maxAppBytes>>20)
		}
		files[rel] = b
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read app folder %s: %w", dir, err)
	}
	return files, nil
}

func parseNative(compose []byte, id string) (App, error) {
	var doc composeDoc
	if err := yaml.Unmarshal(compose, &doc); err != nil {
		return App{}, fmt.Errorf("invalid YAML: %w", err)
	}
	if len(doc.Services) == 0 {
		return App{}, errors.New("no services: a compose file needs a top-level services: block")
	}
	meta := nativeMeta{}
	if doc.Meta != nil {
		meta = *doc.Meta
	}
	switch {
	case meta.ID != "":
		id = meta.ID
	case doc.Name != "":
		// A plain compose file names its project: that is the app the user means.
		id = sanitizeID(doc.Name)
	}
	if !ValidID(id) {
		return App{}, fmt.Errorf("app id %q is not a DNS label: use lower case letters, digits and '-' (set the top-level name: or x-stackhub.id)", id)
	}
	app := App{
		ID: id, Name: meta.Name, Tagline: meta.Tagline, Description: meta.Description,
		Icon: meta.Icon, Version: meta.Version, Website: meta.Website, Source: meta.Source,
		Categories: meta.Categories, Architectures: meta.Architectures,
		MainService: meta.Main.Service, MainPort: meta.Main.Port, MainScheme: meta.Main.Scheme,
		Fields: meta.Fields, Compose: compose, NoWebUI: meta.NoWebUI,
	}
	if app.Name == "" {
		app.Name = id
	}
	var err error
	if app.OIDC, err = checkOIDC(meta.OIDC, meta.Fields); err != nil {
		return App{}, err
	}
	if app.NoWebUI {
		// A service app: its main service runs it, and no port is routed.
		if app.MainService == "" {
			app.MainService, _, _ = chooseMain(doc, "", 0)
		}
		if app.MainService == "" && len(doc.Services) > 0 {
			app.MainService = firstServiceName(doc)
		}
		if _, ok := doc.Services[app.MainService]; !ok {
			return App{}, fmt.Errorf("x-stackhub.main.service %q is not a service of the compose file", app.MainService)
		}
		if app.MainPort < 0 || app.MainPort > 65535 {
			return App{}, fmt.Errorf("x-stackhub.main.port %d is not a port number", app.MainPort)
		}
	} else {
		if app.MainService, app.MainPort, err = chooseMain(doc, app.MainService, app.MainPort); err != nil {
			return App{}, err
		}
		if app.MainPort <= 0 || app.MainPort > 65535 {
			return App{}, fmt.Errorf("x-stackhub.main.port %d is not a port number", app.MainPort)
		}
	}
	for i, f := range app.Fields {
		if f.Key == "" {
			return App{}, fmt.Errorf("x-stackhub.fields[%d] has no key", i)
		}
		if !validVarName(f.Key) {
			return App{}, fmt.Errorf("x-stackhub.fields[%d]: key %q is not a variable name (letters, digits and '_')", i, f.Key)
		}
		if isInstallVariable(f.Key) {
			return App{}, fmt.Errorf("x-stackhub.fields[%d]: key %s is an install variable the platform sets", i, f.Key)
		}
		if f.Type == "" {
			app.Fields[i].Type = FieldText
		}
		if f.Label == "" {
			app.Fields[i].Label = f.Key
		}
	}
	if generic, err := decodeYAML(compose); err == nil {
		app.Ports = describePorts(publishedPorts(generic), meta.Ports)
		app.Images = composeImages(generic)
	}
	if hz, err := hazardsOfApp(context.Background(), app); err != nil {
		app.Warnings = append(app.Warnings, "compose file not checked for hazards: "+err.Error())
	} else {
		app.Hazards = hz
	}
	return app, nil
}

// validVarName reports whether s can name a compose variable.
func validVarName(s string) bool {
	if s == "" || !isVarStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isVarChar(s[i]) {
			return false
		}
	}
	return true
}

// describePorts copies the descriptions of the x-stackhub ports block onto
// the publications found in the compose file (matched by service and
// target, and protocol when given).
func describePorts(found, described []Port) []Port {
	for i, p := range found {
		for _, d := range described {
			if (d.Service == "" || d.Service == p.Service) && d.Target == p.Target && (d.Protocol == "" || d.Protocol == p.Protocol) {
				found[i].Description = d.Description
				break
			}
		}
	}
	return found
}

// ReadPath reads a user's own app: a native app folder, or a single compose
// file. The app id is x-stackhub.id, else the compose file's top-level
// name, else the folder's name.
func ReadPath(p string) (App, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return App{}, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return App{}, fmt.Errorf("read app %s: %w", p, err)
	}
	dir, only := abs, ""
	if !st.IsDir() {
		dir, only = filepath.Dir(abs), filepath.Base(abs)
	}
	id := sanitizeID(filepath.Base(dir))
	if only == "" {
		app, err := ReadNative(os.DirFS(dir), ".", id)
		if err != nil {
			return App{}, err
		}
		app.Store = "local"
		return app, nil
	}
	b, err := os.ReadFile(abs)
	if err != nil {
		return App{}, fmt.Errorf("read app %s: %w", p, err)
	}
	app, err := parseNative(b, id)
	if err != nil {
		return App{}, fmt.Errorf("%s: %w", p, err)
	}
	app.Store = "local"
	return app, nil
}

// sanitizeID turns a folder name into an app id.
func sanitizeID(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '-' || r == '_' || r == ' ' || r == '.':
			b.WriteByte('-')
		}
	}
	s := strings.Trim(b.String(), "-")
	if len(s) > 63 {
		s = strings.Trim(s[:63], "-")
	}
	return s
}

// firstServiceName is the first service of doc in name order.
func firstServiceName(doc composeDoc) string {
	first := ""
	for n := range doc.Services {
		if first == "" || n < first {
			first = n
		}
	}
	return first
}

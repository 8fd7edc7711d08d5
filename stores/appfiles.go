package stores

import (
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// addReferencedFiles copies into app.Files the files of the app's store
// folder (dir of fsys) that its compose file uses by a relative path: bind
// mount sources ("./nginx:/etc/nginx"), build contexts, env files. appctl
// writes Files next to the compose file, where those paths lead. Only
// regular files are copied: a symbolic link is never followed (it could
// lead out of the store), and a path leaving the folder ("../x") is
// refused. The app folder's limits (maxAppFiles, maxAppBytes) hold.
func addReferencedFiles(app *App, fsys fs.FS, dir string) error {
	refs := relativeReferences(app.Compose)
	if len(refs) == 0 {
		return nil
	}
	if app.Files == nil {
		app.Files = map[string][]byte{}
	}
	total := 0
	for _, b := range app.Files {
		total += len(b)
	}
	for _, ref := range refs {
		if ref == "." || ref == ".." || strings.HasPrefix(ref, "../") {
			return fmt.Errorf("the compose file uses %q, outside the app's folder", ref)
		}
		if isSymlink(fsys, path.Join(dir, ref)) {
			continue
		}
		err := fs.WalkDir(fsys, path.Join(dir, ref), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !d.Type().IsRegular() {
				return nil // symbolic links and devices are not app files
			}
			rel := strings.TrimPrefix(p, dir+"/")
			if _, ok := app.Files[rel]; ok {
				return nil
			}
			if len(app.Files) >= maxAppFiles {
				return fmt.Errorf("app folder %s holds more than %d files", dir, maxAppFiles)
			}
			b, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			if total += len(b); total > maxAppBytes {
				return fmt.Errorf("app folder %s holds more than %d MiB", dir, maxAppBytes>>20)
			}
			app.Files[rel] = b
			return nil
		})
		if err != nil && !strings.Contains(err.Error(), "not exist") {
			return err
		}
	}
	return nil
}

// isSymlink reports whether name is a symbolic link, as its folder lists it.
func isSymlink(fsys fs.FS, name string) bool {
	entries, err := fs.ReadDir(fsys, path.Dir(name))
	if err != nil {
		return false
	}
	for _, e := range entries {
		if e.Name() == path.Base(name) {
			return e.Type()&fs.ModeSymlink != 0
		}
	}
	return false
}

// relativeReferences lists the relative paths a compose file uses (clean,
// slash-separated, without "./").
func relativeReferences(compose []byte) []string {
	doc, err := decodeYAML(compose)
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "$") || strings.Contains(p, "://") {
			return
		}
		if !strings.HasPrefix(p, ".") && !strings.Contains(p, "/") {
			return // a named volume, not a path
		}
		c := path.Clean(p)
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	for _, svc := range serviceMap(doc) {
		for _, v := range asList(svc["volumes"]) {
			if m := asMap(v); m != nil {
				if scalarString(m["type"]) == "bind" || scalarString(m["type"]) == "" {
					add(scalarString(m["source"]))
				}
			} else if src, _, ok := strings.Cut(scalarString(v), ":"); ok {
				add(src)
			}
		}
		switch b := svc["build"].(type) {
		case string:
			add("./" + strings.TrimPrefix(b, "./"))
		case map[string]any:
			if c := scalarString(b["context"]); c != "" {
				add("./" + strings.TrimPrefix(c, "./"))
			}
		}
		switch e := svc["env_file"].(type) {
		case string:
			add(e)
		case []any:
			for _, x := range e {
				if m := asMap(x); m != nil {
					add(scalarString(m["path"]))
				} else {
					add(scalarString(x))
				}
			}
		}
	}
	return out
}

package appctl

import (
	"errors"
	"fmt"
	"github.com/stackhub/stackhub/stores"
	"io/fs"
	"os"
	"path"
	"path/filepath"
)

// StackHub's own file operations under an app's folder go through os.Root
// (DESIGN.md, "Apps are untrusted"): a container that can write into its
// data folder can plant symbolic links there, and StackHub, running as root,
// must never write, read or remove through such a link to a place outside
// the app's folder. os.Root resolves every name inside the folder it was
// opened on, refuses names that lead out of it (by "..", or by a link), and
// RemoveAll removes a link itself, never what it points at.
//
// The folders above an app's folder (the data folder and apps/) are
// StackHub's, and so is the app's folder itself: no container mounts them
// (paths.go), so the path to an app's folder can be opened plainly.

// openAppRoot opens app id's folder, creating it when missing.
func (m *Manager) openAppRoot(id string) (*os.Root, error) {
	dir := m.appDir(id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create app folder: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open app folder: %w", err)
	}
	return root, nil
}

// writeSource writes the app's source (its compose file and other files, as
// recorded) to source/, replacing what was there.
func (m *Manager) writeSource(rec *Record) error {
	root, err := m.openAppRoot(rec.ID)
	if err != nil {
		return err
	}
	defer root.Close()
	if err := root.RemoveAll("source"); err != nil {
		return fmt.Errorf("clear %s: %w", filepath.Join(root.Name(), "source"), err)
	}
	if err := root.Mkdir("source", 0o700); err != nil {
		return fmt.Errorf("create source folder: %w", err)
	}
	src, err := root.OpenRoot("source")
	if err != nil {
		return fmt.Errorf("open source folder: %w", err)
	}
	defer src.Close()
	// The x-stackhub block is text for people, not for the compose loader.
	if err := src.WriteFile("compose.yaml", stores.WithoutMeta(rec.Compose), 0o600); err != nil {
		return fmt.Errorf("write compose file: %w", err)
	}
	for name, b := range rec.Files {
		clean := path.Clean("/" + name)[1:]
		if clean == "" || clean == "compose.yaml" || clean != name {
			return fmt.Errorf("%w: app file name %q is not a plain relative path", ErrInvalid, name)
		}
		if dir := path.Dir(clean); dir != "." {
			if err := src.MkdirAll(dir, 0o700); err != nil {
				return fmt.Errorf("write %s: %w", name, err)
			}
		}
		if err := src.WriteFile(clean, b, 0o600); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}

// sourceMissing reports whether the app's source folder was lost (its
// compose file is gone), so it must be written again from the record.
func (m *Manager) sourceMissing(rec *Record) bool {
	root, err := os.OpenRoot(m.appDir(rec.ID))
	if err != nil {
		return true
	}
	defer root.Close()
	_, err = root.Lstat("source/compose.yaml")
	return err != nil
}

// writeRunCopy writes the project StackHub runs to compose.yaml in the
// app's folder, for `docker compose -f … ps` by hand. StackHub never reads
// it back.
func (m *Manager) writeRunCopy(rec *Record) error {
	root, err := m.openAppRoot(rec.ID)
	if err != nil {
		return err
	}
	defer root.Close()
	if err := root.Remove("compose.yaml"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("replace compose.yaml: %w", err)
	}
	return root.WriteFile("compose.yaml", rec.Validated, 0o600)
}

// prepareData creates the app's data folder and the seed files missing
// from it. Each seed file is created only if it does not exist yet: from
// the first install on they are the app's data, which a reinstall over kept
// data must not overwrite. A link the app planted where a seed file goes
// is not followed out of the data folder: the start is refused.
func (m *Manager) prepareData(rec *Record) error {
	root, err := m.openAppRoot(rec.ID)
	if err != nil {
		return err
	}
	defer root.Close()
	if err := root.MkdirAll("data", 0o755); err != nil {
		return fmt.Errorf("create data folder: %w", err)
	}
	data, err := root.OpenRoot("data")
	if err != nil {
		return fmt.Errorf("open data folder: %w", err)
	}
	defer data.Close()
	for name, b := range rec.Seed {
		clean := path.Clean("/" + name)[1:]
		if clean == "" || clean != name {
			return fmt.Errorf("%w: seed file name %q is not a plain relative path", ErrInvalid, name)
		}
		if err := writeSeedFile(data, clean, b); err != nil {
			return fmt.Errorf("seed file %s in %s: %w (if the app made a link there, remove it)", name, data.Name(), err)
		}
	}
	return nil
}

func writeSeedFile(data *os.Root, name string, b []byte) error {
	if dir := path.Dir(name); dir != "." {
		if err := data.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	// O_EXCL: an existing file, or a link (dangling or not), is left alone.
	f, err := data.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// removeAppFiles deletes app id's folder, or, with keepData, everything in
// it but the data folder. Links inside are removed, never followed.
func (m *Manager) removeAppFiles(id string, keepData bool) error {
	if keepData {
		root, err := os.OpenRoot(m.appDir(id))
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("open app folder: %w", err)
		}
		defer root.Close()
		if err := root.RemoveAll("source"); err != nil {
			return fmt.Errorf("delete %s: %w", filepath.Join(root.Name(), "source"), err)
		}
		if err := root.Remove("compose.yaml"); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("delete %s: %w", filepath.Join(root.Name(), "compose.yaml"), err)
		}
		return nil
	}
	apps, err := os.OpenRoot(filepath.Join(m.cfg.DataDir, "apps"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open apps folder: %w", err)
	}
	defer apps.Close()
	if err := apps.RemoveAll(id); err != nil {
		return fmt.Errorf("delete app folder %s: %w", m.appDir(id), err)
	}
	return nil
}

package stores

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReferencedStoreFilesAreCopied: files the compose file mounts from
// the app's store folder (Runtipi matrix-conduit's ./nginx) come with the
// app, as data/ does; a symbolic link out of the store is not followed.
func TestReferencedStoreFilesAreCopied(t *testing.T) {
	store := t.TempDir()
	src, err := filepath.Abs("testdata/runtipi/apps/matrix-conduit")
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(store, "matrix-conduit")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secret, []byte("host secret"), 0o600)
	if err := os.Symlink(secret, filepath.Join(dst, "nginx", "leak.conf")); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(store)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	app, err := ReadRuntipi(root.FS(), "matrix-conduit")
	if err != nil {
		t.Fatal(err)
	}
	if app.Unavailable != "" {
		t.Fatalf("unavailable: %s", app.Unavailable)
	}
	if !strings.Contains(string(app.Files["nginx/matrix.conf.template"]), "m.server") {
		t.Errorf("nginx/matrix.conf.template not copied: files %v", fileNames(app.Files))
	}
	if _, ok := app.Files["nginx/leak.conf"]; ok {
		t.Error("a symbolic link out of the store was followed")
	}
	for name, b := range app.Files {
		if strings.Contains(string(b), "host secret") {
			t.Errorf("%s holds the host's file", name)
		}
	}
	if _, ok := app.Seed["data/registration.json"]; !ok {
		t.Errorf("data/ is no longer seeded: %v", fileNames(app.Seed))
	}
	if !strings.Contains(string(app.Compose), "./nginx/matrix.conf.template") && !strings.Contains(string(app.Compose), "nginx/matrix.conf.template") {
		t.Errorf("compose lost the mount:\n%s", app.Compose)
	}
}

// TestReferencedFilesOutsideTheFolderRefused: a compose file mounting
// ../other is not read.
func TestReferencedFilesOutsideTheFolderRefused(t *testing.T) {
	app := App{Compose: []byte("services:\n  web:\n    image: x\n    volumes: [\"../other/secret:/s\"]\n")}
	if err := addReferencedFiles(&app, os.DirFS("testdata/runtipi/apps"), "matrix-conduit"); err == nil || len(app.Files) != 0 {
		t.Errorf("err %v, files %v", err, fileNames(app.Files))
	}
}

func fileNames[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

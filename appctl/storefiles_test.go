package appctl

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stackhub/stackhub/stores"
)

// TestUmbrelHookFilesCreatedAtInstall installs an Umbrel app whose
// pre-start hook makes a settings file with generated secrets (analysed,
// never run): the file is in the data folder with fresh secrets, and the
// container reads it as its env_file.
func TestUmbrelHookFilesCreatedAtInstall(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	app, err := stores.ReadUmbrel(os.DirFS(filepath.Join(storeFixtures, "umbrel-hooks")), "secret-notes")
	if err != nil || app.Unavailable != "" {
		t.Fatalf("read: %v %s", err, app.Unavailable)
	}
	app.Store = "umbrel"
	app = withTestImage(t, app)
	rec, err := h.m.Install(ctx, app, InstallOptions{}, nil)
	if err != nil {
		t.Fatalf("install: %v\n%s", err, app.Compose)
	}
	t.Cleanup(func() { h.m.Remove(context.Background(), app.ID, false, nil) })
	data := filepath.Join(h.dataDir, "apps", app.ID, "data")
	b, err := os.ReadFile(filepath.Join(data, "settings.env"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^SECRET_KEY=([0-9a-f]{64})\nDB_PASSWORD=(\S{32})\nSTORAGE_DIR=/config\n$`).FindStringSubmatch(string(b))
	if m == nil {
		t.Fatalf("settings.env = %q", b)
	}
	c := h.inspectService(t, rec, "web")
	for _, kv := range []string{"SECRET_KEY=" + m[1], "DB_PASSWORD=" + m[2], "STORAGE_DIR=/config"} {
		if !hasEnv(c, kv) {
			t.Errorf("env %v lacks %s", c.Config.Env, kv)
		}
	}
	if got, want := mountOf(c, "/config"), filepath.Join(data, "data", "config"); got != want {
		t.Errorf("/config is mounted from %q, want %q", got, want)
	}
	if got := h.get(t, rec.Host, "/"); !strings.HasPrefix(got, "hello from umbrel-web") {
		t.Errorf("route answers %q", got)
	}
}

// TestStoreFolderFilesMountedAtInstall installs a Runtipi app whose second
// service mounts a file of the app's store folder (matrix-conduit's
// ./nginx): the file is there, and mounted from the app's own folder.
func TestStoreFolderFilesMountedAtInstall(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	app, err := stores.ReadRuntipi(os.DirFS(filepath.Join(storeFixtures, "runtipi/apps")), "matrix-conduit")
	if err != nil || app.Unavailable != "" {
		t.Fatalf("read: %v %s", err, app.Unavailable)
	}
	app.Store = "runtipi"
	app = withTestImage(t, app)
	rec, err := h.m.Install(ctx, app, InstallOptions{}, nil)
	if err != nil {
		t.Fatalf("install: %v\n%s", err, app.Compose)
	}
	t.Cleanup(func() { h.m.Remove(context.Background(), app.ID, false, nil) })
	c := h.inspectService(t, rec, "matrix-conduit-well-known")
	src := mountOf(c, "/etc/nginx/templates/matrix.conf.template")
	if want := filepath.Join(h.dataDir, "apps", app.ID, "source", "nginx", "matrix.conf.template"); src != want {
		t.Fatalf("template mounted from %q, want %q", src, want)
	}
	if b, err := os.ReadFile(src); err != nil || !strings.Contains(string(b), "m.server") {
		t.Errorf("the mounted template: %q, %v", b, err)
	}
	if !hasEnv(c, "APP_DOMAIN="+rec.Host) {
		t.Errorf("env %v lacks APP_DOMAIN", c.Config.Env)
	}
	if got := mountOf(h.inspectService(t, rec, "matrix-conduit"), "/var/lib/matrix-conduit"); got != filepath.Join(h.dataDir, "apps", app.ID, "data", "data") {
		t.Errorf("conduit data mounted from %q", got)
	}
}

package appctl

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/stackhub/stackhub/stores"
)

// samplesEnv names the folder of real apps of the CasaOS, Runtipi and
// Umbrel stores (../shared/samples beside the repository here), which the
// repository does not ship; stores/testdata/stores holds apps we wrote in
// their shapes.
const samplesEnv = "STACKHUB_STORE_SAMPLES"

// withTestImage swaps every image of an app for the offline test image,
// since no image can be pulled here. It keeps everything else the store
// reader produced (volumes, ports, networks, variables), and drops only
// what belongs to the real image (commands, healthchecks and users that
// the test server's scratch image cannot run).
func withTestImage(t *testing.T, app stores.App) stores.App {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal(app.Compose, &doc); err != nil {
		t.Fatal(err)
	}
	services, _ := doc["services"].(map[string]any)
	for name, raw := range services {
		svc, _ := raw.(map[string]any)
		svc["image"] = testImage
		svc["pull_policy"] = "never"
		for _, k := range []string{"command", "entrypoint", "healthcheck", "user"} {
			delete(svc, k)
		}
		port := 8080
		if name == app.MainService {
			port = app.MainPort
		}
		env := map[string]any{}
		switch e := svc["environment"].(type) {
		case map[string]any:
			env = e
		case []any:
			for _, kv := range e {
				k, v, _ := strings.Cut(fmt.Sprint(kv), "=")
				env[k] = v
			}
		}
		env["PORT"] = fmt.Sprint(port)
		env["NAME"] = app.Store + "-" + name
		svc["environment"] = env
		if deps, ok := svc["depends_on"].(map[string]any); ok {
			for d := range deps {
				deps[d] = map[string]any{"condition": "service_started"}
			}
		}
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	app.Compose = b
	return app
}

// storeAppCase is an app of a foreign store to install: its folder under
// the store root, and a setting install must refuse until approved.
type storeAppCase struct {
	store, dir string
	hazard     string
}

// TestStoreFixturesInstallOnDocker installs an app of each foreign store
// format, from the fixtures we wrote in their shapes, on the real engine and
// reaches its main service through the registry at its subdomain.
func TestStoreFixturesInstallOnDocker(t *testing.T) {
	installStoreApps(t, "../stores/testdata/stores", []storeAppCase{
		{store: "casaos", dir: "casaos/Notes"},
		{store: "runtipi", dir: "runtipi/monitor", hazard: "/var/run/docker.sock"},
		{store: "umbrel", dir: "umbrel/notes"},
	})
}

// TestStoreSamplesInstallOnDocker does the same with real apps of the
// stores, when STACKHUB_STORE_SAMPLES names them.
func TestStoreSamplesInstallOnDocker(t *testing.T) {
	root := os.Getenv(samplesEnv)
	if root == "" {
		t.Skipf("real store samples not installed: set %s to their folder (e.g. ../shared/samples); TestStoreFixturesInstallOnDocker covers the same path", samplesEnv)
	}
	installStoreApps(t, root, []storeAppCase{
		{store: "casaos", dir: "casaos/Vaultwarden"},
		{store: "runtipi", dir: "runtipi/uptime-kuma", hazard: "/var/run/docker.sock"},
		{store: "umbrel", dir: "umbrel/vaultwarden"},
	})
}

// installStoreApps reads each app with its store's reader, installs it
// with the test image, checks that its subdomain reaches its main service,
// and removes it.
func installStoreApps(t *testing.T, root string, cases []storeAppCase) {
	h := newHarness(t)
	ctx := context.Background()
	for _, c := range cases {
		t.Run(c.store, func(t *testing.T) {
			fsys := os.DirFS(filepath.Join(root, filepath.Dir(c.dir)))
			base := filepath.Base(c.dir)
			var app stores.App
			var err error
			switch c.store {
			case "casaos":
				app, err = stores.ReadCasaOS(fsys, base)
			case "runtipi":
				app, err = stores.ReadRuntipi(fsys, base)
			case "umbrel":
				app, err = stores.ReadUmbrel(fsys, base)
			}
			if err != nil {
				t.Fatal(err)
			}
			app.Store = c.store
			app = withTestImage(t, app)
			if c.hazard != "" {
				_, err := h.m.Install(ctx, app, InstallOptions{}, nil)
				var hz *HazardError
				if !errors.As(err, &hz) || !strings.Contains(err.Error(), c.hazard) {
					t.Fatalf("install without approval: %v", err)
				}
				h.unchanged(t, app.ID)
			}
			rec, err := h.m.Install(ctx, app, InstallOptions{ApproveHazards: c.hazard != ""}, nil)
			if err != nil {
				t.Fatalf("install %s/%s: %v\ncompose:\n%s", c.store, app.ID, err, app.Compose)
			}
			want := "hello from " + c.store + "-" + app.MainService
			if got := h.get(t, rec.Host, "/"); !strings.HasPrefix(got, want) {
				t.Errorf("%s answers %q, want %q", rec.Host, got, want)
			}
			if err := h.m.Remove(ctx, app.ID, false, nil); err != nil {
				t.Fatal(err)
			}
		})
	}
}

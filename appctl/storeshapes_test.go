package appctl

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/stackhub/stackhub/internal/dockertest"
	"github.com/stackhub/stackhub/internal/kv"
	"github.com/stackhub/stackhub/internal/registry"
	"github.com/stackhub/stackhub/stores"
)

// Installs on the real engine of apps in the shapes of the real stores
// (stores/testdata/shapes), checking what the running containers get:
// their environment, mounts and ports (issue 11: Runtipi x-runtipi and
// ${VAR-default}, CasaOS PUID/PGID/TZ, Umbrel URLs).

// newHarnessWith is newHarness with the install variables the platform
// gives apps set to values no store writes itself.
func newHarnessWith(t *testing.T, tz, puid, pgid string) *harness {
	t.Helper()
	docker := dockertest.Client(t)
	dockertest.TestImage(t, docker, testImage)
	inst := dockertest.Instance(t, docker)
	h := &harness{docker: docker, instance: inst, dataDir: t.TempDir(), reg: registry.New()}
	var err error
	h.db, err = kv.Open(filepath.Join(h.dataDir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.db.Close() })
	h.m, err = New(context.Background(), Config{
		DataDir: h.dataDir, Domain: "test.localhost", Instance: inst,
		ProjectPrefix: inst + "-", Network: inst + "-platform", WaitTimeout: 90 * time.Second,
		TZ: tz, PUID: puid, PGID: pgid,
	}, h.db, h.reg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// shapeApp reads app id of a fixture store and swaps its images for the
// test image.
func shapeApp(t *testing.T, store string, format stores.Format, id string) stores.App {
	t.Helper()
	apps, err := stores.ReadStore(context.Background(), os.DirFS(filepath.Join("..", "stores", "testdata", "shapes", store)), format)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range apps {
		if a.ID == id {
			if a.Unavailable != "" {
				t.Fatalf("%s unavailable: %s", id, a.Unavailable)
			}
			a.Store = store
			return withTestImage(t, a)
		}
	}
	t.Fatalf("no app %s in %s", id, store)
	return stores.App{}
}

// running is what a service's container runs with.
type running struct {
	env    map[string]string
	mounts map[string]string // container path → host path
	ports  map[string]string // "target/proto" → "host_ip:host_port"
}

func (h *harness) inspect(t *testing.T, app, service string) running {
	t.Helper()
	ctx := context.Background()
	f := client.Filters{}.Add("label", LabelInstance+"="+h.instance, LabelApp+"="+app, "com.docker.compose.service="+service)
	cl, err := h.docker.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	if len(cl.Items) != 1 {
		t.Fatalf("%s/%s: %d containers", app, service, len(cl.Items))
	}
	res, err := h.docker.ContainerInspect(ctx, cl.Items[0].ID, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Container
	r := running{env: map[string]string{}, mounts: map[string]string{}, ports: map[string]string{}}
	for _, kv := range c.Config.Env {
		k, v, _ := strings.Cut(kv, "=")
		r.env[k] = v
	}
	for _, m := range c.Mounts {
		r.mounts[m.Destination] = m.Source
	}
	if c.HostConfig != nil {
		for p, bs := range c.HostConfig.PortBindings {
			for _, b := range bs {
				r.ports[p.String()] = b.HostIP.String() + ":" + b.HostPort
			}
		}
	}
	return r
}

func checkRunningEnv(t *testing.T, what string, got running, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if gv, ok := got.env[k]; !ok || gv != v {
			t.Errorf("%s: %s = %q (set %v), want %q", what, k, gv, ok, v)
		}
	}
}

func TestStoreShapesInstallOnDocker(t *testing.T) {
	h := newHarnessWith(t, "Asia/Tokyo", "4321", "4322")
	ctx := context.Background()
	appDir := func(id string) string { return filepath.Join(h.dataDir, "apps", id, "data") }

	t.Run("casaos fixed PUID, PGID and TZ", func(t *testing.T) {
		app := shapeApp(t, "casaos", stores.FormatCasaOS, "lidarrish")
		rec, err := h.m.Install(ctx, app, InstallOptions{}, nil)
		if err != nil {
			t.Fatalf("install: %v\n%s", err, app.Compose)
		}
		defer h.m.Remove(ctx, app.ID, false, nil)
		if got := h.get(t, rec.Host, "/"); !strings.HasPrefix(got, "hello from casaos-lidarrish") {
			t.Errorf("%s answers %q", rec.Host, got)
		}
		r := h.inspect(t, app.ID, "lidarrish")
		// The store wrote PUID=1000, PGID=1000, TZ=Europe/London.
		checkRunningEnv(t, "lidarrish", r, map[string]string{"PUID": "4321", "PGID": "4322", "TZ": "Asia/Tokyo"})
		if r.mounts["/config"] != filepath.Join(appDir(app.ID), "config") || r.mounts["/music"] != filepath.Join(appDir(app.ID), "shared", "Media", "Music") {
			t.Errorf("mounts = %v", r.mounts)
		}
		if len(r.ports) != 0 {
			t.Errorf("the web UI is published on the host: %v", r.ports)
		}
	})

	t.Run("umbrel URLs are the app's own", func(t *testing.T) {
		app := shapeApp(t, "umbrel", stores.FormatUmbrel, "slinkish")
		rec, err := h.m.Install(ctx, app, InstallOptions{}, nil)
		if err != nil {
			t.Fatalf("install: %v\n%s", err, app.Compose)
		}
		defer h.m.Remove(ctx, app.ID, false, nil)
		base := strings.TrimSuffix(rec.URL, "/")
		if !strings.HasPrefix(base, "https://slinkish.test.localhost") {
			t.Fatalf("app URL %q", rec.URL)
		}
		r := h.inspect(t, app.ID, "server")
		checkRunningEnv(t, "slinkish", r, map[string]string{
			"ORIGIN": base, "PUBLIC_URL": base + "/share", "CALLBACK": base + "/cb",
			"ALLOWED_HOSTS": rec.Host + ",localhost",
			"OTHER_APP":     "http://" + rec.Host + ":3001",
		})
		if r.mounts["/app/data"] != filepath.Join(appDir(app.ID), "data") {
			t.Errorf("mounts = %v", r.mounts)
		}
		if got := h.get(t, rec.Host, "/"); !strings.HasPrefix(got, "hello from umbrel-server") {
			t.Errorf("%s answers %q", rec.Host, got)
		}
	})

	t.Run("runtipi x-runtipi app, unset fields keep their defaults", func(t *testing.T) {
		app := shapeApp(t, "runtipi", stores.FormatRuntipi, "twofa")
		rec, err := h.m.Install(ctx, app, InstallOptions{}, nil)
		if err != nil {
			t.Fatalf("install: %v\n%s", err, app.Compose)
		}
		defer h.m.Remove(ctx, app.ID, false, nil)
		if got := h.get(t, rec.Host, "/"); !strings.HasPrefix(got, "hello from runtipi-twofa") {
			t.Errorf("%s answers %q", rec.Host, got)
		}
		r := h.inspect(t, app.ID, "twofa")
		// TWOFA_EMAIL was left empty: ${TWOFA_EMAIL-admin@example.com}.
		checkRunningEnv(t, "twofa", r, map[string]string{
			"MAIL_FROM": "admin@example.com", "APP_URL": strings.TrimSuffix(rec.URL, "/"), "TZ": "Asia/Tokyo"})
		if key := r.env["APP_KEY"]; len(key) != 32 {
			t.Errorf("APP_KEY = %q, want a generated 32-character value", key)
		}
		if db := h.inspect(t, app.ID, "twofa-db"); db.env["POSTGRES_PASSWORD"] != r.env["APP_KEY"] {
			t.Errorf("the database got another key: %q", db.env["POSTGRES_PASSWORD"])
		}
		if r.mounts["/srv/data"] != filepath.Join(appDir(app.ID), "data", "app") || len(r.ports) != 0 {
			t.Errorf("mounts %v, ports %v", r.mounts, r.ports)
		}
		st, err := h.m.Status(ctx, app.ID)
		if err != nil {
			t.Fatal(err)
		}
		if v := st.Record.Values["TWOFA_APP_KEY"]; v != "********" {
			t.Errorf("apps info shows the generated key: %q", v)
		}
		if _, ok := st.Record.Values["TWOFA_EMAIL"]; ok {
			t.Errorf("the empty field is recorded as a value: %v", st.Record.Values)
		}

		sonar := shapeApp(t, "runtipi", stores.FormatRuntipi, "hotiosonar")
		if _, err := h.m.Install(ctx, sonar, InstallOptions{}, nil); err != nil {
			t.Fatalf("install: %v\n%s", err, sonar.Compose)
		}
		defer h.m.Remove(ctx, sonar.ID, false, nil)
		// The whisparr shape: PUID=${X-1000} with an empty, optional field.
		checkRunningEnv(t, "hotiosonar", h.inspect(t, sonar.ID, "hotiosonar"), map[string]string{"PUID": "1000", "PGID": "1000", "UMASK": "002", "LOG_LEVEL": "info"})
	})

	t.Run("casaos key is masked by apps info", func(t *testing.T) {
		app := shapeApp(t, "casaos", stores.FormatCasaOS, "linkish")
		if _, err := h.m.Install(ctx, app, InstallOptions{}, nil); err != nil {
			t.Fatalf("install: %v\n%s", err, app.Compose)
		}
		defer h.m.Remove(ctx, app.ID, false, nil)
		r := h.inspect(t, app.ID, "linkish")
		checkRunningEnv(t, "linkish", r, map[string]string{"MEILI_MASTER_KEY": "3f1bde5c0c5a4e6f"})
		st, err := h.m.Status(ctx, app.ID)
		if err != nil {
			t.Fatal(err)
		}
		if v := st.Record.Values["MEILI_MASTER_KEY"]; v != "********" {
			t.Errorf("apps info shows MEILI_MASTER_KEY = %q", v)
		}
		if v := st.Record.Values["MEILI_HOST"]; v != "http://linkish-meili:7700" {
			t.Errorf("MEILI_HOST = %q, not a secret", v)
		}
	})
}

package appctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/compose/v5/pkg/api"
	"github.com/moby/moby/client"

	"github.com/stackhub/stackhub/internal/dockertest"
	"github.com/stackhub/stackhub/internal/kv"
	"github.com/stackhub/stackhub/internal/registry"
	"github.com/stackhub/stackhub/stores"
)

const testImage = "stackhub-testapp:dev"

type harness struct {
	m        *Manager
	reg      *registry.Registry
	db       *kv.DB
	docker   *client.Client
	instance string
	dataDir  string
}

func newHarness(t *testing.T) *harness {
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
	}, h.db, h.reg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func counterApp(t *testing.T) stores.App {
	t.Helper()
	app, err := stores.ReadPath("testdata/counter")
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// get fetches path from the app's upstream as the registry routes it.
func (h *harness) get(t *testing.T, host, path string) string {
	t.Helper()
	e, ok := h.reg.Lookup(host)
	if !ok || e.Upstream == "" {
		t.Fatalf("%s is not routed (entry %+v, published %v)", host, e, ok)
	}
	resp, err := http.Get("http://" + e.Upstream + path)
	if err != nil {
		t.Fatalf("GET %s%s: %v", host, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s%s: %d %s", host, path, resp.StatusCode, b)
	}
	return strings.TrimSpace(string(b))
}

// objects counts the app's containers, networks and volumes on the engine.
func (h *harness) objects(t *testing.T, app string) (containers, networks, volumes int) {
	t.Helper()
	ctx := context.Background()
	f := client.Filters{}.Add("label", LabelInstance+"="+h.instance, LabelApp+"="+app)
	cl, err := h.docker.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	nl, err := h.docker.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	vl, err := h.docker.VolumeList(ctx, client.VolumeListOptions{Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	return len(cl.Items), len(nl.Items), len(vl.Items)
}

func TestLifecycleOfATwoServiceApp(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	app := counterApp(t)
	if app.ID != "counter" || app.MainService != "web" || app.MainPort != 8080 {
		t.Fatalf("read app = %s %s %d", app.ID, app.MainService, app.MainPort)
	}
	var events []Event
	rec, err := h.m.Install(ctx, app, InstallOptions{}, func(e Event) { events = append(events, e) })
	if err != nil {
		t.Fatal(err)
	}
	if rec.URL != "https://counter.test.localhost/" {
		t.Errorf("URL = %s", rec.URL)
	}
	var layerEvents, done int
	for _, e := range events {
		if e.Phase == PhaseImage && e.Total > 0 && strings.Contains(e.Resource, " ") {
			layerEvents++
		}
		if e.Phase == PhaseDone && e.URL == rec.URL {
			done++
		}
	}
	if layerEvents == 0 || done != 1 {
		t.Errorf("progress: %d per-layer image events, %d done events: %+v", layerEvents, done, events)
	}
	host := "counter.test.localhost"
	if got := h.get(t, host, "/count"); got != "1" {
		t.Fatalf("first count = %q", got)
	}

	// The app is an ordinary compose project: Compose lists it (this is
	// what `docker compose ls` calls).
	stacks, err := h.m.Engine().List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range stacks {
		found = found || s.Name == rec.Project
	}
	if !found {
		t.Errorf("compose ls does not list %s: %+v", rec.Project, stacks)
	}
	// The web port is not published; the other port only on loopback.
	ps, err := h.m.Engine().Ps(ctx, rec.Project)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ps {
		for _, p := range c.Publishers {
			if p.PublishedPort == 0 {
				continue
			}
			if p.URL != "127.0.0.1" {
				t.Errorf("service %s publishes %d on %q: reachable from the LAN", c.Service, p.TargetPort, p.URL)
			}
			if c.Service == "web" && p.TargetPort == 8080 {
				t.Errorf("web port 8080 is published as %d", p.PublishedPort)
			}
		}
	}

	if err := h.m.Restart(ctx, "counter", nil); err != nil {
		t.Fatal(err)
	}
	if got := h.get(t, host, "/count"); got != "2" {
		t.Fatalf("count after restart = %q", got)
	}

	if err := h.m.Stop(ctx, "counter", nil); err != nil {
		t.Fatal(err)
	}
	if e, ok := h.reg.Lookup(host); !ok || e.Upstream != "" {
		t.Errorf("stopped app: entry %+v published %v; want kept with no upstream", e, ok)
	}
	st, err := h.m.Status(ctx, "counter")
	if err != nil || st.Health != "stopped" {
		t.Errorf("status after stop = %q, %v", st.Health, err)
	}
	if err := h.m.Start(ctx, "counter", nil); err != nil {
		t.Fatal(err)
	}
	if got := h.get(t, host, "/count"); got != "3" {
		t.Fatalf("count after stop/start = %q", got)
	}

	// remove --keep-data, then install again: the volume's data is back.
	if err := h.m.Remove(ctx, "counter", true, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := h.reg.Lookup(host); ok {
		t.Error("removed app still routed")
	}
	if c, _, v := h.objects(t, "counter"); c != 0 || v != 1 {
		t.Errorf("after remove --keep-data: %d containers, %d volumes; want 0 and 1", c, v)
	}
	if _, err := h.m.Install(ctx, app, InstallOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	if got := h.get(t, host, "/count"); got != "4" {
		t.Fatalf("count after reinstall = %q", got)
	}

	if err := h.m.Remove(ctx, "counter", false, nil); err != nil {
		t.Fatal(err)
	}
	if c, n, v := h.objects(t, "counter"); c+n+v != 0 {
		t.Errorf("after remove: %d containers, %d networks, %d volumes left", c, n, v)
	}
	if _, err := os.Stat(filepath.Join(h.dataDir, "apps", "counter")); !os.IsNotExist(err) {
		t.Errorf("app folder left after remove: %v", err)
	}
	if _, err := h.m.Status(ctx, "counter"); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("status after remove: %v", err)
	}
}

// writeApp writes a one-file app folder and reads it.
func writeApp(t *testing.T, name, compose string) (stores.App, error) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	os.MkdirAll(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(compose), 0o644); err != nil {
		t.Fatal(err)
	}
	return stores.ReadPath(dir)
}

func simpleApp(image, extra string) string {
	return fmt.Sprintf(`x-stackhub:
  main: {service: web, port: 8080}
services:
  web:
    image: %s
    pull_policy: missing
    environment: {PORT: "8080"}
%s`, image, extra)
}

// unchanged asserts that a failed operation left no trace: no record, no
// route, no Docker objects, no app folder.
func (h *harness) unchanged(t *testing.T, app string) {
	t.Helper()
	if keys, _ := h.db.Keys("apps/" + app); len(keys) != 0 {
		t.Errorf("record left: %v", keys)
	}
	for _, e := range h.reg.Entries() {
		if e.App == app {
			t.Errorf("route left: %+v", e)
		}
	}
	if c, n, v := h.objects(t, app); c+n+v != 0 {
		t.Errorf("docker objects left: %d containers, %d networks, %d volumes", c, n, v)
	}
	if _, err := os.Stat(filepath.Join(h.dataDir, "apps", app)); !os.IsNotExist(err) {
		t.Errorf("app folder left: %v", err)
	}
}

func TestBadInputIsRefusedAndChangesNothing(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()

	t.Run("invalid compose file points at the key", func(t *testing.T) {
		app, err := writeApp(t, "broken", simpleApp(testImage, "    imagee: typo\n"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = h.m.Install(ctx, app, InstallOptions{}, nil)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "services.web") || !strings.Contains(err.Error(), "imagee") {
			t.Fatalf("err = %v", err)
		}
		h.unchanged(t, "broken")
	})
	t.Run("YAML syntax error names the line", func(t *testing.T) {
		_, err := writeApp(t, "broken", "services:\n  web:\n    image: [unclosed\n")
		if err == nil || !strings.Contains(err.Error(), "line") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("hazard needs approval", func(t *testing.T) {
		app, err := writeApp(t, "risky", simpleApp(testImage, "    privileged: true\n    volumes: [\"/var/run/docker.sock:/var/run/docker.sock\"]\n"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = h.m.Install(ctx, app, InstallOptions{}, nil)
		var hz *HazardError
		if !errors.As(err, &hz) || len(hz.Hazards) != 2 || !strings.Contains(err.Error(), "--approve-hazards") {
			t.Fatalf("err = %v", err)
		}
		h.unchanged(t, "risky")
	})
	t.Run("image missing and no registry", func(t *testing.T) {
		app, err := writeApp(t, "noimage", simpleApp("stackhub-test-absent:1.0", ""))
		if err != nil {
			t.Fatal(err)
		}
		_, err = h.m.Install(ctx, app, InstallOptions{}, nil)
		var im *ImageMissingError
		if !errors.As(err, &im) || im.Image != "stackhub-test-absent:1.0" || !strings.Contains(err.Error(), "docker load") {
			t.Fatalf("err = %v", err)
		}
		h.unchanged(t, "noimage")
	})
	t.Run("missing required value", func(t *testing.T) {
		app, err := writeApp(t, "needy", simpleApp(testImage, "    command: [\"${TOKEN}\"]\nx-stackhub-unused: 1\n")+"")
		if err != nil {
			t.Fatal(err)
		}
		app.Fields = []stores.Field{{Key: "TOKEN", Label: "Token", Required: true}}
		_, err = h.m.Install(ctx, app, InstallOptions{}, nil)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "--set TOKEN=") {
			t.Fatalf("err = %v", err)
		}
		h.unchanged(t, "needy")
	})

	// A good app, then the errors that need one installed.
	app, err := writeApp(t, "first", simpleApp(testImage, ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.m.Install(ctx, app, InstallOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	t.Run("already installed", func(t *testing.T) {
		_, err := h.m.Install(ctx, app, InstallOptions{}, nil)
		if !errors.Is(err, ErrAlreadyInstalled) || !strings.Contains(err.Error(), "apps remove first") {
			t.Fatalf("err = %v", err)
		}
		if got := h.get(t, "first.test.localhost", "/"); !strings.HasPrefix(got, "hello from") {
			t.Fatalf("installed app disturbed: %q", got)
		}
	})
	t.Run("subdomain taken", func(t *testing.T) {
		other, err := writeApp(t, "second", simpleApp(testImage, ""))
		if err != nil {
			t.Fatal(err)
		}
		_, err = h.m.Install(ctx, other, InstallOptions{Subdomain: "first"}, nil)
		if !errors.Is(err, ErrTaken) || !strings.Contains(err.Error(), "--subdomain") {
			t.Fatalf("err = %v", err)
		}
		h.unchanged(t, "second")
		if _, err := h.m.Install(ctx, other, InstallOptions{Subdomain: "my"}, nil); !errors.Is(err, ErrTaken) {
			t.Fatalf("reserved subdomain: err = %v", err)
		}
	})
	t.Run("host port already in use", func(t *testing.T) {
		// "first" holds nothing on the host; take a port with a listener.
		l, err := listenLoopback()
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		port := l.Addr().(interface{ String() string }).String()
		port = port[strings.LastIndex(port, ":")+1:]
		busy, err := writeApp(t, "busy", simpleApp(testImage, "    ports: [\"127.0.0.1:"+port+":9999\"]\n"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = h.m.Install(ctx, busy, InstallOptions{}, nil)
		if err == nil || !strings.Contains(err.Error(), "already in use") {
			t.Fatalf("err = %v", err)
		}
		h.unchanged(t, "busy")
	})
	t.Run("unknown app", func(t *testing.T) {
		if err := h.m.Remove(ctx, "nosuchapp", false, nil); !errors.Is(err, ErrNotInstalled) || !strings.Contains(err.Error(), "apps list") {
			t.Fatalf("err = %v", err)
		}
	})
	if err := h.m.Remove(ctx, "first", false, nil); err != nil {
		t.Fatal(err)
	}
}

func TestDockerUnreachableSaysWhereItLooked(t *testing.T) {
	_, err := Connect(context.Background(), "unix:///nonexistent/docker.sock")
	var du *DockerUnreachableError
	if !errors.As(err, &du) || !strings.Contains(err.Error(), "unix:///nonexistent/docker.sock") || !strings.Contains(err.Error(), "docker_host") {
		t.Fatalf("err = %v", err)
	}
}

var _ = api.ProjectLabel

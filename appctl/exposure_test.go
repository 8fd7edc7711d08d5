package appctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/compose/v5/pkg/api"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"gopkg.in/yaml.v3"

	"github.com/stackhub/stackhub/internal/repotest"
	"github.com/stackhub/stackhub/stores"
)

// storeFixtures are the apps we wrote in the shape of each store's real
// apps, in the stores package's testdata.
const storeFixtures = "../stores/testdata"

// freePort returns a TCP port of 127.0.0.1 nothing listens on now.
var freePort = repotest.FreePort

// editCompose changes an app's compose document with f.
func editCompose(t *testing.T, app stores.App, f func(services map[string]any)) stores.App {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal(app.Compose, &doc); err != nil {
		t.Fatal(err)
	}
	f(doc["services"].(map[string]any))
	b, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	app.Compose = b
	return app
}

// inspectService inspects the running container of one service of an app.
func (h *harness) inspectService(t *testing.T, rec Record, service string) container.InspectResponse {
	t.Helper()
	ctx := context.Background()
	list, err := h.docker.ContainerList(ctx, client.ContainerListOptions{
		Filters: client.Filters{}.Add("label", api.ProjectLabel+"="+rec.Project, api.ServiceLabel+"="+service),
	})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("containers of %s/%s: %d, %v", rec.ID, service, len(list.Items), err)
	}
	res, err := h.docker.ContainerInspect(ctx, list.Items[0].ID, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return res.Container
}

func hasEnv(c container.InspectResponse, kv string) bool { return slices.Contains(c.Config.Env, kv) }

func mountOf(c container.InspectResponse, target string) string {
	for _, m := range c.Mounts {
		if m.Destination == target {
			return m.Source
		}
	}
	return ""
}

// TestHostNetworkAppInstallsWhenApproved installs a CasaOS app whose main
// service runs on the host's network (Home Assistant's shape): refused
// without approval, then installed, routed to the host's port, and
// recorded as open on the LAN.
func TestHostNetworkAppInstallsWhenApproved(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	app, err := stores.ReadCasaOS(os.DirFS(filepath.Join(storeFixtures, "casaos/Apps")), "HomeAssistant")
	if err != nil {
		t.Fatal(err)
	}
	app.Store = "casaos"
	port := freePort(t)
	app.MainPort = port // the test server listens where the app's port_map would be
	app = withTestImage(t, app)
	app = editCompose(t, app, func(s map[string]any) {
		env := s["homeassistant"].(map[string]any)["environment"].(map[string]any)
		env["LISTEN_HOST"] = "127.0.0.1" // tests listen on 127.0.0.1 only
	})

	_, err = h.m.Install(ctx, app, InstallOptions{}, nil)
	var hz *HazardError
	if !errors.As(err, &hz) || !strings.Contains(err.Error(), "network_mode: host") {
		t.Fatalf("install without approval: %v", err)
	}
	h.unchanged(t, app.ID)

	rec, err := h.m.Install(ctx, app, InstallOptions{ApproveHazards: true}, nil)
	if err != nil {
		t.Fatalf("install with approval: %v\n%s", err, app.Compose)
	}
	t.Cleanup(func() { h.m.Remove(context.Background(), app.ID, false, nil) })
	want := strconv.Itoa(port) + "/tcp"
	if !rec.HostNetwork || !slices.Contains(rec.LANPorts, want) {
		t.Errorf("record: host network %v, LAN ports %v; want host network with %s", rec.HostNetwork, rec.LANPorts, want)
	}
	st, err := h.m.Status(ctx, app.ID)
	if err != nil || !st.HostNetwork || !strings.Contains(st.Describe(st.URL), "open on the LAN") {
		t.Errorf("status: %+v, %v", st.Exposure, err)
	}

	c := h.inspectService(t, rec, "homeassistant")
	if c.HostConfig.NetworkMode != "host" {
		t.Errorf("network mode = %q, want host", c.HostConfig.NetworkMode)
	}
	if !hasEnv(c, "TZ="+h.m.Config().TZ) {
		t.Errorf("env %v lacks the host's TZ", c.Config.Env)
	}
	if got, want := mountOf(c, "/config"), filepath.Join(h.dataDir, "apps", app.ID, "data", "config"); got != want {
		t.Errorf("/config is mounted from %q, want %q", got, want)
	}
	e, ok := h.reg.Lookup(rec.Host)
	if !ok || e.Upstream != net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) {
		t.Fatalf("route of %s = %+v, want 127.0.0.1:%d", rec.Host, e, port)
	}
	if got := h.get(t, rec.Host, "/"); !strings.HasPrefix(got, "hello from casaos-homeassistant") {
		t.Errorf("route answers %q", got)
	}
}

// TestServiceAppPublishesItsPortLocally installs a database without a web
// UI (CasaOS PostgreSQL's shape): nothing is routed, and its port is
// published on 127.0.0.1 only, at the address the record shows.
func TestServiceAppPublishesItsPortLocally(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	app, err := stores.ReadCasaOS(os.DirFS(filepath.Join(storeFixtures, "casaos/Apps")), "PostgreSQL")
	if err != nil {
		t.Fatal(err)
	}
	if !app.NoWebUI {
		t.Fatalf("PostgreSQL read as an app with a web UI on port %d", app.MainPort)
	}
	app.Store = "casaos"
	app = withTestImage(t, app)
	port := freePort(t) // the store's 5432 may be taken on a test machine
	app = editCompose(t, app, func(s map[string]any) {
		svc := s["postgresql"].(map[string]any)
		svc["ports"] = []any{map[string]any{"target": 5432, "published": strconv.Itoa(port), "protocol": "tcp"}}
		svc["environment"].(map[string]any)["PORT"] = "5432" // the test server plays the database
	})

	rec, err := h.m.Install(ctx, app, InstallOptions{}, nil)
	if err != nil {
		t.Fatalf("install: %v\n%s", err, app.Compose)
	}
	t.Cleanup(func() { h.m.Remove(context.Background(), app.ID, false, nil) })
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if !rec.NoWebUI || rec.URL != "" || rec.Host != "" || len(rec.Addresses) == 0 || rec.Addresses[0] != addr {
		t.Errorf("record: no web UI %v url %q host %q addresses %v; want a service app at %s", rec.NoWebUI, rec.URL, rec.Host, rec.Addresses, addr)
	}
	if len(rec.LANPorts) != 0 {
		t.Errorf("LAN ports %v, want none", rec.LANPorts)
	}
	for _, e := range h.reg.Entries() {
		if e.App == app.ID {
			t.Errorf("service app is routed: %+v", e)
		}
	}

	c := h.inspectService(t, rec, "postgresql")
	var bindings []string
	for p, bs := range c.HostConfig.PortBindings {
		for _, b := range bs {
			bindings = append(bindings, fmt.Sprintf("%s->%s:%s", p, b.HostIP, b.HostPort))
		}
	}
	if want := fmt.Sprintf("5432/tcp->127.0.0.1:%d", port); len(bindings) != 1 || bindings[0] != want {
		t.Errorf("port bindings %v, want only %s", bindings, want)
	}
	if !hasEnv(c, "POSTGRES_USER=casaos") {
		t.Errorf("env %v lacks POSTGRES_USER", c.Config.Env)
	}
	if got, want := mountOf(c, "/var/lib/postgresql/data"), filepath.Join(h.dataDir, "apps", app.ID, "data", "data"); got != want {
		t.Errorf("data is mounted from %q, want %q", got, want)
	}
	// Users connect at the recorded address (the test server speaks HTTP).
	var resp *http.Response
	for i := 0; ; i++ { // the install does not wait for a port nothing routes to
		if resp, err = http.Get("http://" + addr + "/"); err == nil || i == 50 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("connect to %s: %v", addr, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.HasPrefix(string(b), "hello from casaos-postgresql") {
		t.Errorf("%s answers %q", addr, b)
	}
}

// TestRuntipiNoGUIAppIsAServiceApp installs a Runtipi no_gui game server
// (the store's minecraft-server shape): its game port is published on
// 127.0.0.1, where the record says to connect, and nothing is routed.
func TestRuntipiNoGUIAppIsAServiceApp(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	app := shapeApp(t, "runtipi", stores.FormatRuntipi, "mcserver")
	if !app.NoWebUI {
		t.Fatalf("mcserver read with a web UI on %s:%d", app.MainService, app.MainPort)
	}
	port := freePort(t) // the store's 25565 may be taken on a test machine
	app = editCompose(t, app, func(s map[string]any) {
		svc := s["mcserver"].(map[string]any)
		svc["ports"] = []any{strconv.Itoa(port) + ":25565"}
		svc["environment"].(map[string]any)["PORT"] = "25565"
	})
	rec, err := h.m.Install(ctx, app, InstallOptions{Values: map[string]string{"MC_EULA": "true"}}, nil)
	if err != nil {
		t.Fatalf("install: %v\n%s", err, app.Compose)
	}
	t.Cleanup(func() { h.m.Remove(context.Background(), app.ID, false, nil) })
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if !rec.NoWebUI || rec.URL != "" || len(rec.Addresses) != 1 || rec.Addresses[0] != addr {
		t.Errorf("record: no web UI %v url %q addresses %v; want a service app at %s", rec.NoWebUI, rec.URL, rec.Addresses, addr)
	}
	if got := rec.Describe(rec.URL); got != "service app at "+addr {
		t.Errorf("apps list shows %q", got)
	}
	for _, e := range h.reg.Entries() {
		if e.App == app.ID {
			t.Errorf("service app is routed: %+v", e)
		}
	}
	c := h.inspectService(t, rec, "mcserver")
	if !hasEnv(c, "EULA=true") {
		t.Errorf("env %v lacks EULA=true", c.Config.Env)
	}
	if got, want := mountOf(c, "/data"), filepath.Join(h.dataDir, "apps", app.ID, "data", "data"); got != want {
		t.Errorf("/data is mounted from %q, want %q", got, want)
	}
	var bindings []string
	for p, bs := range c.HostConfig.PortBindings {
		for _, b := range bs {
			bindings = append(bindings, fmt.Sprintf("%s->%s:%s", p, b.HostIP, b.HostPort))
		}
	}
	if want := fmt.Sprintf("25565/tcp->127.0.0.1:%d", port); len(bindings) != 1 || bindings[0] != want {
		t.Errorf("port bindings %v, want only %s", bindings, want)
	}
}

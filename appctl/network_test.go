package appctl

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/compose/v5/pkg/api"
	"github.com/moby/moby/client"

	"github.com/stackhub/stackhub/internal/dockertest"
	"github.com/stackhub/stackhub/internal/registry"
)

// endpoint is one container's address on one network.
type endpoint struct {
	service, container, network, ip string
}

// endpoints lists every address of the app's containers.
func (h *harness) endpoints(t *testing.T, app string) []endpoint {
	t.Helper()
	f := client.Filters{}.Add("label", LabelInstance+"="+h.instance, LabelApp+"="+app)
	cl, err := h.docker.ContainerList(context.Background(), client.ContainerListOptions{Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	var out []endpoint
	for _, c := range cl.Items {
		if c.NetworkSettings == nil {
			continue
		}
		for name, ep := range c.NetworkSettings.Networks {
			if ep != nil && ep.IPAddress.IsValid() {
				out = append(out, endpoint{service: c.Labels[api.ServiceLabel], container: strings.TrimPrefix(c.Names[0], "/"), network: name, ip: ep.IPAddress.String()})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].service+out[i].network < out[j].service+out[j].network })
	return out
}

// dialFrom asks the main service of the app at host to open a TCP
// connection to addr, and says whether it got through.
func (h *harness) dialFrom(t *testing.T, host, addr string) (bool, string) {
	return h.dialFromTries(t, host, addr, 1)
}

// dialFromTries is dialFrom with tries quick attempts (one suffices).
func (h *harness) dialFromTries(t *testing.T, host, addr string, tries int) (bool, string) {
	t.Helper()
	e, ok := h.reg.Lookup(host)
	if !ok || e.Upstream == "" {
		t.Fatalf("%s is not routed", host)
	}
	resp, err := http.Get("http://" + e.Upstream + "/dial?addr=" + url.QueryEscape(addr) + "&tries=" + fmt.Sprint(tries))
	if err != nil {
		t.Fatalf("ask %s to dial %s: %v", host, addr, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode == 200, strings.TrimSpace(string(b))
}

// dialImage is the test image with /dial, under a tag of its own: the
// engine is shared, and a test elsewhere may tag an older build as
// stackhub-testapp:dev while this one runs.
const dialImage = "stackhub-testapp:dial"

const twoServiceApp = `x-stackhub:
  main: {service: web, port: 8080}
services:
  web:
    image: stackhub-testapp:dial
    pull_policy: never
    environment: {PORT: "8080"}
  %s:
    image: stackhub-testapp:dial
    pull_policy: never
    environment: {PORT: "8080"}
`

// TestAppsCannotReachEachOther: each app's web service is on a network of
// its own to the proxy. A container of one app reaches its own services but
// no container of another app, by address or by name, so it cannot go
// around the gate (and forge identity headers); the host, where the proxy
// runs, reaches both.
func TestAppsCannotReachEachOther(t *testing.T) {
	h := newHarness(t)
	dockertest.TestImage(t, h.docker, dialImage)
	ctx := context.Background()
	// bravo also names alpha's networks as its own: Compose would join an
	// existing network of that name.
	sneaky := fmt.Sprintf("    networks: [default, theirs, theirproxy]\nnetworks:\n  theirs: {name: %s}\n  theirproxy: {name: %s}\n",
		h.m.cfg.ProjectPrefix+"alpha_default", h.m.proxyNetwork("alpha"))
	for _, a := range []struct{ id, second, extra string }{{"alpha", "helper", ""}, {"bravo", "backend", sneaky}} {
		app, err := writeApp(t, a.id, strings.Replace(twoServiceApp, "%s", a.second, 1)+a.extra)
		if err != nil {
			t.Fatal(err)
		}
		// The fixed network names are a hazard of their own (network-name);
		// approved, StackHub still scopes them to bravo's own project.
		if _, err := h.m.Install(ctx, app, InstallOptions{ApproveHazardNames: []string{"network-name"}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, host := range []string{"alpha.test.localhost", "bravo.test.localhost"} {
		if got := h.get(t, host, "/"); !strings.HasPrefix(got, "hello from") {
			t.Fatalf("the proxy does not reach %s: %q", host, got)
		}
	}
	// Each main service is on its own network, named after the app.
	for _, app := range []string{"alpha", "bravo"} {
		e, _ := h.reg.Lookup(app + ".test.localhost")
		found := false
		for _, ep := range h.endpoints(t, app) {
			if ep.service == "web" && ep.network == h.m.proxyNetwork(app) && net.JoinHostPort(ep.ip, "8080") == e.Upstream {
				found = true
			}
		}
		if !found {
			t.Errorf("%s is not routed to its web service on %s: %+v", app, h.m.proxyNetwork(app), h.endpoints(t, app))
		}
	}

	// Within an app: its own services answer, by name and by address, so
	// the failures below are the isolation's, not the probe's.
	if ok, msg := h.dialFrom(t, "alpha.test.localhost", "helper:8080"); !ok {
		t.Fatalf("alpha cannot reach its own helper service: %s", msg)
	}
	for _, ep := range h.endpoints(t, "alpha") {
		if ok, msg := h.dialFrom(t, "alpha.test.localhost", net.JoinHostPort(ep.ip, "8080")); !ok {
			t.Errorf("alpha cannot reach its own %s at %s (%s): %s", ep.service, ep.ip, ep.network, msg)
		}
	}

	// Across apps: nothing, in either direction.
	targets := map[string][]string{}
	for _, app := range []string{"alpha", "bravo"} {
		for _, ep := range h.endpoints(t, app) {
			targets[app] = append(targets[app], net.JoinHostPort(ep.ip, "8080"), net.JoinHostPort(ep.container, "8080"))
		}
	}
	targets["bravo"] = append(targets["bravo"], "backend:8080")
	targets["alpha"] = append(targets["alpha"], "helper:8080")
	//
	// Docker 20.10 lifts its isolation between bridge networks for a few
	// milliseconds whenever any network is created on the engine (it deletes
	// and re-inserts its jump to DOCKER-ISOLATION-STAGE-1); firewall.go
	// closes that gap. Networks are created meanwhile, as on a busy engine,
	// and each address is tried 20 times, so a gap would be found.
	stop := make(chan struct{})
	churned := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				churned <- n
				return
			default:
			}
			name := fmt.Sprintf("%s-churn-%d", h.instance, n)
			if _, err := h.docker.NetworkCreate(ctx, name, client.NetworkCreateOptions{Driver: "bridge", Labels: map[string]string{LabelInstance: h.instance}}); err == nil {
				h.docker.NetworkRemove(ctx, name, client.NetworkRemoveOptions{})
				n++
			}
		}
	}()
	for from, to := range map[string]string{"alpha": "bravo", "bravo": "alpha"} {
		for _, addr := range targets[to] {
			if ok, msg := h.dialFromTries(t, from+".test.localhost", addr, 20); ok {
				t.Errorf("%s reached %s of %s: %s (endpoints: %s %+v, %s %+v)", from, addr, to, msg, from, h.endpoints(t, from), to, h.endpoints(t, to))
			}
		}
	}
	close(stop)
	if n := <-churned; n == 0 {
		t.Error("no network was created while the apps tried each other")
	}

	for _, app := range []string{"alpha", "bravo"} {
		if err := h.m.Remove(ctx, app, false, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := h.docker.NetworkInspect(ctx, h.m.proxyNetwork(app), client.NetworkInspectOptions{}); !isNotFound(err) {
			t.Errorf("network %s left after remove: %v", h.m.proxyNetwork(app), err)
		}
	}
}

// TestAppsOnTheOldSharedNetworkMoveToTheirOwn: an app installed when every
// main service shared one platform network (and no project was recorded)
// is moved to a network of its own when StackHub starts again, and the
// shared network goes once it is empty. A new StackHub creates no shared
// network at all.
func TestAppsOnTheOldSharedNetworkMoveToTheirOwn(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	if _, err := h.docker.NetworkInspect(ctx, h.m.cfg.Network, client.NetworkInspectOptions{}); !isNotFound(err) {
		t.Fatalf("a new StackHub created the shared network %s: %v", h.m.cfg.Network, err)
	}
	app, err := writeApp(t, "veteran", simpleApp(testImage, ""))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := h.m.Install(ctx, app, InstallOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}

	h.makeLegacy(t, rec)

	// StackHub restarts.
	reg := registry.New()
	m2, err := New(ctx, h.m.cfg, h.db, reg)
	if err != nil {
		t.Fatal(err)
	}
	m2.Reconcile(ctx)
	h.reg, h.m = reg, m2
	if got := h.get(t, "veteran.test.localhost", "/"); !strings.HasPrefix(got, "hello from") {
		t.Fatalf("GET / = %q", got)
	}
	for _, ep := range h.endpoints(t, "veteran") {
		if ep.network == h.m.cfg.Network {
			t.Errorf("%s is still on the shared network", ep.container)
		}
	}
	if st, err := m2.get("veteran"); err != nil || len(st.Validated) == 0 {
		t.Errorf("no project recorded after the move: %v", err)
	}
	if _, err := h.docker.NetworkInspect(ctx, h.m.cfg.Network, client.NetworkInspectOptions{}); !isNotFound(err) {
		t.Errorf("the emptied shared network is still there: %v", err)
	}
	if err := m2.Remove(ctx, "veteran", false, nil); err != nil {
		t.Fatal(err)
	}
	h.unchanged(t, "veteran")
}

// makeLegacy turns an installed app into an install of the earlier
// StackHub: main service on the shared platform network, no recorded
// project.
func (h *harness) makeLegacy(t *testing.T, rec Record) {
	t.Helper()
	ctx := context.Background()
	if _, err := h.docker.NetworkInspect(ctx, h.m.cfg.Network, client.NetworkInspectOptions{}); isNotFound(err) {
		if _, err := h.docker.NetworkCreate(ctx, h.m.cfg.Network, client.NetworkCreateOptions{Driver: "bridge", Labels: map[string]string{LabelInstance: h.instance}}); err != nil {
			t.Fatal(err)
		}
	}
	p, err := h.m.recordedProject(ctx, &rec)
	if err != nil {
		t.Fatal(err)
	}
	web := p.Services[rec.MainSvc]
	delete(web.Networks, proxyNetworkKey)
	web.Networks["stackhub-platform"] = nil
	p.Services[rec.MainSvc] = web
	delete(p.Networks, proxyNetworkKey)
	p.Networks["stackhub-platform"] = types.NetworkConfig{Name: h.m.cfg.Network, External: true}
	if err := h.m.engine.Up(ctx, p, h.m.cfg.WaitTimeout, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := h.docker.NetworkRemove(ctx, h.m.proxyNetwork(rec.ID), client.NetworkRemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	rec.Validated = nil
	if err := h.db.Put(recordKey(rec.ID), rec); err != nil {
		t.Fatal(err)
	}
}

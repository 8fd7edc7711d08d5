package appctl

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// appWithBackend is a two-service app with two networks of its own besides
// its proxy network: 3 networks an app, which Docker's ~31 default pools
// would run out of after 10 apps.
const appWithBackend = `x-stackhub:
  main: {service: web, port: 8080}
services:
  web:
    image: stackhub-testapp:dev
    pull_policy: never
    environment: {PORT: "8080"}
    networks: [default, backend]
  worker:
    image: stackhub-testapp:dev
    pull_policy: never
    environment: {PORT: "8080"}
    networks: [backend]
networks:
  backend: {}
`

// instanceSubnets returns the subnets of the test instance's networks, by
// network name.
func (h *harness) instanceSubnets(t *testing.T) map[string][]netip.Prefix {
	t.Helper()
	ctx := context.Background()
	nl, err := h.docker.NetworkList(ctx, client.NetworkListOptions{Filters: client.Filters{}.Add("label", LabelInstance+"="+h.instance)})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]netip.Prefix{}
	for _, item := range nl.Items {
		n, err := h.docker.NetworkInspect(ctx, item.ID, client.NetworkInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range n.Network.IPAM.Config {
			out[n.Network.Name] = append(out[n.Network.Name], c.Subnet)
		}
	}
	return out
}

// TestManyAppsGetSubnetsFromStackHubsRange: 20 apps of 3 networks each (60
// networks, twice what Docker's default pools hold) install, four at a
// time, and answer; every network StackHub created has one subnet, inside
// the configured range, of the size it needs, overlapping no other.
func TestManyAppsGetSubnetsFromStackHubsRange(t *testing.T) {
	h := newHarness(t)
	h.m.cfg.Subnets = netip.MustParsePrefix("10.214.0.0/16") // not the default: the option is used
	ctx := context.Background()
	const apps = 20
	ids := make(chan string)
	errs := make(chan error, apps)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range ids {
				app, err := writeApp(t, id, appWithBackend)
				if err == nil {
					_, err = h.m.Install(ctx, app, InstallOptions{}, nil)
				}
				if err != nil {
					errs <- fmt.Errorf("install %s: %w", id, err)
				}
			}
		}()
	}
	for i := range apps {
		ids <- fmt.Sprintf("app%02d", i)
	}
	close(ids)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	for i := range apps {
		host := fmt.Sprintf("app%02d.test.localhost", i)
		if got := h.get(t, host, "/"); !strings.HasPrefix(got, "hello from") {
			t.Errorf("%s answers %q", host, got)
		}
	}
	subnets := h.instanceSubnets(t)
	if len(subnets) != 3*apps {
		t.Fatalf("%d networks for %d apps, want %d: %v", len(subnets), apps, 3*apps, subnets)
	}
	var all []netip.Prefix
	for name, ps := range subnets {
		if len(ps) != 1 {
			t.Errorf("network %s has subnets %v, want one", name, ps)
			continue
		}
		s := ps[0]
		want := appSubnetBits
		if strings.HasPrefix(name, h.m.cfg.Network+"-") {
			want = proxySubnetBits
		}
		if !h.m.cfg.Subnets.Contains(s.Addr()) || s.Bits() != want {
			t.Errorf("network %s has subnet %s, want a /%d in %s", name, s, want, h.m.cfg.Subnets)
		}
		for _, o := range all {
			if s.Overlaps(o) {
				t.Errorf("network %s's subnet %s overlaps %s", name, s, o)
			}
		}
		all = append(all, s)
	}

	// A restart keeps the recorded subnets; a removed app's range is free.
	before := h.instanceSubnets(t)[h.m.proxyNetwork("app00")]
	if err := h.m.Restart(ctx, "app00", nil); err != nil {
		t.Fatal(err)
	}
	if after := h.instanceSubnets(t)[h.m.proxyNetwork("app00")]; fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("app00's proxy network moved from %v to %v on restart", before, after)
	}
	if got := h.get(t, "app00.test.localhost", "/"); !strings.HasPrefix(got, "hello from") {
		t.Errorf("app00 answers %q after a restart", got)
	}
}

// TestAppsFixedSubnetIsKeptAndFlagged: a network whose subnet the app fixes
// itself is a hazard (network-subnet); approved, it keeps the app's subnet,
// while StackHub assigns the others. Without approval nothing is created.
func TestAppsFixedSubnetIsKeptAndFlagged(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	compose := strings.Replace(appWithBackend, "  backend: {}\n", "  backend:\n    ipam: {config: [{subnet: 10.215.7.0/24}]}\n", 1)
	app, err := writeApp(t, "fixed", compose)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.m.Install(ctx, app, InstallOptions{}, nil); err == nil || !strings.Contains(err.Error(), "network-subnet") {
		t.Fatalf("install of an app with a fixed subnet: %v, want the network-subnet hazard", err)
	}
	h.unchanged(t, "fixed")
	if _, err := h.m.Install(ctx, app, InstallOptions{ApproveHazardNames: []string{"network-subnet"}}, nil); err != nil {
		t.Fatal(err)
	}
	subnets := h.instanceSubnets(t)
	if got := fmt.Sprint(subnets[h.instance+"-fixed_backend"]); got != "[10.215.7.0/24]" {
		t.Errorf("the app's own subnet became %s", got)
	}
	if s := subnets[h.instance+"-fixed_default"]; len(s) != 1 || !h.m.cfg.Subnets.Contains(s[0].Addr()) {
		t.Errorf("the default network got %v, want a subnet in %s", s, h.m.cfg.Subnets)
	}
}

func TestFreeSubnetSkipsWhatIsUsed(t *testing.T) {
	pool := netip.MustParsePrefix("10.213.0.0/24")
	var used []netip.Prefix
	for range 4 {
		s, ok := freeSubnet(pool, 26, used)
		if !ok || !pool.Contains(s.Addr()) || s.Bits() != 26 || overlapsAny(s, used) {
			t.Fatalf("freeSubnet gave %s %v with %v used", s, ok, used)
		}
		used = append(used, s)
	}
	if s, ok := freeSubnet(pool, 28, used); ok {
		t.Errorf("a full range gave %s", s)
	}
}

// TestTakenSubnetIsReassignedAtStart: an app whose networks are gone (its
// containers removed) finds its recorded subnet taken by a network made
// meanwhile; starting it assigns a free one, and it answers again.
func TestTakenSubnetIsReassignedAtStart(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	app, err := writeApp(t, "moved", appWithBackend)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := h.m.Install(ctx, app, InstallOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	proxy := h.m.proxyNetwork("moved")
	old := h.instanceSubnets(t)[proxy]
	if len(old) != 1 {
		t.Fatalf("proxy network subnets %v", old)
	}
	if err := h.m.Stop(ctx, "moved", nil); err != nil {
		t.Fatal(err)
	}
	if err := h.m.engine.Down(ctx, rec.Project, nil, false, nil); err != nil {
		t.Fatal(err)
	}
	squatter := h.instance + "-squatter"
	if _, err := h.docker.NetworkCreate(ctx, squatter, client.NetworkCreateOptions{
		Driver: "bridge", Labels: map[string]string{LabelInstance: h.instance},
		IPAM: &network.IPAM{Config: []network.IPAMConfig{{Subnet: old[0]}}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := h.m.Start(ctx, "moved", nil); err != nil {
		t.Fatalf("start with its subnet taken: %v", err)
	}
	now := h.instanceSubnets(t)[proxy]
	if len(now) != 1 || now[0].Overlaps(old[0]) || !h.m.cfg.Subnets.Contains(now[0].Addr()) {
		t.Errorf("proxy network subnet %v after start, was %v (taken)", now, old)
	}
	if got := h.get(t, "moved.test.localhost", "/"); !strings.HasPrefix(got, "hello from") {
		t.Errorf("the app answers %q", got)
	}
}

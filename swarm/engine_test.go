package swarm_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	swarmapi "github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"
	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/internal/dockertest"
	"github.com/stackhub/stackhub/internal/kv"
	"github.com/stackhub/stackhub/internal/registry"
	"github.com/stackhub/stackhub/stores"
	"github.com/stackhub/stackhub/swarm"
)

const testImage = "stackhub-testapp:dev"

// joinSwarm makes the engine a single-node swarm for the test and leaves
// it afterwards (also when the test fails). An engine that is already a
// manager is used as it is and not left. The swarm listens on loopback.
func joinSwarm(t *testing.T, c *client.Client) {
	t.Helper()
	ctx := context.Background()
	mode, err := swarm.Detect(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if mode == swarm.Manager {
		t.Log("engine already a swarm manager: using it, not leaving it")
		return
	}
	info, err := c.Info(ctx, client.InfoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Info.Swarm.LocalNodeState != swarmapi.LocalNodeStateInactive {
		dockertest.Unavailable(t, "a Docker Engine that is not a swarm worker", fmt.Errorf("swarm state %s", info.Info.Swarm.LocalNodeState))
	}
	_, gwErr := c.NetworkInspect(ctx, "docker_gwbridge", client.NetworkInspectOptions{})
	if _, err := c.SwarmInit(ctx, client.SwarmInitOptions{ListenAddr: "127.0.0.1:2377", AdvertiseAddr: "127.0.0.1"}); err != nil {
		t.Fatalf("docker swarm init --advertise-addr 127.0.0.1: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := c.SwarmLeave(ctx, client.SwarmLeaveOptions{Force: true}); err != nil {
			t.Errorf("docker swarm leave --force: %v", err)
		}
		// swarm init created docker_gwbridge: leave does not remove it.
		if gwErr != nil {
			c.NetworkRemove(ctx, "docker_gwbridge", client.NetworkRemoveOptions{})
		}
	})
}

// relayImage builds swarm/relaybin statically into the relay image; it
// returns the image and the binary.
func relayImage(t *testing.T, c *client.Client) (string, string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "relay")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./swarm/relaybin")
	cmd.Dir = dockertest.RepoRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build relay: %v\n%s", err, out)
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	tag := "stackhub-relay:dev"
	if err := swarm.BuildRelayImage(context.Background(), c, b, tag); err != nil {
		t.Fatal(err)
	}
	return tag, bin
}

const twoServiceApp = `services:
  web:
    image: %[1]s
    environment:
      NAME: %[2]s-web
      BACKEND: http://api:8080
      PORT: "8080"
    deploy:
      update_config:
        order: start-first
  api:
    image: %[1]s
    environment:
      NAME: %[2]s-api
      PORT: "8080"
      DATA_DIR: /data
    volumes:
      - apidata:/data
    configs:
      - source: greeting
        target: /greeting.txt
    secrets:
      - token
volumes:
  apidata: {}
configs:
  greeting:
    file: ./greeting.txt
secrets:
  token:
    file: ./token.txt
`

// TestSwarmSingleNode runs a two-service app as a stack on a single-node
// swarm of the real engine: deployed through the Docker CLI's conversion,
// placed by a node label, routed through its relay, served across a forced
// reschedule, reachable on no node address, and removed without a trace.
// One function does init → checks → leave, so the shared engine is in
// swarm mode as briefly as possible.
func TestSwarmSingleNode(t *testing.T) {
	c := dockertest.Client(t)
	inst := dockertest.Instance(t, c)
	ctx := context.Background()
	dockertest.TestImage(t, c, testImage)
	relay, relayBin := relayImage(t, c)
	joinSwarm(t, c)

	nodes, err := swarm.Nodes(ctx, c)
	if err != nil || len(nodes) == 0 {
		t.Fatalf("nodes: %v %v", nodes, err)
	}
	self := nodes[0]
	if self.Role != "manager" || self.State != "ready" {
		t.Fatalf("the node is %+v, want a ready manager", self)
	}
	if cmd, err := swarm.JoinCommand(ctx, c, "worker"); err != nil || !strings.HasPrefix(cmd, "docker swarm join --token SWMTKN-") || !strings.Contains(cmd, "127.0.0.1:2377") {
		t.Fatalf("join command %q, %v", cmd, err)
	}

	// A label places the app; the label goes again at the end.
	labelKey := "dev.stackhub.test." + inst
	if err := swarm.Label(ctx, c, self.Name, labelKey, "yes"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { swarm.Label(context.Background(), c, self.Name, labelKey, "") })

	// The app's project as appctl loads it (compose-go), marshalled: the
	// bridge to the CLI's loader.
	app := "swapp" + strings.TrimPrefix(inst, "shtest")
	stack := "stackhub-" + app
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(fmt.Sprintf(twoServiceApp, testImage, inst)), 0o600)
	os.WriteFile(filepath.Join(dir, "greeting.txt"), []byte("hello\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "token.txt"), []byte("s3cret\n"), 0o600)
	eng, err := appctl.Connect(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := eng.Load(ctx, appctl.LoadSpec{Name: stack, WorkingDir: dir, Files: []string{filepath.Join(dir, "compose.yaml")}})
	if err != nil {
		t.Fatal(err)
	}
	y, err := p.MarshalYAML()
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{swarm.AppLabel: app, dockertest.Label: inst}

	// A constraint no node satisfies is refused before anything exists.
	bad := swarm.Stack{Name: stack, YAML: y, WorkingDir: dir, Labels: labels, Placement: swarm.Placement{Constraints: []string{"node.labels." + labelKey + "==no"}}}
	if _, err := swarm.Deploy(ctx, c, bad, time.Minute); err == nil || !strings.Contains(err.Error(), "no ready node") {
		t.Fatalf("deploy with an unsatisfiable constraint: %v, want refusal", err)
	}
	assertNothingLeft(t, c, inst, stack, app)

	good := bad
	good.Placement = swarm.Placement{Constraints: []string{"node.labels." + labelKey + "==yes"}}
	if warnings, err := swarm.Deploy(ctx, c, good, 2*time.Minute); err != nil {
		t.Fatalf("deploy: %v (warnings %v)", err, warnings)
	}
	removed := false
	t.Cleanup(func() {
		if !removed {
			swarm.Remove(context.Background(), c, stack, true)
			swarm.StopRelay(context.Background(), c, app)
		}
	})
	sl, _ := c.ServiceList(ctx, client.ServiceListOptions{Filters: client.Filters{}.Add("label", swarm.StackLabel+"="+stack)})
	svcs := sl.Items
	if len(svcs) != 2 {
		t.Fatalf("stack has %d services, want 2", len(svcs))
	}
	for _, s := range svcs {
		if got := s.Spec.TaskTemplate.Placement.Constraints; len(got) != 1 || got[0] != "node.labels."+labelKey+"==yes" {
			t.Errorf("service %s constraints %v", s.Spec.Name, got)
		}
	}
	nodes, _ = swarm.Nodes(ctx, c)
	if on := swarm.AppNodes(nodes)[app]; len(on) != 1 || on[0] != self.Name {
		t.Fatalf("app runs on %v, want [%s]", on, self.Name)
	}

	// Route: relay on the app's overlay and a bridge standing for the
	// platform network.
	platform := inst + "-platform"
	if _, err := c.NetworkCreate(ctx, platform, client.NetworkCreateOptions{Driver: "bridge", Labels: map[string]string{dockertest.Label: inst}}); err != nil {
		t.Fatal(err)
	}
	upstream, err := swarm.StartRelay(ctx, c, swarm.RelaySpec{App: app, Stack: stack, Network: stack + "_default", Platform: platform, Service: "web", Port: 8080, Image: relay, Labels: map[string]string{dockertest.Label: inst}})
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	get := func(path string) (string, error) {
		resp, err := hc.Get("http://" + upstream + path)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			return string(b), fmt.Errorf("status %d: %s", resp.StatusCode, b)
		}
		return string(b), nil
	}
	var body string
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		if body, err = get("/"); err == nil {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if !strings.Contains(body, inst+"-web") {
		t.Fatalf("through the relay: %q, %v", body, err)
	}
	// The second service is reached by its name on the app's overlay.
	if n, err := get("/count"); err != nil || strings.TrimSpace(n) != "1" {
		t.Fatalf("web → api: %q, %v", n, err)
	}

	// Nothing published: no service has a published port, and the node's
	// address does not answer with the app.
	for _, s := range svcs {
		if len(s.Endpoint.Ports) != 0 || (s.Spec.EndpointSpec != nil && len(s.Spec.EndpointSpec.Ports) != 0) {
			t.Errorf("service %s publishes %v", s.Spec.Name, s.Endpoint.Ports)
		}
	}
	if conn, err := net.DialTimeout("tcp", net.JoinHostPort(self.Addr, "8080"), time.Second); err == nil {
		conn.SetDeadline(time.Now().Add(2 * time.Second))
		fmt.Fprintf(conn, "GET / HTTP/1.0\r\n\r\n")
		b, _ := io.ReadAll(conn)
		conn.Close()
		if strings.Contains(string(b), inst) {
			t.Fatalf("the app answers on the node's address %s:8080", self.Addr)
		}
	}

	// A forced update reschedules web; requests through the relay go on.
	var ok, failed atomic.Int64
	var lastErr atomic.Value
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if b, err := get("/"); err == nil && strings.Contains(b, inst+"-web") {
				ok.Add(1)
			} else {
				failed.Add(1)
				lastErr.Store(fmt.Sprint(b, err))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	before := taskIDs(t, c, stack+"_web")
	if out, err := exec.CommandContext(ctxTimeout(t, 3*time.Minute), "docker", "service", "update", "--force", stack+"_web").CombinedOutput(); err != nil {
		t.Fatalf("docker service update --force: %v\n%s", err, out)
	}
	after := taskIDs(t, c, stack+"_web")
	for i := 0; i < 10; i++ { // a little more traffic on the new task
		get("/")
	}
	close(stop)
	<-done
	t.Logf("during docker service update --force: %d requests served, %d failed", ok.Load(), failed.Load())
	if after == before {
		t.Fatalf("the service was not rescheduled (task %s)", before)
	}
	if failed.Load() != 0 {
		t.Errorf("%d of %d requests failed while Swarm rescheduled the service (last: %v)", failed.Load(), ok.Load()+failed.Load(), lastErr.Load())
	}
	if ok.Load() == 0 {
		t.Fatal("no request was served during the update")
	}

	// swarm.Remove: nothing of the app is left.
	if err := swarm.StopRelay(ctx, c, app); err != nil {
		t.Fatal(err)
	}
	if err := swarm.Remove(ctx, c, stack, true); err != nil {
		t.Fatal(err)
	}
	removed = true
	assertNothingLeft(t, c, inst, stack, app)

	installOnSwarm(t, c, inst, relayBin, self.Name, labelKey)
}

// installOnSwarm installs apps through appctl on the swarm: refused when
// they publish a port, else a stack placed by the label, routed through
// its relay, private in the registry (the gate's policy), and removed
// without a trace.
func installOnSwarm(t *testing.T, c *client.Client, inst, relayBin, node, labelKey string) {
	ctx := context.Background()
	dataDir := t.TempDir()
	db, err := kv.Open(filepath.Join(dataDir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reg := registry.New()
	m, err := appctl.New(ctx, appctl.Config{
		DataDir: dataDir, Domain: "test.localhost", Instance: inst, ProjectPrefix: inst + "-",
		Network: inst + "-platform", WaitTimeout: 90 * time.Second, RelayBinary: relayBin, Swarm: true,
	}, db, reg)
	if err != nil {
		t.Fatal(err)
	}
	if !m.OnSwarm() {
		t.Fatal("the manager did not detect the swarm")
	}
	place := swarm.Placement{Constraints: []string{"node.labels." + labelKey + "==yes"}}

	// The one-box counter publishes a second port: on a swarm that port
	// would be open on the LAN, so the install is refused.
	open, err := stores.ReadPath("../appctl/testdata/counter")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Install(ctx, open, appctl.InstallOptions{Placement: place}, nil); err == nil || !strings.Contains(err.Error(), "--publish-ports") {
		t.Fatalf("install of an app publishing a port: %v, want a refusal naming --publish-ports", err)
	}
	assertNothingLeft(t, c, inst, inst+"-"+open.ID, open.ID)

	app, err := stores.ReadPath("testdata/counter-swarm")
	if err != nil {
		t.Fatal(err)
	}
	rec, err := m.Install(ctx, app, appctl.InstallOptions{Placement: place}, nil)
	if err != nil {
		t.Fatalf("install on the swarm: %v", err)
	}
	removed := false
	defer func() {
		if !removed {
			m.Remove(context.Background(), rec.ID, false, nil)
		}
	}()
	e, ok := reg.Lookup(rec.Host)
	if !ok || e.Upstream == "" || e.Policy.Access != registry.Private {
		t.Fatalf("registry entry %+v (%v): want routed and private", e, ok)
	}
	nodes, _ := swarm.Nodes(ctx, c)
	if on := swarm.AppNodes(nodes)[rec.ID]; len(on) != 1 || on[0] != node {
		t.Errorf("%s runs on %v, want [%s]", rec.ID, on, node)
	}
	for i, want := range []string{"1", "2"} { // web → db on the app's overlay, data in its volume
		resp, err := http.Get("http://" + e.Upstream + "/count")
		if err != nil {
			t.Fatalf("count %d through the relay: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.TrimSpace(string(b)) != want {
			t.Fatalf("count %d = %q, want %s", i, b, want)
		}
	}
	// Stop scales it to zero and keeps the address (the stopped page);
	// start brings it back with its data; after a restart of StackHub the
	// route comes back from the running relay.
	if err := m.Stop(ctx, rec.ID, nil); err != nil {
		t.Fatal(err)
	}
	if stopped, err := swarm.Stopped(ctx, c, rec.Project); err != nil || !stopped {
		t.Fatalf("after stop: stopped=%v %v", stopped, err)
	}
	if e2, ok := reg.Lookup(rec.Host); !ok || e2.Upstream != "" {
		t.Errorf("stopped app's entry %+v (%v): want kept, without upstream", e2, ok)
	}
	if err := m.Start(ctx, rec.ID, nil); err != nil {
		t.Fatal(err)
	}
	e, _ = reg.Lookup(rec.Host)
	// Swarm starts services in no order: web may answer before its
	// backend's name resolves.
	b := getBody(t, "http://"+e.Upstream+"/count")
	for deadline := time.Now().Add(30 * time.Second); strings.Contains(b, "backend") && time.Now().Before(deadline); {
		time.Sleep(500 * time.Millisecond)
		b = getBody(t, "http://"+e.Upstream+"/count")
	}
	if b != "3" {
		t.Fatalf("after stop and start, count = %q, want 3 (data kept)", b)
	}
	reg2 := registry.New()
	m2, err := appctl.New(ctx, m.Config(), db, reg2)
	if err != nil {
		t.Fatal(err)
	}
	m2.Reconcile(ctx)
	if e2, ok := reg2.Lookup(rec.Host); !ok || e2.Upstream != e.Upstream {
		t.Errorf("after a restart the route is %+v (%v), want %s", e2, ok, e.Upstream)
	}

	// Its data is in a volume on this node and no backup repository is
	// configured: a move is refused, and the
	// app goes on serving where it is.
	if _, err := m.MoveNode(ctx, rec.ID, swarm.Placement{Node: node}, nil); !errors.Is(err, appctl.ErrMoveNeedsBackup) || !strings.Contains(err.Error(), "volume counter") {
		t.Fatalf("move of an app with data: %v, want ErrMoveNeedsBackup naming its volume", err)
	}
	if e2, _ := reg.Lookup(rec.Host); e2.Upstream != e.Upstream {
		t.Errorf("a refused move changed the route: %s → %s", e.Upstream, e2.Upstream)
	}
	if b := getBody(t, "http://"+e.Upstream+"/count"); b != "4" {
		t.Errorf("after the refused move, count = %q, want 4", b)
	}
	if err := m.Remove(ctx, rec.ID, false, nil); err != nil {
		t.Fatal(err)
	}
	removed = true
	if _, ok := reg.Lookup(rec.Host); ok {
		t.Error("still routed after remove")
	}
	assertNothingLeft(t, c, inst, rec.Project, rec.ID)

	// An app without data moves: Swarm reschedules it under the new
	// constraint, and the route (the relay) stays the same.
	sl, err := stores.ReadPath("testdata/stateless")
	if err != nil {
		t.Fatal(err)
	}
	srec, err := m.Install(ctx, sl, appctl.InstallOptions{Placement: place}, nil)
	if err != nil {
		t.Fatalf("install stateless: %v", err)
	}
	defer m.Remove(context.Background(), srec.ID, false, nil)
	se, _ := reg.Lookup(srec.Host)
	before := taskIDs(t, c, srec.Project+"_web")
	if _, err := m.MoveNode(ctx, srec.ID, swarm.Placement{Node: node}, nil); err != nil {
		t.Fatalf("move stateless to %s: %v", node, err)
	}
	svc, err := c.ServiceInspect(ctx, srec.Project+"_web", client.ServiceInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := svc.Service.Spec.TaskTemplate.Placement.Constraints; len(got) != 1 || got[0] != "node.hostname=="+node {
		t.Errorf("after the move the constraints are %v", got)
	}
	// The task's node satisfies the new constraint too: Swarm keeps the
	// task (swarmkit restarts a task for a placement change only when its
	// node no longer fits), so a move onto the node it runs on restarts
	// nothing. A move to another node is covered by the recorded answers.
	if after := taskIDs(t, c, srec.Project+"_web"); after != before {
		t.Logf("task replaced by the move: %s → %s", before, after)
	}
	if se2, _ := reg.Lookup(srec.Host); se2.Upstream != se.Upstream {
		t.Errorf("the route changed with the move: %s → %s", se.Upstream, se2.Upstream)
	}
	if b := getBody(t, "http://"+se.Upstream+"/"); !strings.Contains(b, "hello from stateless") {
		t.Errorf("after the move: %q", b)
	}
	if err := m.Remove(ctx, srec.ID, false, nil); err != nil {
		t.Fatal(err)
	}
	assertNothingLeft(t, c, inst, srec.Project, srec.ID)
}

func getBody(t *testing.T, url string) string {
	t.Helper()
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b))
}

// taskIDs returns the running task of a service.
func taskIDs(t *testing.T, c *client.Client, service string) string {
	t.Helper()
	list, err := c.TaskList(context.Background(), client.TaskListOptions{Filters: client.Filters{}.Add("service", service).Add("desired-state", "running")})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, tk := range list.Items {
		ids = append(ids, tk.ID)
	}
	return strings.Join(ids, ",")
}

// assertNothingLeft fails if a service, container, network, volume,
// config or secret of the stack or app exists.
func assertNothingLeft(t *testing.T, c *client.Client, inst, stack, app string) {
	t.Helper()
	ctx := context.Background()
	for _, f := range []client.Filters{
		client.Filters{}.Add("label", swarm.StackLabel+"="+stack),
		// Other tests on the engine may run an app of the same name.
		client.Filters{}.Add("label", swarm.AppLabel+"="+app, dockertest.Label+"="+inst),
	} {
		var left []string
		if l, err := c.ServiceList(ctx, client.ServiceListOptions{Filters: f}); err == nil {
			for _, x := range l.Items {
				left = append(left, "service "+x.Spec.Name)
			}
		}
		if l, err := c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f}); err == nil {
			for _, x := range l.Items {
				left = append(left, "container "+x.ID[:12])
			}
		}
		if l, err := c.NetworkList(ctx, client.NetworkListOptions{Filters: f}); err == nil {
			for _, x := range l.Items {
				left = append(left, "network "+x.Name)
			}
		}
		if l, err := c.VolumeList(ctx, client.VolumeListOptions{Filters: f}); err == nil {
			for _, x := range l.Items {
				left = append(left, "volume "+x.Name)
			}
		}
		if l, err := c.ConfigList(ctx, client.ConfigListOptions{Filters: f}); err == nil {
			for _, x := range l.Items {
				left = append(left, "config "+x.Spec.Name)
			}
		}
		if l, err := c.SecretList(ctx, client.SecretListOptions{Filters: f}); err == nil {
			for _, x := range l.Items {
				left = append(left, "secret "+x.Spec.Name)
			}
		}
		if len(left) > 0 {
			t.Errorf("left behind (%v): %v", f, left)
		}
	}
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

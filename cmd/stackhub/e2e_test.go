package main

import (
	"context"
	"crypto/tls"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"golang.org/x/net/websocket"

	"github.com/stackhub/stackhub/internal/serverproc"
)

const counterApp = "../../appctl/testdata/counter"

func TestListModulesShowsStackHub(t *testing.T) {
	out, err := exec.Command(binary(t, "stackhub"), "list-modules").CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"stackhub", "http.handlers.stackhub_router", "http.handlers.stackhub_gate", "http.handlers.stackhub_portal",
		"http.reverse_proxy.upstreams.stackhub", "tls.permission.stackhub", "dns.providers.stackhub",
		"admin.api.stackhub", "admin.api.stackhub_accounts", "http.handlers.reverse_proxy"} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(m) + `$`).Match(out) {
			t.Errorf("list-modules lacks %s", m)
		}
	}
}

// TestInstallServeAndManageOverHTTPS is the first slice end to end: `up`,
// install with progress, HTTPS at the subdomain with a certificate of the
// local CA, and every `apps` command.
func TestInstallServeAndManageOverHTTPS(t *testing.T) {
	in := newInstance(t, "localhost")
	in.start()
	out := in.mustCLI("apps", "install", counterApp, "--public")
	wantURL := in.url("counter", "/")
	for _, want := range []string{"image  stackhub-testapp:dev", "present", "Healthy", "Open it at " + wantURL} {
		if !strings.Contains(out, want) {
			t.Errorf("install output lacks %q:\n%s", want, out)
		}
	}
	c := in.client(in.rootCAs())
	resp, err := c.Get(in.url("counter", "/count"))
	if err != nil {
		t.Fatalf("HTTPS to the app: %v\n%s", err, in.out)
	}
	body := make([]byte, 16)
	n, _ := resp.Body.Read(body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.TrimSpace(string(body[:n])) != "1" {
		t.Fatalf("GET /count = %d %q", resp.StatusCode, body[:n])
	}
	if resp.TLS == nil || len(resp.TLS.VerifiedChains) == 0 || resp.TLS.PeerCertificates[0].Subject.CommonName == "" && len(resp.TLS.PeerCertificates[0].DNSNames) == 0 {
		t.Fatalf("no verified certificate chain: %+v", resp.TLS)
	}
	if names := resp.TLS.PeerCertificates[0].DNSNames; len(names) != 1 || names[0] != "counter.localhost" {
		t.Errorf("certificate names = %v, want [counter.localhost]", names)
	}
	// A host that is no app gets no certificate (DESIGN.md invariant 2).
	if _, err := c.Get(in.url("nosuchapp", "/")); err == nil || !strings.Contains(err.Error(), "tls") {
		t.Errorf("unknown host: err = %v, want a TLS failure", err)
	}

	list := in.mustCLI("apps", "list")
	if !regexp.MustCompile(`counter\s+installed\s+running\s+` + regexp.QuoteMeta(wantURL)).MatchString(list) {
		t.Errorf("apps list:\n%s", list)
	}
	info := in.mustCLI("apps", "info", "counter")
	for _, want := range []string{"URL:      " + wantURL, "Service:  db", "Service:  web", "Access:   public"} {
		if !strings.Contains(info, want) {
			t.Errorf("apps info lacks %q:\n%s", want, info)
		}
	}
	if logs := in.mustCLI("apps", "logs", "counter"); !strings.Contains(logs, "web listening on :8080") || !strings.Contains(logs, "db listening on :8081") {
		t.Errorf("apps logs:\n%s", logs)
	}
	// `logs -f` streams: the lines arrive while the command still runs.
	follow := exec.Command(binary(t, "stackhub"), "apps", "logs", "counter", "-f", "--address", in.admin)
	followed := &serverproc.Buffer{}
	follow.Stdout, follow.Stderr = followed, followed
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	followDone := make(chan struct{})
	go func() { follow.Wait(); close(followDone) }()
	waitFor(t, 30*time.Second, "followed logs", func() bool {
		return strings.Contains(followed.String(), "web listening on :8080")
	})
	select {
	case <-followDone:
		t.Errorf("logs -f ended by itself:\n%s", followed)
	default:
		follow.Process.Kill()
		<-followDone
	}

	// The app is an ordinary compose project with the standard labels.
	ctx := context.Background()
	cl, err := in.docker.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: client.Filters{}.Add("label", "com.docker.compose.service", "dev.stackhub.instance="+in.instanceLabel)})
	if err != nil {
		t.Fatal(err)
	}
	services := 0
	for _, ct := range cl.Items {
		if ct.Labels["dev.stackhub.app"] == "counter" && strings.HasSuffix(ct.Labels["com.docker.compose.project"], "-counter") {
			services++
			for _, p := range ct.Ports {
				if p.PublicPort != 0 && (!p.IP.IsValid() || !p.IP.IsLoopback()) {
					t.Errorf("container %s publishes %d on %v: reachable from the LAN", ct.Names, p.PrivatePort, p.IP)
				}
			}
		}
	}
	if services != 2 {
		t.Errorf("%d labelled compose containers of counter, want 2", services)
	}

	in.mustCLI("apps", "stop", "counter")
	if st, body := get(t, c, in.url("counter", "/count")); st != 503 || !strings.Contains(body, "apps start counter") {
		t.Errorf("stopped app: %d %s", st, body)
	}
	in.mustCLI("apps", "start", "counter")
	if st, body := get(t, c, in.url("counter", "/count")); st != 200 || body != "2" {
		t.Errorf("after start: %d %q", st, body)
	}
	in.mustCLI("apps", "restart", "counter")
	if st, body := get(t, c, in.url("counter", "/count")); st != 200 || body != "3" {
		t.Errorf("after restart: %d %q", st, body)
	}

	// Errors a user will hit, through the CLI.
	if out, err := in.cli("apps", "install", counterApp); err == nil || !strings.Contains(out, "already installed") {
		t.Errorf("second install: %v\n%s", err, out)
	}
	if out, err := in.cli("apps", "install", "nosuchapp"); err == nil || !strings.Contains(out, `no app "nosuchapp"`) {
		t.Errorf("unknown app: %v\n%s", err, out)
	}
	if out, err := in.cli("apps", "stop", "nosuchapp"); err == nil || !strings.Contains(out, "apps list") {
		t.Errorf("stop unknown app: %v\n%s", err, out)
	}
	if out, err := exec.Command(binary(t, "stackhub"), "apps", "list", "--address", "127.0.0.1:1").CombinedOutput(); err == nil || !strings.Contains(string(out), "is StackHub running") {
		t.Errorf("no StackHub at address: %v\n%s", err, out)
	}

	in.mustCLI("apps", "remove", "counter", "--keep-data")
	in.mustCLI("apps", "install", counterApp, "--public")
	if st, body := get(t, c, in.url("counter", "/count")); st != 200 || body != "4" {
		t.Errorf("after remove --keep-data and reinstall: %d %q", st, body)
	}
	in.mustCLI("apps", "remove", "counter")
	if list := in.mustCLI("apps", "list"); strings.Contains(list, "counter") {
		t.Errorf("removed app listed:\n%s", list)
	}
	f := client.Filters{}.Add("label", "dev.stackhub.app=counter")
	cs, _ := in.docker.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	ns, _ := in.docker.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	vs, _ := in.docker.VolumeList(ctx, client.VolumeListOptions{Filters: f})
	if len(cs.Items)+len(ns.Items)+len(vs.Items) != 0 {
		t.Errorf("left after remove: %d containers, %d networks, %d volumes", len(cs.Items), len(ns.Items), len(vs.Items))
	}
}

// TestCrashRecovery kills the process (SIGKILL) at exact steps and checks
// that a restart converges (point 5 of the first issue).
func TestCrashRecovery(t *testing.T) {
	in := newInstance(t, "localhost")

	// Killed after the desired state was written, before any container:
	// the restart finishes the install.
	in.start("STACKHUB_FAILPOINT=install-after-record")
	if out, err := in.cli("apps", "install", "testdata/alpha", "--public"); err == nil {
		t.Fatalf("install survived its failpoint:\n%s", out)
	}
	<-in.exited
	in.start()
	c := in.client(nil)
	waitFor(t, 90*time.Second, "the interrupted install to be finished", func() bool {
		out, _ := in.cli("apps", "list")
		return regexp.MustCompile(`alpha\s+installed\s+running`).MatchString(out)
	})
	if out := in.mustCLI("apps", "list"); !strings.Contains(out, "finished after the restart") {
		t.Errorf("apps list does not report the recovery:\n%s", out)
	}
	c = in.client(in.rootCAs())
	if st, body := get(t, c, in.url("alpha", "/")); st != 200 || !strings.HasPrefix(body, "hello from alpha") {
		t.Fatalf("recovered app: %d %q", st, body)
	}

	// Killed while idle: every app is routed again after the restart.
	in.kill9()
	in.start()
	waitFor(t, 60*time.Second, "alpha to be routed again", func() bool {
		resp, err := c.Get(in.url("alpha", "/"))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})

	// Killed after the containers were removed, before the record was:
	// the restart finishes the removal.
	in.stop()
	in.start("STACKHUB_FAILPOINT=remove-after-down")
	if _, err := in.cli("apps", "remove", "alpha"); err == nil {
		t.Fatal("remove survived its failpoint")
	}
	<-in.exited
	in.start()
	waitFor(t, 60*time.Second, "the interrupted removal to be finished", func() bool {
		out, _ := in.cli("apps", "list")
		return !strings.Contains(out, "alpha")
	})
	if _, err := os.Stat(in.data + "/apps/alpha"); !os.IsNotExist(err) {
		t.Errorf("app folder left after recovered removal: %v", err)
	}
}

// TestRouteChangesUnderLoad installs and removes app B ten times while
// requests and a WebSocket hit app A: no request fails, the WebSocket stays
// open (DESIGN.md invariant 1: no config reload per app change).
func TestRouteChangesUnderLoad(t *testing.T) {
	in := newInstance(t, "localhost")
	in.start()
	in.mustCLI("apps", "install", "testdata/alpha", "--public")
	roots := in.rootCAs()
	c := in.client(roots)

	// The WebSocket, through Caddy.
	conn, err := tls.Dial("tcp", "127.0.0.1:"+strconv.Itoa(in.httpsPort), &tls.Config{RootCAs: roots, ServerName: "alpha.localhost", NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	wsCfg, _ := websocket.NewConfig(in.url("alpha", "/ws"), "https://alpha.localhost")
	wsCfg.Location.Scheme = "wss"
	ws, err := websocket.NewClient(wsCfg, conn)
	if err != nil {
		t.Fatalf("WebSocket through StackHub: %v", err)
	}
	defer ws.Close()

	stop := make(chan struct{})
	var requests, failures, wsMessages atomic.Int64
	var firstFailure atomic.Value
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := c.Get(in.url("alpha", "/"))
				requests.Add(1)
				if err != nil {
					failures.Add(1)
					firstFailure.CompareAndSwap(nil, err.Error())
					continue
				}
				b := make([]byte, 64)
				n, _ := resp.Body.Read(b)
				resp.Body.Close()
				if resp.StatusCode != 200 || !strings.HasPrefix(string(b[:n]), "hello from alpha") {
					failures.Add(1)
					firstFailure.CompareAndSwap(nil, strconv.Itoa(resp.StatusCode)+" "+string(b[:n]))
				}
			}
		}()
	}
	wsErr := make(chan error, 1)
	go func() {
		buf := make([]byte, 64)
		for i := 0; ; i++ {
			select {
			case <-stop:
				wsErr <- nil
				return
			case <-time.After(100 * time.Millisecond):
			}
			msg := "ping " + strconv.Itoa(i)
			if _, err := ws.Write([]byte(msg)); err != nil {
				wsErr <- err
				return
			}
			ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, err := ws.Read(buf)
			if err != nil || string(buf[:n]) != msg {
				wsErr <- err
				return
			}
			wsMessages.Add(1)
		}
	}()

	for i := range 10 {
		in.mustCLI("apps", "install", "testdata/beta", "--public")
		if st, body := get(t, c, in.url("beta", "/")); st != 200 || !strings.HasPrefix(body, "hello from beta") {
			t.Fatalf("round %d: beta answered %d %q", i, st, body)
		}
		in.mustCLI("apps", "remove", "beta")
	}
	close(stop)
	wg.Wait()
	if err := <-wsErr; err != nil {
		t.Errorf("WebSocket broke during route changes: %v", err)
	}
	t.Logf("%d requests to alpha, %d failed; %d WebSocket echoes", requests.Load(), failures.Load(), wsMessages.Load())
	if failures.Load() != 0 {
		t.Errorf("%d of %d requests to alpha failed while beta came and went; first: %v", failures.Load(), requests.Load(), firstFailure.Load())
	}
	if requests.Load() < 100 || wsMessages.Load() < 20 {
		t.Errorf("too little load to tell: %d requests, %d WebSocket messages", requests.Load(), wsMessages.Load())
	}
}

package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/stackhub/stackhub/internal/dockertest"
	"github.com/stackhub/stackhub/internal/platform"
	"github.com/stackhub/stackhub/internal/repotest"
	"github.com/stackhub/stackhub/internal/serverproc"
)

// binDir holds the stackhub and pebble binaries built once for the tests.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "stackhub-e2e-")
	if err != nil {
		panic(err)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var buildOnce = map[string]*sync.Once{"stackhub": {}, "pebble": {}, "docker-compose": {}}
var buildErr = map[string]error{}

// binary builds (once) and returns the path of stackhub, pebble (the ACME
// test CA) or docker-compose (the Compose CLI, built from the same Compose
// module StackHub uses, since the host may only have the old Python one).
func binary(t *testing.T, name string) string {
	t.Helper()
	pkg := map[string]string{
		"stackhub":       ".",
		"pebble":         "github.com/letsencrypt/pebble/v2/cmd/pebble",
		"docker-compose": "github.com/docker/compose/v5/cmd",
	}[name]
	out := filepath.Join(binDir, name)
	buildOnce[name].Do(func() {
		cmd := exec.Command("go", "build", "-o", out, pkg)
		if b, err := cmd.CombinedOutput(); err != nil {
			buildErr[name] = fmt.Errorf("build %s: %v\n%s", name, err, b)
		}
	})
	if buildErr[name] != nil {
		t.Fatal(buildErr[name])
	}
	return out
}

func freePort(t *testing.T) int {
	t.Helper()
	return repotest.FreePort(t)
}

// instance is one running stackhub process.
type instance struct {
	// instanceLabel is the dev.stackhub.instance label of its Docker objects.
	instanceLabel string
	t             *testing.T
	data          string
	domain        string
	httpPort      int
	httpsPort     int
	admin         string
	args          []string
	env           []string
	proc          *serverproc.Process
	out           *serverproc.Buffer
	exited        <-chan struct{}
	docker        *client.Client
}

// newInstance prepares an instance of `stackhub up` on loopback ports and
// registers the removal of every Docker object it creates.
func newInstance(t *testing.T, domain string) *instance {
	t.Helper()
	docker := dockertest.Client(t)
	dockertest.TestImage(t, docker, "stackhub-testapp:dev")
	in := &instance{t: t, data: t.TempDir(), domain: domain, httpPort: freePort(t), httpsPort: freePort(t), docker: docker}
	in.admin = "127.0.0.1:" + strconv.Itoa(freePort(t))
	cfg := platform.Config{Domain: domain, DataDir: in.data}
	cfg.Normalize()
	in.instanceLabel = cfg.Instance
	t.Cleanup(func() {
		in.stop()
		if t.Failed() && in.out != nil {
			t.Logf("stackhub's output:\n%s", in.out)
		}
		dockertest.Cleanup(t, docker, cfg.Instance)
	})
	in.args = []string{"up", "--domain", domain, "--data", in.data, "--bind", "127.0.0.1",
		"--http-port", strconv.Itoa(in.httpPort), "--https-port", strconv.Itoa(in.httpsPort), "--admin", in.admin}
	return in
}

// start runs the process and waits until its admin API answers.
func (in *instance) start(env ...string) {
	t := in.t
	t.Helper()
	p, err := serverproc.Start(binary(t, "stackhub"), in.args, env)
	if err != nil {
		t.Fatal(err)
	}
	in.proc, in.out, in.exited = p, p.Out, p.Exited()
	switch err := p.WaitReady(60*time.Second, 200*time.Millisecond, func() bool {
		return serverproc.HTTPOK(http.DefaultClient, "http://"+in.admin+"/stackhub/apps")
	}); {
	case errors.Is(err, serverproc.ErrExited):
		t.Fatalf("stackhub exited at start:\n%s", in.out)
	case err != nil:
		t.Fatalf("stackhub did not become ready:\n%s", in.out)
	}
}

// kill9 kills the process as a crash or power cut would.
func (in *instance) kill9() { in.proc.Kill() }

// stop ends the process (SIGTERM, then SIGKILL after 20 s).
func (in *instance) stop() { in.proc.Stop(20 * time.Second) }

// cli runs `stackhub ARGS --address ADMIN` and returns its output.
func (in *instance) cli(args ...string) (string, error) {
	in.t.Helper()
	cmd := exec.Command(binary(in.t, "stackhub"), append(args, "--address", in.admin)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// mustCLI is cli that fails the test on error.
func (in *instance) mustCLI(args ...string) string {
	in.t.Helper()
	out, err := in.cli(args...)
	if err != nil {
		in.t.Fatalf("stackhub %s: %v\n%s\n--- server log:\n%s", strings.Join(args, " "), err, out, in.out)
	}
	return out
}

// rootCAs returns the pool with the instance's local CA.
func (in *instance) rootCAs() *x509.CertPool {
	in.t.Helper()
	pem, err := os.ReadFile(filepath.Join(in.data, "caddy", "pki", "authorities", "local", "root.crt"))
	if err != nil {
		in.t.Fatalf("local CA root: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return pool
}

// client returns an HTTPS client that sends every host to the instance's
// port on loopback (as DNS for the domain would) and trusts roots.
func (in *instance) client(roots *x509.CertPool) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	port := strconv.Itoa(in.httpsPort)
	return &http.Client{
		Timeout: 20 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots},
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				return dialer.DialContext(ctx, network, "127.0.0.1:"+port)
			},
			MaxIdleConnsPerHost: 16,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func (in *instance) url(app, path string) string {
	return fmt.Sprintf("https://%s.%s:%d%s", app, in.domain, in.httpsPort, path)
}

// get fetches an app page and returns status and trimmed body.
func get(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

package bench

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/stackhub/stackhub/internal/adminapi"
	"github.com/stackhub/stackhub/internal/dockertest"
	"github.com/stackhub/stackhub/internal/platform"
)

// Config sets what the harness measures and for how long.
type Config struct {
	// Stackhub and Compose are the binaries to measure and to compare
	// with; empty: built from this module into a temporary folder.
	Stackhub, Compose string
	Rounds            int           // alternating rounds of each comparison (3)
	Duration          time.Duration // load per side and round (4s)
	Conns             int           // concurrent connections of the proxy rows (64)
	Apps              int           // installed apps of the footprint row (20)
	SignIns           int           // sign-ins of the footprint row (20)
	Cycles            int           // install/remove cycles of the churn row (20)
	Settle            time.Duration // idle time before memory is read (5s)
	// DNSSeconds is the load per server and round of the DNS row.
	DNSSeconds int
	// Samples is a folder of real stores (casaos/, runtipi/, umbrel/)
	// for the catalog row, besides our fixtures; empty: fixtures only.
	Samples string
	// Profiles is where pprof profiles go (bench/profiles); empty: none.
	Profiles string
	// Command is how this run was started, for the document.
	Command string
}

// Quick is the smoke configuration: every row, tiny durations.
func Quick() Config {
	return Config{Rounds: 1, Duration: 300 * time.Millisecond, Conns: 4, Apps: 2, SignIns: 1, Cycles: 1,
		Settle: 200 * time.Millisecond, DNSSeconds: 1}
}

// Full is the configuration of `make bench`.
func Full() Config {
	return Config{Rounds: 5, Duration: 4 * time.Second, Conns: 64, Apps: 20, SignIns: 20, Cycles: 20,
		Settle: 5 * time.Second, DNSSeconds: 5}
}

// harness is one run: the binaries, the Docker client and the results.
type harness struct {
	t        testing.TB
	cfg      Config
	root     string // the repository
	work     string // scratch folder
	hey      string
	docker   *client.Client
	domain   string
	res      *Results
	instance string // Docker label of the platform's objects
}

// Run measures every row and returns the results; it fails t when a row
// cannot be measured.
func Run(t testing.TB, cfg Config) *Results {
	t.Helper()
	h := &harness{t: t, cfg: cfg, root: dockertest.RepoRoot(t), work: t.TempDir(), domain: "localhost"}
	h.docker = dockertest.Client(t)
	dockertest.TestImage(t, h.docker, "stackhub-testapp:dev")
	h.res = &Results{Started: time.Now().UTC(), Command: cfg.Command, Config: cfg}
	h.buildTools()
	h.res.Machine = machineInfo(h)
	if cfg.Profiles != "" {
		os.MkdirAll(cfg.Profiles, 0o755)
	}

	h.catalogRow()
	h.footprintIdleRows()
	main := h.startMain()
	h.proxyRows(main)
	h.installRow(main)
	h.churnRow(main)
	h.footprintAppsRows(main)
	h.dnsRow()
	h.res.Finished = time.Now().UTC()
	h.res.Goals = goals(h.res)
	return h.res
}

// buildTools builds what is not given: stackhub, the Compose CLI and hey
// (Go tools of this module), and CoreDNS for the DNS row.
func (h *harness) buildTools() {
	bin := filepath.Join(h.work, "bin")
	build := func(out, pkg string) string {
		path := filepath.Join(bin, out)
		cmd := exec.Command("go", "build", "-o", path, pkg)
		cmd.Dir = h.root
		if b, err := cmd.CombinedOutput(); err != nil {
			h.t.Fatalf("build %s: %v\n%s", pkg, err, b)
		}
		return path
	}
	if h.cfg.Stackhub == "" {
		h.cfg.Stackhub = build("stackhub", "./cmd/stackhub")
	}
	if h.cfg.Compose == "" {
		h.cfg.Compose = build("docker-compose", "github.com/docker/compose/v5/cmd")
	}
	h.hey = build("hey", "github.com/rakyll/hey")
}

// logf prints progress, with the load average, to the test log.
func (h *harness) logf(format string, args ...any) {
	h.t.Helper()
	h.t.Logf("%s [load %s] %s", time.Now().UTC().Format("15:04:05"), loadAverage(), fmt.Sprintf(format, args...))
}

// loadAverage is the 1, 5 and 15 minute load average.
func loadAverage() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// newStackhub prepares `stackhub up` on loopback ports with its own data
// folder, and registers the removal of its Docker objects.
func (h *harness) newStackhub(name, data string) *server {
	cfg := platform.Config{Domain: h.domain, DataDir: data}
	cfg.Normalize()
	h.t.Cleanup(func() { dockertest.Cleanup(h.t, h.docker, cfg.Instance) })
	h.instance = cfg.Instance
	s := &server{name: name, admin: "127.0.0.1:" + strconv.Itoa(freePort()), httpsPort: freePort(), readyPath: "/stackhub/apps"}
	s.args = []string{"up", "--domain", h.domain, "--data", data, "--bind", "127.0.0.1",
		"--http-port", strconv.Itoa(freePort()), "--https-port", strconv.Itoa(s.httpsPort), "--admin", s.admin}
	h.t.Cleanup(s.stop)
	return s
}

// newPlainCaddy prepares the baseline: the same binary running plain
// Caddy (`stackhub run`) with sites reverse-proxied to upstream, on the
// same kind of listeners, storage and local CA as `stackhub up`.
func (h *harness) newPlainCaddy(name string, sites int, upstream string) *server {
	dir := filepath.Join(h.work, name)
	os.MkdirAll(dir, 0o700)
	s := &server{name: name, admin: "127.0.0.1:" + strconv.Itoa(freePort()), httpsPort: freePort(), readyPath: "/config/"}
	var b strings.Builder
	fmt.Fprintf(&b, "{\n\tadmin %s\n\tpersist_config off\n\tdefault_bind 127.0.0.1\n\thttp_port %d\n\thttps_port %d\n", s.admin, freePort(), s.httpsPort)
	fmt.Fprintf(&b, "\tstorage file_system {\n\t\troot %q\n\t}\n\tlocal_certs\n\tskip_install_trust\n}\n", filepath.Join(dir, "caddy"))
	for i := range max(sites, 1) {
		fmt.Fprintf(&b, "site%02d.plain.localhost {\n\ttls internal\n\treverse_proxy %s\n}\n", i, upstream)
	}
	file := filepath.Join(dir, "Caddyfile")
	os.WriteFile(file, []byte(b.String()), 0o600)
	s.args = []string{"run", "--config", file, "--adapter", "caddyfile"}
	h.t.Cleanup(s.stop)
	return s
}

// api is the admin API client of a stackhub process.
func (h *harness) api(s *server) adminapi.Client {
	return adminapi.Client{Do: func(method, uri string, body io.Reader) (*http.Response, error) {
		req, err := http.NewRequest(method, "http://"+s.admin+uri, body)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		return http.DefaultClient.Do(req)
	}}
}

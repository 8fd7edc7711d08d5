package bench

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/stackhub/stackhub/internal/serverproc"
)

// server is one running process of the stackhub binary: `stackhub up`
// (the platform) or `stackhub run` with a plain Caddyfile (the baseline).
type server struct {
	name      string
	args      []string
	env       []string
	admin     string // host:port of the admin API
	httpsPort int
	readyPath string // admin path that answers 200 once the config runs
	proc      *serverproc.Process
	out       *serverproc.Buffer
	ready     time.Duration // from exec to ready, of the last start
}

// start runs the process and waits until it is ready: its admin API
// answers readyPath with 200 and its HTTPS port accepts connections.
func (s *server) start(bin string) error {
	t0 := time.Now()
	p, err := serverproc.Start(bin, s.args, s.env)
	if err != nil {
		return fmt.Errorf("start %s: %w", s.name, err)
	}
	s.proc, s.out = p, p.Out
	c := &http.Client{Timeout: 2 * time.Second}
	err = p.WaitReady(90*time.Second-time.Since(t0), 5*time.Millisecond, func() bool {
		return serverproc.HTTPOK(c, "http://"+s.admin+s.readyPath) && serverproc.Listening("127.0.0.1:"+strconv.Itoa(s.httpsPort))
	})
	switch {
	case errors.Is(err, serverproc.ErrExited):
		return fmt.Errorf("%s exited at start:\n%s", s.name, s.out)
	case err != nil:
		s.stop()
		return fmt.Errorf("%s was not ready after 90 s:\n%s", s.name, s.out)
	}
	s.ready = time.Since(t0)
	return nil
}

// stop ends the process (SIGTERM, then SIGKILL after 30 s).
func (s *server) stop() { s.proc.Stop(30 * time.Second) }

// memory is a process's resident memory from /proc/<pid>/status, in MB.
type memory struct {
	RSS, Anon, File float64
}

func (s *server) memory() (memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.proc.Cmd.Process.Pid))
	if err != nil {
		return memory{}, err
	}
	defer f.Close()
	var m memory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		switch k {
		case "VmRSS":
			m.RSS = kb / 1024
		case "RssAnon":
			m.Anon = kb / 1024
		case "RssFile":
			m.File = kb / 1024
		}
	}
	if m.RSS == 0 {
		return m, fmt.Errorf("no VmRSS for %s", s.name)
	}
	return m, nil
}

// goroutines reads the goroutine count from the admin API's pprof
// endpoint (Caddy serves /debug/pprof/ on its admin listener).
func (s *server) goroutines() (int, error) {
	resp, err := http.Get("http://" + s.admin + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	line, _ := bufio.NewReader(resp.Body).ReadString('\n')
	_, n, ok := strings.Cut(strings.TrimSpace(line), "total ")
	if !ok {
		return 0, fmt.Errorf("goroutine profile of %s: %q", s.name, line)
	}
	return strconv.Atoi(n)
}

// profile saves a pprof profile (heap, or profile?seconds=N for CPU)
// from the admin API into file.
func (s *server) profile(kind, file string) error {
	resp, err := (&http.Client{Timeout: 5 * time.Minute}).Get("http://" + s.admin + "/debug/pprof/" + kind)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("pprof %s of %s: %s", kind, s.name, resp.Status)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return os.WriteFile(file, b, 0o644)
}

// httpsClient sends every request to the server's HTTPS port on loopback,
// with the URL's host as the TLS server name (as DNS for the domain would).
func (s *server) httpsClient(timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	port := strconv.Itoa(s.httpsPort)
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // the instance's own local CA
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				return dialer.DialContext(ctx, network, "127.0.0.1:"+port)
			},
			MaxIdleConnsPerHost: 16,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// freePort returns a TCP port free on loopback now.
func freePort() int {
	port, err := serverproc.FreePort()
	if err != nil {
		panic(err)
	}
	return port
}

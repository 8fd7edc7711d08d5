package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// syncBuffer collects a process's output safely.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// server is one running process of the stackhub binary: `stackhub up`
// (the platform) or `stackhub run` with a plain Caddyfile (the baseline).
type server struct {
	name      string
	args      []string
	env       []string
	admin     string // host:port of the admin API
	httpsPort int
	readyPath string // admin path that answers 200 once the config runs
	cmd       *exec.Cmd
	out       *syncBuffer
	exited    chan struct{}
	ready     time.Duration // from exec to ready, of the last start
}

// start runs the process and waits until it is ready: its admin API
// answers readyPath with 200 and its HTTPS port accepts connections.
func (s *server) start(bin string) error {
	s.out = &syncBuffer{}
	s.cmd = exec.Command(bin, s.args...)
	s.cmd.Env = append(os.Environ(), s.env...)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	t0 := time.Now()
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.name, err)
	}
	s.exited = make(chan struct{})
	go func() { s.cmd.Wait(); close(s.exited) }()
	c := &http.Client{Timeout: 2 * time.Second}
	deadline := t0.Add(90 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("%s exited at start:\n%s", s.name, s.out)
		default:
		}
		if resp, err := c.Get("http://" + s.admin + s.readyPath); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				if conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(s.httpsPort), time.Second); err == nil {
					conn.Close()
					s.ready = time.Since(t0)
					return nil
				}
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.stop()
	return fmt.Errorf("%s was not ready after 90 s:\n%s", s.name, s.out)
}

// stop ends the process (SIGTERM, then SIGKILL after 30 s).
func (s *server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.exited:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Signal(syscall.SIGKILL)
		<-s.exited
	}
}

// memory is a process's resident memory from /proc/<pid>/status, in MB.
type memory struct {
	RSS, Anon, File float64
}

func (s *server) memory() (memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
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
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

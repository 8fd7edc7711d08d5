// Package serverproc runs a server binary for tests and benchmarks (the
// stackhub binary, rclone's REST server): its output collected in a
// buffer safe to read while it runs, a wait until it is ready, and a stop
// with a grace period or a kill.
package serverproc

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Buffer collects a process's output safely (the process writes while the
// test reads).
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Process is a running program whose output goes to Out.
type Process struct {
	Cmd    *exec.Cmd
	Out    *Buffer
	exited chan struct{}
}

// Start runs bin with args, with env added to this process's environment.
func Start(bin string, args, env []string) (*Process, error) {
	p := &Process{Cmd: exec.Command(bin, args...), Out: &Buffer{}, exited: make(chan struct{})}
	p.Cmd.Env = append(os.Environ(), env...)
	p.Cmd.Stdout, p.Cmd.Stderr = p.Out, p.Out
	if err := p.Cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { p.Cmd.Wait(); close(p.exited) }()
	return p, nil
}

// Exited is closed when the process has ended.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// ErrExited is WaitReady's error when the process ended first.
var ErrExited = errors.New("exited at start")

// WaitReady asks ready every interval until it says yes (nil), the
// process ends (ErrExited) or timeout passes (an error saying so).
func (p *Process) WaitReady(timeout, interval time.Duration, ready func() bool) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return ErrExited
		default:
		}
		if ready() {
			return nil
		}
		time.Sleep(interval)
	}
	return fmt.Errorf("not ready after %s", timeout)
}

// Stop ends the process: SIGTERM, then SIGKILL after grace.
func (p *Process) Stop(grace time.Duration) {
	if p == nil {
		return
	}
	select {
	case <-p.exited:
		return
	default:
	}
	p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(grace):
		p.Kill()
	}
}

// Kill kills the process as a crash or power cut would, and waits for it.
func (p *Process) Kill() {
	p.Cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// HTTPOK reports whether GET url answers 200.
func HTTPOK(c *http.Client, url string) bool {
	resp, err := c.Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Listening reports whether addr (host:port) accepts TCP connections.
func Listening(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// FreePort returns a TCP port of 127.0.0.1 nothing listens on now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

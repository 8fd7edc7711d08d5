// Package repotest starts the servers of the backup tests' remote
// repositories on loopback ports: a restic REST server (Debian's rclone,
// `rclone serve restic`, with or without HTTP basic auth) and an
// S3-protocol server in the test's process (gofakes3) that checks every
// request's AWS signature. Only tests import it, so neither reaches the
// stackhub binary. Each server stops when its test ends.
package repotest

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// REST is a restic REST server on a loopback port: rclone's
// `serve restic` (restic's own rest-server is neither in Debian bookworm
// nor served by the Go module proxy), storing under Root.
type REST struct {
	Root string
	Addr string // 127.0.0.1:PORT
}

// URL is the rest: repository name under the server's root.
func (s REST) URL(name string) string {
	return "rest:http://" + s.Addr + "/" + name + "/"
}

// NeedRclone fails the test in CI and skips it elsewhere without rclone.
func NeedRclone(t testing.TB) {
	t.Helper()
	needCommand(t, "rclone", "rclone (the REST server of the backup tests)")
}

// StartREST starts a REST server; with a user, it asks for HTTP basic
// auth.
func StartREST(t testing.TB, user, pass string) REST {
	t.Helper()
	NeedRclone(t)
	s := REST{Root: t.TempDir(), Addr: "127.0.0.1:" + strconv.Itoa(FreePort(t))}
	args := []string{"serve", "restic", s.Root, "--addr", s.Addr}
	if user != "" {
		args = append(args, "--user", user, "--pass", pass)
	}
	cmd := exec.Command("rclone", args...)
	cmd.Env = append(os.Environ(), "RCLONE_CONFIG="+filepath.Join(t.TempDir(), "rclone.conf"))
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start rclone serve restic: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err == nil {
			c.Close()
			return s
		}
		select {
		case <-done:
			t.Fatalf("rclone serve restic exited: %s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the REST server does not answer on %s: %s", s.Addr, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// FreePort is a loopback TCP port nobody listens on (now).
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

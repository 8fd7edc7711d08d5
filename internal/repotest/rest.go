// Package repotest starts the servers of the backup tests' remote
// repositories on loopback ports: a restic REST server (Debian's rclone,
// `rclone serve restic`, with or without HTTP basic auth) and an
// S3-protocol server in the test's process (gofakes3) that checks every
// request's AWS signature. Only tests import it, so neither reaches the
// stackhub binary. Each server stops when its test ends.
package repotest

import (
	"errors"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stackhub/stackhub/internal/serverproc"
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
	p, err := serverproc.Start("rclone", args, []string{"RCLONE_CONFIG=" + filepath.Join(t.TempDir(), "rclone.conf")})
	if err != nil {
		t.Fatalf("start rclone serve restic: %v", err)
	}
	t.Cleanup(p.Kill)
	switch err := p.WaitReady(20*time.Second, 100*time.Millisecond, func() bool { return serverproc.Listening(s.Addr) }); {
	case errors.Is(err, serverproc.ErrExited):
		t.Fatalf("rclone serve restic exited: %s", p.Out)
	case err != nil:
		t.Fatalf("the REST server does not answer on %s: %s", s.Addr, p.Out)
	}
	return s
}

// FreePort is a loopback TCP port nobody listens on (now).
func FreePort(t testing.TB) int {
	t.Helper()
	port, err := serverproc.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

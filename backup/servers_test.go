package backup

import (
	"bytes"
	"context"
	"crypto/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// restServer is a restic REST server on a loopback port: rclone's
// `serve restic` (Debian's rclone; restic's own rest-server is neither in
// Debian bookworm nor served by the Go module proxy), storing under Root.
type restServer struct {
	Root string
	Addr string // 127.0.0.1:PORT
}

// URL is the rest: repository name under the server's root.
func (s restServer) URL(name string) string {
	return "rest:http://" + s.Addr + "/" + name + "/"
}

func needRclone(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("rclone"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("rclone (the REST server of the backup tests) is required in CI (`make deps` installs it): %v", err)
		}
		t.Skipf("rclone not installed (%v): skipping; CI=true makes this a failure", err)
	}
}

// startRESTServer starts a REST server; with a user, it asks for HTTP basic
// auth. It stops when the test ends.
func startRESTServer(t *testing.T, user, pass string) restServer {
	t.Helper()
	needRclone(t)
	s := restServer{Root: t.TempDir(), Addr: "127.0.0.1:" + strconv.Itoa(freePort(t))}
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

// freePort is a loopback TCP port nobody listens on (now).
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// s3Server is an S3-protocol server in this process (gofakes3, in memory)
// that checks each request's AWS signature against one access key.
type s3Server struct {
	Backend *s3mem.Backend
	URL     string // http://127.0.0.1:PORT
	KeyID   string
	Secret  string
	// Refused counts the requests refused for a wrong or missing key.
	Refused *int
}

func startS3Server(t *testing.T, keyID, secret string) s3Server {
	t.Helper()
	be := s3mem.New()
	fake := gofakes3.New(be, gofakes3.WithAutoBucket(false))
	refused := 0
	s := s3Server{Backend: be, KeyID: keyID, Secret: secret, Refused: &refused}
	h := fake.Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := verifySigV4(r, keyID, secret); err != nil {
			refused++
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>` + err.code + `</Code><Message>` + err.msg + `</Message></Error>`))
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// randomTree writes a tree with an incompressible file of n bytes, an empty
// file and a nested one, and returns the random file's content.
func randomTree(t *testing.T, dir string, n int) []byte {
	t.Helper()
	big := make([]byte, n)
	rand.Read(big)
	writeTree(t, dir, map[string]string{"empty": "", "deep/er/note.txt": "hello\n"})
	if err := os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o600); err != nil {
		t.Fatal(err)
	}
	return big
}

// sameBytes restores snapshot id and compares it with what was backed up.
func sameBytes(t *testing.T, repo Repo, id string, big []byte) {
	t.Helper()
	out := t.TempDir()
	if err := repo.Restore(context.Background(), id, out); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(out, "big.bin"))
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("restored big.bin differs: %d bytes, want %d (%v)", len(got), len(big), err)
	}
	if b, err := os.ReadFile(filepath.Join(out, "empty")); err != nil || len(b) != 0 {
		t.Errorf("restored empty file: %q %v", b, err)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "deep/er/note.txt")); string(b) != "hello\n" {
		t.Errorf("restored deep/er/note.txt = %q", b)
	}
}

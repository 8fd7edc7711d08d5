// Package sshdtest starts a real OpenSSH server (Debian's openssh-server)
// on a loopback port for tests of SFTP backup repositories. Keys and
// configuration live in the test's temporary folder; the server stops when
// the test ends.
package sshdtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"testing"
	"time"
)

// Server is a running sshd.
type Server struct {
	Port int
	User string
	// Key is the private key that signs in as User.
	Key string
	// Root is a folder the test may put repositories in.
	Root string
}

// SSHCommand is the command restic's sftp.command option takes.
func (s Server) SSHCommand() string {
	return fmt.Sprintf("ssh -p %d -i %s -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR %s@127.0.0.1 -s sftp", s.Port, s.Key, s.User)
}

// RepoURL is an sftp: repository address for path below Root.
func (s Server) RepoURL(name string) string {
	return fmt.Sprintf("sftp:%s@127.0.0.1:%s", s.User, filepath.Join(s.Root, name))
}

// Start starts sshd; without sshd or ssh it fails when CI is set and skips
// otherwise.
func Start(t testing.TB) Server {
	t.Helper()
	for _, bin := range []string{"/usr/sbin/sshd", "ssh", "ssh-keygen"} {
		if _, err := exec.LookPath(bin); err != nil {
			unavailable(t, "OpenSSH ("+bin+"; `make deps` installs openssh-server)", err)
		}
	}
	if os.Getuid() != 0 {
		unavailable(t, "root (sshd runs as root to sign users in)", fmt.Errorf("uid %d", os.Getuid()))
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	hostKey := filepath.Join(dir, "host_ed25519")
	userKey := filepath.Join(dir, "user_ed25519")
	run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey)
	run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", userKey)
	pub, err := os.ReadFile(userKey + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	auth := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(auth, pub, 0o600); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "repos")
	os.MkdirAll(root, 0o700)
	// A free port: listen, note it, close (sshd binds it next).
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cfg := filepath.Join(dir, "sshd_config")
	conf := fmt.Sprintf(`ListenAddress 127.0.0.1
HostKey %s
PidFile %s
AuthorizedKeysFile %s
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
Subsystem sftp internal-sftp
`, hostKey, filepath.Join(dir, "sshd.pid"), auth)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll("/run/sshd", 0o755) // sshd's privilege separation folder
	cmd := exec.Command("/usr/sbin/sshd", "-D", "-e", "-f", cfg, "-p", fmt.Sprint(port))
	logFile, _ := os.Create(filepath.Join(dir, "sshd.log"))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sshd: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logFile.Close()
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "sshd.log"))
			t.Fatalf("sshd did not listen on %d: %v\n%s", port, err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return Server{Port: port, User: u.Username, Key: userKey, Root: root}
}

func unavailable(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is required in CI and is not available: %v", what, err)
	}
	t.Skipf("%s not available (%v): skipping; CI=true makes this a failure", what, err)
}

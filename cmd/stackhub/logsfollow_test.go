package main

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stackhub/stackhub/internal/serverproc"
)

// TestLogsFollowAcrossRestarts follows an app's logs while the app is
// restarted, stopped and started: the follow stays, shows each new run's
// lines once, and ends (saying why) only when the app is removed.
func TestLogsFollowAcrossRestarts(t *testing.T) {
	in := newInstance(t, "localhost")
	in.start()
	in.mustCLI("apps", "install", "testdata/alpha")

	follow := exec.Command(binary(t, "stackhub"), "apps", "logs", "alpha", "-f", "--address", in.admin)
	out := &serverproc.Buffer{}
	follow.Stdout, follow.Stderr = out, out
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- follow.Wait() }()
	t.Cleanup(func() { follow.Process.Kill() })
	runs := func() int { return strings.Count(out.String(), "alpha listening on :8080") }
	waitRuns := func(n int, after string) {
		t.Helper()
		waitFor(t, 60*time.Second, after, func() bool {
			select {
			case err := <-done:
				t.Fatalf("logs -f ended after %s (%v):\n%s", after, err, out)
			default:
			}
			return runs() >= n
		})
	}
	waitRuns(1, "the start")

	in.mustCLI("apps", "restart", "alpha")
	waitRuns(2, "a restart")
	in.mustCLI("apps", "stop", "alpha")
	waitFor(t, 60*time.Second, "the stop notice", func() bool { return strings.Contains(out.String(), "alpha is not running; waiting") })
	in.mustCLI("apps", "start", "alpha")
	waitRuns(3, "a stop and start")

	in.mustCLI("apps", "remove", "alpha")
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("logs -f exited with %v after the removal", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("logs -f still runs after the app was removed:\n%s", out)
	}
	if !strings.Contains(out.String(), "alpha was removed; no more logs") {
		t.Errorf("the follow does not say the app was removed:\n%s", out)
	}
	if n := runs(); n != 3 {
		t.Errorf("saw %d runs' start lines, want 3 (one per run, none repeated):\n%s", n, out)
	}
}

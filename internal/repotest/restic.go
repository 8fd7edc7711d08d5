package repotest

import (
	"os"
	"os/exec"
	"testing"
)

// NeedRestic skips the test when restic is not installed, and fails it in
// CI, which must run every backup test.
func NeedRestic(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("restic"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("restic is required in CI (`make deps` installs it): %v", err)
		}
		t.Skipf("restic is not installed (%v): skipping; CI=true makes this a failure", err)
	}
}

package repotest

import (
	"os"
	"os/exec"
	"testing"
)

// NeedRestic fails the test in CI and skips it elsewhere without restic.
func NeedRestic(t testing.TB) {
	t.Helper()
	needCommand(t, "restic", "restic")
}

// needCommand fails the test in CI and skips it elsewhere when the command
// name (what it is for the tests: what) is not installed.
func needCommand(t testing.TB, name, what string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI (`make deps` installs it): %v", what, err)
		}
		t.Skipf("%s not installed (%v): skipping; CI=true makes this a failure", name, err)
	}
}

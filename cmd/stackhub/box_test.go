package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stackhub/stackhub/internal/dockertest"
)

// TestWholeBoxBackupAndRestore is the way a whole box comes back on a new
// machine: one StackHub with a user (password + TOTP) and an app with data
// is backed up; a second StackHub with a fresh data folder restores it
// from the repository; there the user signs in with the same password and
// TOTP secret, and the app answers at its subdomain with its data, behind
// the same access policy.
func TestWholeBoxBackupAndRestore(t *testing.T) {
	if _, err := exec.LookPath("restic"); err != nil {
		dockertest.Unavailable(t, "restic (`make deps` installs it)", err)
	}
	repo := filepath.Join(t.TempDir(), "repo")
	a := newInstance(t, "localhost")
	a.start()
	a.mustCLI("apps", "install", "testdata/keeper")
	var setupToken string
	waitFor(t, 10*time.Second, "the setup token in the log", func() bool {
		m := regexp.MustCompile(`"setup_token":\s*"([^"]+)"`).FindStringSubmatch(a.out.String())
		if m != nil {
			setupToken = m[1]
		}
		return m != nil
	})
	admin := a.newBrowserish()
	sp := admin.get(a.portal("/setup"))
	form := map[string][]string{"csrf": {csrfOf(t, sp.body)}, "token": {setupToken}, "username": {"root"}, "password": {"root-password-1"}}
	if r := admin.do("POST", a.portal("/setup"), form, nil); r.status != 303 {
		t.Fatalf("setup: %d %s", r.status, r.body)
	}
	keeper := a.url("keeper", "/count")
	secret := admin.open("root", "root-password-1", "", keeper)
	for _, want := range []string{"2", "3"} { // open already counted 1
		if r := admin.get(keeper); r.status != 200 || strings.TrimSpace(r.body) != want {
			t.Fatalf("count on the first box: %d %q, want %s", r.status, r.body, want)
		}
	}

	out := a.mustCLI("backup", "init", repo)
	m := regexp.MustCompile(`(?m)^\s{4}(\S+)\s*$`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "lose") {
		t.Fatalf("backup init did not show the password once, with the warning:\n%s", out)
	}
	password := m[1]
	if again := a.mustCLI("backup", "show"); strings.Contains(again, password) {
		t.Errorf("the password is shown again:\n%s", again)
	}
	// An update through the CLI: backup first, then the new version; its
	// report says how long the app was down.
	out = a.mustCLI("apps", "update", "keeper", "--from", "testdata/keeper-v2")
	if !strings.Contains(out, "updated from 1 to 2") || !strings.Contains(out, "unreachable for") {
		t.Errorf("apps update said:\n%s", out)
	}
	if out := a.mustCLI("apps", "backups", "keeper"); !strings.Contains(out, "pre-update") {
		t.Errorf("apps backups does not list the pre-update backup:\n%s", out)
	}
	if out := a.mustCLI("apps", "schedule", "keeper", "--daily", "04:30"); !strings.Contains(out, "daily at 04:30") {
		t.Errorf("apps schedule said:\n%s", out)
	}
	a.mustCLI("backup", "schedule")
	out = a.mustCLI("backup")
	if !strings.Contains(out, "the box is backed up: 1 apps") {
		t.Errorf("stackhub backup said:\n%s", out)
	}
	if list := a.mustCLI("apps", "list"); !strings.Contains(list, "backed up ") {
		t.Errorf("apps list does not show the last backup:\n%s", list)
	}
	// The first box goes away, its app with it.
	a.mustCLI("apps", "remove", "keeper")
	a.stop()

	b := newInstance(t, "localhost")
	b.start()
	if _, err := b.cli("restore", "--from", repo, "--password", "wrong"); err == nil {
		t.Error("restore with a wrong password succeeded")
	}
	out = b.mustCLI("restore", "--from", repo, "--password", password)
	if !strings.Contains(out, "the box is back: 1 apps") {
		t.Errorf("stackhub restore said:\n%s", out)
	}
	if list := b.mustCLI("apps", "list"); !strings.Contains(list, "keeper") || !strings.Contains(list, "running") {
		t.Errorf("apps list after the restore:\n%s", list)
	}
	anon := b.newBrowserish()
	if r := anon.get(b.url("keeper", "/count")); r.status != 302 || !strings.Contains(r.location, "/login") {
		t.Errorf("the restored app is not private: %d %s", r.status, r.location)
	}
	user := b.newBrowserish()
	ans, _ := user.login("root", "root-password-1", secret, b.url("keeper", "/count"))
	if ans.status != 303 && ans.status != 302 {
		t.Fatalf("sign-in on the restored box with the old password and TOTP: %d %s", ans.status, ans.body)
	}
	last, visited := user.follow(b.portal(ans.location))
	if last.status != 200 || strings.TrimSpace(last.body) != "4" {
		t.Errorf("the restored app at %v answers %d %q, want its data (count 4)", visited, last.status, last.body)
	}
}

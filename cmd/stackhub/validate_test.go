package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// portalSite serves the portal, so that a validation run provisions
// stackhub_portal (which, in a real run, opens <data>/portal.sock).
func portalSite(in *instance) string {
	return fmt.Sprintf("my.%s {\n\ttls {\n\t\ton_demand\n\t}\n\tstackhub_portal\n\treverse_proxy unix/%s/portal.sock\n}\n", in.domain, in.data)
}

// says reports whether url answers 200 with a body starting with want.
func says(c *http.Client, url, want string) bool {
	resp, err := c.Get(url)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode == 200 && strings.HasPrefix(string(b), want)
}

// TestValidateWhileStackHubRuns validates Caddyfiles with declared apps
// while a StackHub runs on the same data folder, as users do before a
// reload: a good file is valid, each kind of mistake is refused with its
// file and line (a clash with an app the running StackHub has installed
// included), and the running StackHub is untouched: same config, same
// containers, still serving.
func TestValidateWhileStackHubRuns(t *testing.T) {
	in := newInstance(t, "localhost")
	alpha, beta := testApp(t, "alpha", ""), testApp(t, "beta", "")
	hostile := testApp(t, "hostile", "    privileged: true\n")
	running := fmt.Sprintf("\t\tapp alpha {\n\t\t\tpath %s\n\t\t\taccess public\n\t\t}", alpha)
	path := writeFile(t, "Caddyfile", declaredCaddyfile(in, running, "", portalSite(in)))
	in.args = []string{"run", "--config", path}
	in.start()
	c := in.client(in.rootCAs())
	alphaAnswers := func() bool { return says(c, in.url("alpha", "/"), "hello from alpha") }
	waitFor(t, 120*time.Second, "declared alpha", alphaAnswers)
	waitFor(t, 30*time.Second, "the convergence to finish", func() bool {
		out, _ := in.cli("apps", "declared")
		return strings.Contains(out, "done") && !strings.Contains(out, "converging")
	})
	config := func() string {
		resp, err := http.Get("http://" + in.admin + "/config/")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	configBefore, alphaBefore := config(), containers(t, in, "alpha")
	socket, err := os.Stat(filepath.Join(in.data, "portal.sock"))
	if err != nil {
		t.Fatalf("the running StackHub's portal socket: %v", err)
	}

	candidate := filepath.Join(t.TempDir(), "Caddyfile")
	validate := func(declarations string) (string, string, error) {
		text := declaredCaddyfile(in, declarations, "", portalSite(in))
		if err := os.WriteFile(candidate, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(binary(t, "stackhub"), "validate", "--config", candidate).CombinedOutput()
		return text, string(out), err
	}

	// A good file: alpha as it runs, and a new app beta.
	good := running + fmt.Sprintf("\n\t\tapp beta {\n\t\t\tpath %s\n\t\t}", beta)
	if _, out, err := validate(good); err != nil || !strings.Contains(out, "Valid configuration") {
		t.Fatalf("validate of a good file while StackHub runs: %v\n%s", err, out)
	}

	for _, bad := range []struct{ name, block, want string }{
		{"unknown store app", "app beta {\n\t\t\tfrom builtin/no-such-app\n\t\t}", "no-such-app"},
		{"missing required value", "app beta {\n\t\t\tfrom builtin/gotify\n\t\t}", "add `set ADMIN_PASSWORD VALUE` to its block"},
		{"unapproved hazard", "app beta {\n\t\t\tpath " + hostile + "\n\t\t}", "approve privileged"},
		{"subdomain clash in the file", "app beta {\n\t\t\tpath " + beta + "\n\t\t\tsubdomain alpha\n\t\t}", "alpha.localhost is also an address"},
	} {
		text, out, err := validate(running + "\n\t\t" + bad.block)
		want := fmt.Sprintf("%s:%d", candidate, lineOf(t, text, "app beta"))
		if err == nil || !strings.Contains(out, want) || !strings.Contains(out, bad.want) {
			t.Errorf("validate with a %s: err %v, want a refusal naming %s and %q:\n%s", bad.name, err, want, bad.want, out)
		}
	}
	// Only the running StackHub knows that alpha.localhost is taken once
	// alpha is no longer declared: the check is its own.
	text, out, err := validate(fmt.Sprintf("\t\tapp beta {\n\t\t\tpath %s\n\t\t\tsubdomain alpha\n\t\t}", beta))
	want := fmt.Sprintf("%s:%d", candidate, lineOf(t, text, "app beta"))
	if err == nil || !strings.Contains(out, want) || !strings.Contains(out, "alpha.localhost is already the address of app alpha") {
		t.Errorf("validate of a subdomain clash with the installed alpha: err %v, want a refusal naming %s:\n%s", err, want, out)
	}

	// The running StackHub is untouched.
	if got := config(); got != configBefore {
		t.Errorf("validation changed the running config:\nbefore %s\nafter  %s", configBefore, got)
	}
	if got := containers(t, in, "alpha"); got != alphaBefore {
		t.Errorf("validation touched alpha: %s, then %s", alphaBefore, got)
	}
	if !alphaAnswers() {
		t.Errorf("alpha stopped answering after the validations")
	}
	if now, err := os.Stat(filepath.Join(in.data, "portal.sock")); err != nil || !os.SameFile(socket, now) {
		t.Errorf("the running portal's socket was replaced or removed: %v", err)
	}
	if list := in.mustCLI("apps", "list"); strings.Contains(list, "beta") {
		t.Errorf("validation installed beta:\n%s", list)
	}
}

// TestValidateWithoutStackHubLeavesNothing validates with no StackHub
// running: the data folder gets no state, lock or portal socket, and a
// StackHub starts on it afterwards. Once that StackHub has installed an
// app and stopped, validate reads its state read-only: a clash with the
// installed app is refused, and the folder stays free for the next start.
func TestValidateWithoutStackHubLeavesNothing(t *testing.T) {
	in := newInstance(t, "localhost")
	alpha := testApp(t, "alpha", "")
	decl := fmt.Sprintf("\t\tapp alpha {\n\t\t\tpath %s\n\t\t\taccess public\n\t\t}", alpha)
	path := writeFile(t, "Caddyfile", declaredCaddyfile(in, decl, "", portalSite(in)))
	if out, err := exec.Command(binary(t, "stackhub"), "validate", "--config", path).CombinedOutput(); err != nil || !strings.Contains(string(out), "Valid configuration") {
		t.Fatalf("validate: %v\n%s", err, out)
	}
	for _, name := range []string{"state", "portal.sock"} {
		if _, err := os.Stat(filepath.Join(in.data, name)); err == nil {
			t.Errorf("validate left %s in the data folder", name)
		}
	}
	// A missing required value is caught without a StackHub too.
	bad := writeFile(t, "Bad.Caddyfile", declaredCaddyfile(in, decl+"\n\t\tapp notes {\n\t\t\tfrom builtin/gotify\n\t\t}", "", portalSite(in)))
	out, err := exec.Command(binary(t, "stackhub"), "validate", "--config", bad).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "add `set ADMIN_PASSWORD VALUE` to its block") {
		t.Errorf("validate with a missing value: err %v\n%s", err, out)
	}
	in.args = []string{"run", "--config", path}
	in.start()
	c := in.client(in.rootCAs())
	alphaAnswers := func() bool { return says(c, in.url("alpha", "/"), "hello from alpha") }
	waitFor(t, 120*time.Second, "declared alpha after the validation", alphaAnswers)
	waitFor(t, 30*time.Second, "the convergence to finish", func() bool {
		out, _ := in.cli("apps", "declared")
		return strings.Contains(out, "done") && !strings.Contains(out, "converging")
	})
	in.stop()

	beta := testApp(t, "beta", "")
	clashText := declaredCaddyfile(in, fmt.Sprintf("\t\tapp beta {\n\t\t\tpath %s\n\t\t\tsubdomain alpha\n\t\t}", beta), "", portalSite(in))
	clash := writeFile(t, "Clash.Caddyfile", clashText)
	out, err = exec.Command(binary(t, "stackhub"), "validate", "--config", clash).CombinedOutput()
	want := fmt.Sprintf("%s:%d", clash, lineOf(t, clashText, "app beta"))
	if err == nil || !strings.Contains(string(out), want) || !strings.Contains(string(out), "alpha.localhost is already the address of app alpha") {
		t.Errorf("validate of a clash with the installed alpha, StackHub stopped: err %v, want a refusal naming %s:\n%s", err, want, out)
	}
	if _, err := os.Stat(filepath.Join(in.data, "portal.sock")); err == nil {
		t.Errorf("validate left a portal socket")
	}
	in.start()
	c = in.client(in.rootCAs())
	waitFor(t, 120*time.Second, "alpha after the read-only validation", alphaAnswers)
}

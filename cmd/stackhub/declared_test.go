package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"golang.org/x/net/websocket"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/internal/platform"
)

// testApp writes an app folder whose web service says "hello from
// ${GREETING}" and returns its path.
func testApp(t *testing.T, name, extra string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	os.MkdirAll(dir, 0o755)
	compose := fmt.Sprintf(`x-stackhub:
  name: %s
  main:
    service: web
    port: 8080
services:
  web:
    image: stackhub-testapp:dev
    pull_policy: never
    environment:
      NAME: ${GREETING:-%s}
      PORT: "8080"
      DATA_DIR: /data
    volumes:
      - ${APP_DATA_DIR}:/data
%s`, name, name, extra)
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(compose), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// declaredCaddyfile is a deployment Caddyfile for in with the given
// declarations in its stackhub block. Its reverse proxy keeps WebSockets
// open through config reloads (stream_close_delay).
func declaredCaddyfile(in *instance, declarations, extraGlobal, extraSites string) string {
	return fmt.Sprintf(`{
	admin %s
	persist_config off
	default_bind 127.0.0.1
	http_port %d
	https_port %d
	storage file_system {
		root %s/caddy
	}
	local_certs
	skip_install_trust
	on_demand_tls {
		permission stackhub
	}
%s
	stackhub {
		domain %s
		data %s
		https_port %d
%s
	}
}

*.%s {
	tls {
		on_demand
	}
	stackhub_gate
	stackhub_router
	reverse_proxy {
		dynamic stackhub
		stream_close_delay 1h
	}
}
%s`, in.admin, in.httpPort, in.httpsPort, in.data, extraGlobal, in.domain, in.data, in.httpsPort, declarations, in.domain, extraSites)
}

// containers returns the container ids and start times of an app.
func containers(t *testing.T, in *instance, app string) string {
	t.Helper()
	cfg := platform.Config{Domain: in.domain, DataDir: in.data}
	cfg.Normalize()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	list, err := in.docker.ContainerList(ctx, client.ContainerListOptions{All: true,
		Filters: client.Filters{}.Add("label", appctl.LabelInstance+"="+cfg.Instance, appctl.LabelApp+"="+app)})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range list.Items {
		ins, err := in.docker.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c.ID[:12]+"@"+ins.Container.State.StartedAt)
	}
	return strings.Join(out, ",")
}

func lineOf(t *testing.T, text, needle string) int {
	t.Helper()
	for i, l := range strings.Split(text, "\n") {
		if strings.Contains(l, needle) {
			return i + 1
		}
	}
	t.Fatalf("%q not in:\n%s", needle, text)
	return 0
}

// TestDeclaredAppsFollowTheCaddyfile declares two apps in the Caddyfile:
// both come up, marked managed by the config. Changing one value and
// reloading recreates that app only, while a WebSocket to the other stays
// open. Broken declarations (unknown store app, unapproved hazard,
// subdomain clash) are refused with their file and line, and the running
// config keeps serving. A removed declaration stops its app and keeps its
// data.
func TestDeclaredAppsFollowTheCaddyfile(t *testing.T) {
	in := newInstance(t, "localhost")
	alpha, beta := testApp(t, "alpha", ""), testApp(t, "beta", "")
	decl := func(greeting string) string {
		return fmt.Sprintf(`		app alpha {
			path %s
			access public
			set GREETING %q
		}
		app beta {
			path %s
			access public
		}`, alpha, greeting, beta)
	}
	path := writeFile(t, "Caddyfile", declaredCaddyfile(in, decl("hello one"), "", ""))
	in.args = []string{"run", "--config", path}
	in.start()

	c := in.client(in.rootCAs())
	answers := func(app, want string) func() bool {
		return func() bool {
			resp, err := c.Get(in.url(app, "/"))
			if err != nil {
				return false
			}
			b := make([]byte, 64)
			n, _ := resp.Body.Read(b)
			resp.Body.Close()
			return resp.StatusCode == 200 && strings.HasPrefix(string(b[:n]), want)
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			declared, _ := in.cli("apps", "declared")
			list, _ := in.cli("apps", "list")
			t.Logf("apps declared:\n%s\napps list:\n%s", declared, list)
		}
	})
	waitFor(t, 120*time.Second, "declared alpha", answers("alpha", "hello from hello one"))
	waitFor(t, 120*time.Second, "declared beta", answers("beta", "hello from beta"))
	list := in.mustCLI("apps", "list")
	for _, app := range []string{"alpha", "beta"} {
		if !strings.Contains(list, "managed by the config ("+path+":") {
			t.Errorf("apps list does not mark %s as managed by the config:\n%s", app, list)
		}
	}
	if info := in.mustCLI("apps", "info", "alpha"); !strings.Contains(info, "Managed:  by the config, declared at "+path+":") {
		t.Errorf("apps info alpha:\n%s", info)
	}
	// Settings of a managed app are read-only outside the config.
	if out, err := in.cli("access", "set", "alpha", "--access", "private"); err == nil || !strings.Contains(out, "declared in the config") {
		t.Errorf("changing a managed app's access: err %v\n%s", err, out)
	}
	waitFor(t, 30*time.Second, "the convergence to finish", func() bool {
		out, _ := in.cli("apps", "declared")
		return strings.Contains(out, "done") && !strings.Contains(out, "converging")
	})
	alphaBefore, betaBefore := containers(t, in, "alpha"), containers(t, in, "beta")
	// The admin API shows the mark and the convergence; the log tells it.
	for uri, want := range map[string]string{
		"/stackhub/apps/alpha": `"managed":"` + path + `:`,
		"/stackhub/declared":   `"action":"install","state":"done"`,
	} {
		resp, err := http.Get("http://" + in.admin + uri)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), want) {
			t.Errorf("GET %s lacks %s:\n%s", uri, want, b)
		}
	}
	if !strings.Contains(in.out.String(), `"msg":"declared app: installed"`) {
		t.Errorf("the log does not report the declared installs")
	}

	// A WebSocket to beta, open through the reload.
	roots := in.rootCAs()
	conn, err := tls.Dial("tcp", "127.0.0.1:"+strconv.Itoa(in.httpsPort), &tls.Config{RootCAs: roots, ServerName: "beta.localhost", NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	wsCfg, _ := websocket.NewConfig(in.url("beta", "/ws"), "https://beta.localhost")
	wsCfg.Location.Scheme = "wss"
	ws, err := websocket.NewClient(wsCfg, conn)
	if err != nil {
		t.Fatalf("WebSocket to beta: %v", err)
	}
	defer ws.Close()
	echo := func(msg string) error {
		if _, err := ws.Write([]byte(msg)); err != nil {
			return err
		}
		ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 64)
		n, err := ws.Read(buf)
		if err != nil {
			return err
		}
		if string(buf[:n]) != msg {
			return fmt.Errorf("echo %q, want %q", buf[:n], msg)
		}
		return nil
	}
	if err := echo("before"); err != nil {
		t.Fatal(err)
	}

	// Change one value of alpha: only alpha is recreated.
	os.WriteFile(path, []byte(declaredCaddyfile(in, decl("hello two"), "", "")), 0o644)
	in.mustCLI("reload", "--config", path)
	waitFor(t, 120*time.Second, "alpha with its new value", answers("alpha", "hello from hello two"))
	waitFor(t, 30*time.Second, "the convergence to finish", func() bool {
		out, _ := in.cli("apps", "declared")
		return strings.Contains(out, "done") && !strings.Contains(out, "converging")
	})
	alphaAfter := containers(t, in, "alpha")
	if alphaAfter == alphaBefore {
		t.Errorf("alpha's containers were not recreated: %s", alphaAfter)
	}
	if got := containers(t, in, "beta"); got != betaBefore {
		t.Errorf("beta was touched by a change to alpha: %s, then %s", betaBefore, got)
	}
	if err := echo("after the reload"); err != nil {
		t.Errorf("the WebSocket to beta broke through the reload: %v", err)
	}
	declared := in.mustCLI("apps", "declared")
	if !strings.Contains(declared, "value GREETING") {
		t.Errorf("apps declared does not say what changed:\n%s", declared)
	}

	// Broken declarations are refused with their line; the running config
	// keeps serving.
	hostile := testApp(t, "hostile", "    privileged: true\n")
	for _, bad := range []struct{ block, want string }{
		{"app gamma {\n\t\t\tfrom builtin/no-such-app\n\t\t}", "no-such-app"},
		{"app gamma {\n\t\t\tpath " + hostile + "\n\t\t}", "approve privileged"},
		{"app gamma {\n\t\t\tpath " + beta + "\n\t\t\tsubdomain alpha\n\t\t}", "alpha.localhost"},
		{"app gamma {\n\t\t\tfrom\n\t\t}", "from takes one value"},
	} {
		text := declaredCaddyfile(in, decl("hello two")+"\n\t\t"+bad.block, "", "")
		os.WriteFile(path, []byte(text), 0o644)
		out, err := in.cli("reload", "--config", path)
		line := lineOf(t, text, "app gamma")
		if bad.want == "from takes one value" {
			line++
		}
		if err == nil || !strings.Contains(out, fmt.Sprintf("%s:%d", path, line)) || !strings.Contains(out, bad.want) {
			t.Errorf("reload with %q: err %v, want a refusal naming %s:%d and %q:\n%s", bad.block, err, path, line, bad.want, out)
		}
		if !answers("alpha", "hello from hello two")() || !answers("beta", "hello from beta")() {
			t.Fatalf("after a refused reload, the apps do not answer as before")
		}
	}
	if got := containers(t, in, "alpha"); got != alphaAfter {
		t.Errorf("a refused reload touched alpha: %s, then %s", alphaAfter, got)
	}

	// beta's declaration goes: beta is stopped, its data kept.
	os.WriteFile(path, []byte(declaredCaddyfile(in, fmt.Sprintf("\t\tapp alpha {\n\t\t\tpath %s\n\t\t\taccess public\n\t\t\tset GREETING \"hello two\"\n\t\t}", alpha), "", "")), 0o644)
	if _, body := get(t, c, in.url("beta", "/incr")); body != "1" {
		t.Fatalf("beta /incr = %q", body)
	}
	in.mustCLI("reload", "--config", path)
	waitFor(t, 60*time.Second, "beta to stop", func() bool {
		info, _ := in.cli("apps", "info", "beta")
		return strings.Contains(info, "installed, stopped") && strings.Contains(info, "no longer declared")
	})
	if b, err := os.ReadFile(filepath.Join(in.data, "apps", "beta", "data", "count")); err != nil || strings.TrimSpace(string(b)) != "1" {
		t.Errorf("beta's data after it was undeclared: %q %v", b, err)
	}
	if st, _ := get(t, c, in.url("beta", "/")); st != 503 {
		t.Errorf("undeclared beta answers %d, want 503 (stopped)", st)
	}
	if got := containers(t, in, "alpha"); got != alphaAfter {
		t.Errorf("undeclaring beta touched alpha: %s, then %s", alphaAfter, got)
	}
	if !answers("alpha", "hello from hello two")() {
		t.Errorf("alpha stopped answering")
	}
}

// TestValidateChecksDeclarations runs `stackhub validate` and `stackhub
// adapt` on Caddyfiles with declared apps (no StackHub running on the data
// folder): a good file is valid, a mistake is refused with its file and line.
func TestValidateChecksDeclarations(t *testing.T) {
	in := newInstance(t, "localhost")
	alpha := testApp(t, "alpha", "")
	hostile := testApp(t, "hostile", "    privileged: true\n")
	good := fmt.Sprintf("\t\tapp alpha {\n\t\t\tpath %s\n\t\t\tset GREETING {env.DECLARED_GREETING}\n\t\t}", alpha)
	path := writeFile(t, "Caddyfile", declaredCaddyfile(in, good, "", ""))
	validate := func() (string, error) {
		cmd := exec.Command(binary(t, "stackhub"), "validate", "--config", path)
		cmd.Env = append(os.Environ(), "DECLARED_GREETING=hi")
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	if out, err := validate(); err != nil || !strings.Contains(out, "Valid configuration") {
		t.Fatalf("validate of a good file: %v\n%s", err, out)
	}
	if out, err := exec.Command(binary(t, "stackhub"), "adapt", "--config", path).CombinedOutput(); err != nil || !strings.Contains(string(out), `"GREETING":"{env.DECLARED_GREETING}"`) {
		t.Errorf("adapt: %v\n%s", err, out)
	}
	for _, bad := range []struct{ block, want string }{
		{"app beta {\n\t\t\tfrom builtin/no-such-app\n\t\t}", "no-such-app"},
		{"app beta {\n\t\t\tpath " + hostile + "\n\t\t}", "approve privileged"},
		{"app beta {\n\t\t\tpath " + alpha + "\n\t\t\tsubdomain alpha\n\t\t}", "alpha.localhost is also an address"},
	} {
		text := declaredCaddyfile(in, good+"\n\t\t"+bad.block, "", "")
		os.WriteFile(path, []byte(text), 0o644)
		out, err := validate()
		want := fmt.Sprintf("%s:%d", path, lineOf(t, text, "app beta"))
		if err == nil || !strings.Contains(out, want) || !strings.Contains(out, bad.want) {
			t.Errorf("validate with %q: err %v, want a refusal naming %s and %q:\n%s", bad.block, err, want, bad.want, out)
		}
	}
}

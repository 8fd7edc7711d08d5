package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeAppFolder writes a one-file app folder for `apps install FOLDER`.
func writeAppFolder(t *testing.T, name, compose string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(compose), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

const containApp = `x-stackhub:
  main: {service: web, port: 8080}
services:
  web:
    image: stackhub-testapp:dev
    pull_policy: never
    environment: {PORT: "8080", NAME: %NAME%}
    volumes: ["%SOURCE%:/host:ro"]
`

func containCompose(name, source string) string {
	return strings.NewReplacer("%NAME%", name, "%SOURCE%", source).Replace(containApp)
}

// TestContainmentThroughTheCLI: issue 9's attacks on what StackHub runs,
// through the real binary: a mount of the app's own folder is refused even
// with --approve-hazards; a compose file changed in the app's folder is not
// what `apps restart` runs; a link planted in the data folder stops `apps
// start`. A marker folder on the host is never mounted nor touched.
func TestContainmentThroughTheCLI(t *testing.T) {
	in := newInstance(t, "localhost")
	in.start()
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "marker"), []byte("host only\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	untouched := func(when string) {
		t.Helper()
		entries, _ := os.ReadDir(outside)
		if len(entries) != 1 {
			t.Errorf("%s: the host folder holds %d entries", when, len(entries))
		}
	}

	escapee := writeAppFolder(t, "escapee", containCompose("escapee", "${APP_DATA_DIR}/.."))
	out, err := in.cli("apps", "install", escapee, "--approve-hazards")
	if err == nil || !strings.Contains(out, "holds StackHub's own files for the app") {
		t.Fatalf("install of an app mounting its own folder: %v\n%s", err, out)
	}
	if list := in.mustCLI("apps", "list"); strings.Contains(list, "escapee") {
		t.Errorf("refused app listed:\n%s", list)
	}

	steady := writeAppFolder(t, "steady", containCompose("steady", "${APP_DATA_DIR}/root"))
	in.mustCLI("apps", "install", steady, "--public")
	c := in.client(in.rootCAs())
	if st, body := get(t, c, in.url("steady", "/")); st != 200 || !strings.HasPrefix(body, "hello from steady") {
		t.Fatalf("installed app: %d %q", st, body)
	}

	// What a container that reached the app's folder would write.
	dir := filepath.Join(in.data, "apps", "steady")
	hostile := containCompose("pwned", outside)
	for _, f := range []string{filepath.Join(dir, "source", "compose.yaml"), filepath.Join(dir, "compose.yaml")} {
		if err := os.WriteFile(f, []byte(hostile), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	in.mustCLI("apps", "restart", "steady")
	if st, body := get(t, c, in.url("steady", "/")); st != 200 || !strings.HasPrefix(body, "hello from steady") {
		t.Errorf("after restart with a changed compose file: %d %q; want the app as installed", st, body)
	}

	// A link to the host folder where the app's bind source was.
	in.mustCLI("apps", "stop", "steady")
	root := filepath.Join(dir, "data", "root")
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, root); err != nil {
		t.Fatal(err)
	}
	out, err = in.cli("apps", "start", "steady")
	if err == nil || !strings.Contains(out, "leads out of the app's data folder through a symbolic link") {
		t.Errorf("start with a planted link: %v\n%s", err, out)
	}
	if st, body := get(t, c, in.url("steady", "/")); st == 200 {
		t.Errorf("the app answers after a refused start: %q", body)
	}
	untouched("after the refused start")

	in.mustCLI("apps", "remove", "steady")
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Errorf("app folder left: %v", err)
	}
	untouched("after remove")
}

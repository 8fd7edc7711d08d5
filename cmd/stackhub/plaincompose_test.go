package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInstallPlainComposeFile installs a compose file without an
// x-stackhub block, from a folder with a throwaway name: the top-level name
// is the app id and the only exposed port is the web UI's. An ambiguous
// file is refused with the candidates listed.
func TestInstallPlainComposeFile(t *testing.T) {
	in := newInstance(t, "localhost")
	in.start()
	dir := filepath.Join(t.TempDir(), "tmp-42o84unqbc")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "compose.yaml")
	if err := os.WriteFile(plain, []byte(`name: plainapp
services:
  web:
    image: stackhub-testapp:dev
    pull_policy: never
    environment:
      NAME: plain
      PORT: "8080"
    expose: ["8080"]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := in.mustCLI("apps", "install", plain, "--public")
	if !strings.Contains(out, "Open it at "+in.url("plainapp", "/")) {
		t.Fatalf("install output:\n%s", out)
	}
	if code, body := get(t, in.client(in.rootCAs()), in.url("plainapp", "/")); code != 200 || !strings.HasPrefix(body, "hello from plain") {
		t.Errorf("GET plainapp = %d %q", code, body)
	}

	ambiguous := filepath.Join(dir, "two.yaml")
	if err := os.WriteFile(ambiguous, []byte(`name: twoapp
services:
  web:
    image: stackhub-testapp:dev
    pull_policy: never
    expose: ["8080"]
  api:
    image: stackhub-testapp:dev
    pull_policy: never
    expose: ["9000"]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := in.cli("apps", "install", ambiguous)
	if err == nil || !strings.Contains(out, "api:9000, web:8080") || !strings.Contains(out, "x-stackhub.main.service") {
		t.Errorf("ambiguous install: err %v\n%s", err, out)
	}
	if list := in.mustCLI("apps", "list"); strings.Contains(list, "twoapp") {
		t.Errorf("the refused app is listed:\n%s", list)
	}
}

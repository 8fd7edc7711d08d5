package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/moby/client"
)

// TestFailedInstallKeepsEvidence installs an app whose healthcheck cannot
// run (the image has no wget): the error shows the service's last log
// lines and the healthcheck's output, read before the rollback removed the
// containers, and the command it points to shows them again.
func TestFailedInstallKeepsEvidence(t *testing.T) {
	in := newInstance(t, "localhost")
	in.start()
	dir := filepath.Join(t.TempDir(), "failing")
	os.Mkdir(dir, 0o755)
	compose := func(healthcheck string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(`x-stackhub:
  main: {service: web, port: 8080}
services:
  web:
    image: stackhub-testapp:dev
    pull_policy: never
    environment: {NAME: failing, PORT: "8080"}
    healthcheck:
      test: `+healthcheck+`
      interval: 1s
      retries: 2
`), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	compose(`["CMD", "wget", "-q", "-O-", "http://localhost:8080/health"]`)

	out, err := in.cli("apps", "install", dir)
	if err == nil {
		t.Fatalf("install with a broken healthcheck succeeded:\n%s", out)
	}
	evidence := []string{"service web:", "unhealthy", "healthcheck: exit", `"wget": executable file not found`, "web-1 | ", "failing listening on :8080"}
	for _, want := range append(evidence, "`stackhub apps logs failing` shows this again") {
		if !strings.Contains(out, want) {
			t.Errorf("install error lacks %q:\n%s", want, out)
		}
	}
	// The rollback ran: no container of the app is left.
	cl, err := in.docker.ContainerList(context.Background(), client.ContainerListOptions{All: true, Filters: client.Filters{}.Add("label", "dev.stackhub.app=failing")})
	if err != nil {
		t.Fatal(err)
	}
	if len(cl.Items) != 0 {
		t.Errorf("%d containers of the failed install are left", len(cl.Items))
	}
	if list := in.mustCLI("apps", "list"); strings.Contains(list, "failing") {
		t.Errorf("the failed app is listed:\n%s", list)
	}

	// The hint works: the logs command shows the evidence.
	logs := in.mustCLI("apps", "logs", "failing")
	for _, want := range append(evidence, "install failed") {
		if !strings.Contains(logs, want) {
			t.Errorf("apps logs of the failed install lacks %q:\n%s", want, logs)
		}
	}

	// Once it installs, its logs are its own again.
	compose(`["CMD", "/testapp", "-probe", "http://localhost:8080/health"]`)
	in.mustCLI("apps", "install", dir)
	logs = in.mustCLI("apps", "logs", "failing")
	if strings.Contains(logs, "install failed") || !strings.Contains(logs, "failing listening on :8080") {
		t.Errorf("apps logs after a good install:\n%s", logs)
	}
}

package main

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/moby/moby/client"
)

// TestInstallFromTheBuiltinStore installs an app by its store id, as a
// user would (`stackhub apps install whoami`), and checks that the Compose
// CLI sees it as an ordinary project (`docker compose ls`).
//
// No image can be pulled here, so the test image stands in under the
// store's pinned tag, and only when no image has that tag already (a real
// whoami image is used as it is, and never removed).
func TestInstallFromTheBuiltinStore(t *testing.T) {
	in := newInstance(t, "localhost")
	ctx := context.Background()
	const pinned = "traefik/whoami:v1.10.3"
	if _, err := in.docker.ImageInspect(ctx, pinned); err != nil {
		if _, err := in.docker.ImageTag(ctx, client.ImageTagOptions{Source: "stackhub-testapp:dev", Target: pinned}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			in.docker.ImageRemove(context.Background(), pinned, client.ImageRemoveOptions{})
		})
	}
	in.start()
	out := in.mustCLI("store", "info", "whoami")
	if !strings.Contains(out, "Whoami (builtin/whoami) 1.10.3") {
		t.Errorf("store info:\n%s", out)
	}
	out = in.mustCLI("apps", "install", "whoami", "--public")
	if !strings.Contains(out, "Open it at "+in.url("whoami", "/")) {
		t.Fatalf("install by store id:\n%s", out)
	}
	if st, _ := get(t, in.client(in.rootCAs()), in.url("whoami", "/")); st != 200 {
		t.Fatalf("whoami answered %d", st)
	}

	raw, err := exec.Command(binary(t, "docker-compose"), "ls", "--all", "--format", "json").CombinedOutput()
	if err != nil {
		t.Fatalf("docker compose ls: %v\n%s", err, raw)
	}
	var projects []struct{ Name, Status string }
	if err := json.Unmarshal(raw, &projects); err != nil {
		t.Fatalf("docker compose ls: %v\n%s", err, raw)
	}
	found := false
	for _, p := range projects {
		if strings.HasSuffix(p.Name, "-whoami") && strings.HasPrefix(p.Status, "running") {
			found = true
		}
	}
	if !found {
		t.Errorf("docker compose ls does not list a running whoami project: %s", raw)
	}
	in.mustCLI("apps", "remove", "whoami")
}

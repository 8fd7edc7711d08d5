package appctl

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestComposeFeaturesOfUserApps: an app folder's .env fills in variables
// (the install variables win over it), and services of an inactive
// profile are not started.
func TestComposeFeaturesOfUserApps(t *testing.T) {
	h := newHarness(t)
	dir := filepath.Join(t.TempDir(), "dotenv")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, ".env"), []byte("GREETING=from-dotenv\nAPP_ID=overridden-by-env-file\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(`x-stackhub:
  main: {service: web, port: 8080}
services:
  web:
    image: stackhub-testapp:dev
    pull_policy: never
    environment:
      PORT: "8080"
      NAME: ${GREETING}-${APP_ID}
  debug:
    image: stackhub-testapp:dev
    pull_policy: never
    profiles: [debug]
`), 0o644)
	app, err := readApp(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := h.m.Install(ctx, app, InstallOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	if got := h.get(t, "dotenv.test.localhost", "/"); !strings.HasPrefix(got, "hello from from-dotenv-dotenv") {
		t.Errorf("GET / = %q; want the .env value and the install variable APP_ID", got)
	}
	st, err := h.m.Status(ctx, "dotenv")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Containers) != 1 || st.Containers[0].Service != "web" {
		t.Errorf("containers = %+v; the debug profile's service must not run", st.Containers)
	}
	if err := h.m.Remove(ctx, "dotenv", false, nil); err != nil {
		t.Fatal(err)
	}
}

// TestReconcileFinishesOrRollsBackInterruptedInstalls: what a restart
// finds after a crash between "desired state recorded" and "published".
// The crash itself (SIGKILL of the real process) is in the end-to-end
// tests; here the recorded state is set up directly.
func TestReconcileFinishesOrRollsBackInterruptedInstalls(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	record := func(id, image string) {
		t.Helper()
		app, err := writeApp(t, id, simpleApp(image, ""))
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC()
		rec := Record{ID: id, Name: id, Host: id + ".test.localhost", URL: h.m.URL(id + ".test.localhost"),
			Project: h.m.cfg.ProjectPrefix + id, MainSvc: app.MainService, MainPort: app.MainPort,
			Compose: app.Compose, State: StateInstalling, Running: true, InstalledAt: now, UpdatedAt: now}
		if err := h.db.Put(recordKey(id), rec); err != nil {
			t.Fatal(err)
		}
	}
	record("finishable", testImage)
	record("doomed", "stackhub-test-absent:2.0")
	h.m.Reconcile(ctx)

	st, err := h.m.Status(ctx, "finishable")
	if err != nil {
		t.Fatal(err)
	}
	if st.State != StateInstalled || st.Health != "running" || !strings.Contains(st.Note, "finished after the restart") {
		t.Errorf("finishable: %s %s %q", st.State, st.Health, st.Note)
	}
	if got := h.get(t, "finishable.test.localhost", "/"); !strings.HasPrefix(got, "hello from") {
		t.Errorf("finished install answers %q", got)
	}

	st, err = h.m.Status(ctx, "doomed")
	if err != nil {
		t.Fatal(err)
	}
	if st.State != StateFailed || !strings.Contains(st.Note, "rolled back") || !strings.Contains(st.Error, "stackhub-test-absent:2.0") {
		t.Errorf("doomed: %s %q %q", st.State, st.Note, st.Error)
	}
	if _, ok := h.reg.Lookup("doomed.test.localhost"); ok {
		t.Error("rolled back app is routed")
	}
	if c, _, _ := h.objects(t, "doomed"); c != 0 {
		t.Errorf("rolled back app has %d containers", c)
	}
	// A rolled-back app can be removed, or installed again.
	if err := h.m.Remove(ctx, "doomed", false, nil); err != nil {
		t.Fatal(err)
	}
	h.unchanged(t, "doomed")
}

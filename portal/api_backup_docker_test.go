package portal

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/backup"
	"github.com/stackhub/stackhub/internal/dockertest"
	"github.com/stackhub/stackhub/internal/platform"
	"github.com/stackhub/stackhub/internal/repotest"
)

// keepCompose is a store app whose versions differ by the name they log
// (and env: a version's own settings, e.g. FAIL_HEALTH=1 for a broken one).
func keepCompose(image, version, env string) string {
	return fmt.Sprintf(`x-stackhub:
  name: Keep
  version: "%s"
  source: https://github.com/example/keep
  main: {service: web, port: 8080}
services:
  web:
    image: %s
    pull_policy: never
    environment:
      PORT: "8080"
      NAME: keep-v%s
      DATA_DIR: /data
%s
    volumes: ["${APP_DATA_DIR}:/data"]
    healthcheck:
      test: ["CMD", "/testapp", "-probe", "http://127.0.0.1:8080/health"]
      interval: 1s
      timeout: 2s
      retries: 2
`, version, image, version, env)
}

// needRestic skips a backup test without restic (fails it in CI).
var needRestic = repotest.NeedRestic

// newKeepEnv is a portal on a real platform whose store "test" has the
// app keep at version 1.0 (writeKeep changes it), with an admin signed in.
func newKeepEnv(t *testing.T) (e *env, plat *platform.Platform, j func(method, path, body string) resp, writeKeep func(version, env string)) {
	t.Helper()
	needRestic(t)
	docker := dockertest.Client(t)
	image := dockertest.TestImage(t, docker, "stackhub-testapp:versions")
	inst := dockertest.Instance(t, docker)
	storeDir := t.TempDir()
	writeKeep = func(version, env string) {
		t.Helper()
		os.MkdirAll(filepath.Join(storeDir, "keep"), 0o755)
		if err := os.WriteFile(filepath.Join(storeDir, "keep", "compose.yaml"), []byte(keepCompose(image, version, env)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeKeep("1.0", "")
	plat, err := platform.Open(context.Background(), platform.Config{
		Domain: domain, DataDir: t.TempDir(), Instance: inst,
		Stores: []platform.StoreConfig{{Name: "test", Location: storeDir}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { plat.Close() })
	e = &env{t: t, p: New(Config{Auth: plat.Auth, Registry: plat.Registry, Policies: plat.Apps, Domain: domain, Platform: plat}), a: plat.Auth, reg: plat.Registry, jar: map[string]string{}}
	e.signIn()
	var me struct{ CSRF string }
	json.Unmarshal([]byte(e.do("GET", "/api/v1/me", nil).body), &me)
	j = func(method, path, body string) resp {
		t.Helper()
		return e.doJSON(method, path, body, me.CSRF)
	}
	return e, plat, j, writeKeep
}

// TestAPIv1UpdateAndBackupOnDocker: through /api/v1, on the real engine
// and real restic, an app is backed up now (a snapshot, and the app page
// shows it), its schedule is set with the CLI's checks, an update to the
// store's new version updates it, a broken version rolls back by itself
// with the reason and the failing service's logs, a failed backup shows on
// the home page card, and a declared app's settings are refused with 409.
func TestAPIv1UpdateAndBackupOnDocker(t *testing.T) {
	e, plat, j, writeKeep := newKeepEnv(t)
	ctx := context.Background()

	if _, end := progress(t, j("POST", "/api/v1/install", `{"ref":"test/keep"}`)); end.Error != "" {
		t.Fatalf("install: %+v", end)
	}

	// No repository yet: back up, update and restore are refused before
	// anything starts, saying what to do.
	for _, path := range []string{"/api/v1/apps/keep/backup", "/api/v1/apps/keep/restore"} {
		if r := j("POST", path, ``); r.status != 424 || !strings.Contains(r.body, "stackhub backup init") {
			t.Errorf("%s without a repository: %d %s", path, r.status, r.body)
		}
	}
	if r := e.do("GET", "/apps/keep", nil); !strings.Contains(r.body, `id="no-repository"`) || !strings.Contains(r.body, "never backed up") {
		t.Errorf("app page without a repository:\n%s", r.body)
	}
	// A backup that fails (here, the scheduler's, without a repository)
	// shows loudly on the home page card and on the app page.
	if _, err := plat.Apps.Backup(ctx, "keep", "scheduled", nil); err == nil {
		t.Fatal("a backup without a repository succeeded")
	}
	if r := e.do("GET", "/", nil); !strings.Contains(r.body, `data-badge="backup-failed">Backup failed</a>`) {
		t.Errorf("home page without the failed backup's badge:\n%s", r.body)
	}
	if r := e.do("GET", "/api/v1/apps", nil); !strings.Contains(r.body, `"backup_failed":true`) {
		t.Errorf("apps without backup_failed: %s", r.body)
	}
	if r := e.do("GET", "/apps/keep", nil); !strings.Contains(r.body, "<strong>The last backup failed</strong>") || !strings.Contains(r.body, "no backup repository") {
		t.Errorf("app page without the failed backup:\n%s", r.body)
	}

	if _, err := plat.Apps.BackupKeeper().Configure(ctx, backup.Repo{URL: filepath.Join(t.TempDir(), "repo")}); err != nil {
		t.Fatal(err)
	}

	// The schedule: the CLI's checks, then set, read, shown, removed.
	for _, bad := range []struct {
		path, body string
		want       int
		says       string
	}{
		{"/api/v1/apps/keep/schedule", `{"daily":"25:99"}`, 400, "HH:MM"},
		{"/api/v1/apps/keep/schedule", `{"daily":"03:00","auto_update":true,"window":"soon"}`, 400, "HH:MM-HH:MM"},
		{"/api/v1/apps/keep/schedule", `{"daily":"03:00","retention":{"daily":-1}}`, 400, "negative"},
		{"/api/v1/apps/keep/schedule", `nonsense`, 400, "JSON"},
		{"/api/v1/apps/nope/schedule", `{"daily":"03:00"}`, 404, "nope"},
	} {
		if r := j("PUT", bad.path, bad.body); r.status != bad.want || !strings.Contains(r.body, bad.says) {
			t.Errorf("schedule %s: %d %s, want %d saying %q", bad.body, r.status, r.body, bad.want, bad.says)
		}
	}
	if _, ok := plat.Apps.GetSchedule("keep"); ok {
		t.Error("a refused schedule was kept")
	}
	if r := e.do("GET", "/api/v1/apps/keep/schedule", nil); r.status != 404 {
		t.Errorf("schedule before any: %d %s", r.status, r.body)
	}
	if r := j("PUT", "/api/v1/apps/keep/schedule", `{"daily":"04:30","retention":{"daily":3,"weekly":2,"monthly":1}}`); r.status != 200 || !strings.Contains(r.body, `"daily":"04:30"`) {
		t.Fatalf("schedule: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/apps/keep", nil); !strings.Contains(r.body, "Every day at 04:30; kept: 3 daily, 2 weekly, 1 monthly") {
		t.Errorf("app page without its schedule:\n%s", r.body)
	}
	if r := j("DELETE", "/api/v1/apps/keep/schedule", ``); r.status != 204 {
		t.Errorf("schedule removal: %d %s", r.status, r.body)
	}
	if _, ok := plat.Apps.GetSchedule("keep"); ok {
		t.Error("the schedule is still set after its removal")
	}

	// Back up now: a snapshot, listed, and shown on the app page.
	if r := j("POST", "/api/v1/apps/nope/backup", ``); r.status != 404 {
		t.Errorf("backup of no app: %d %s", r.status, r.body)
	}
	note := filepath.Join(plat.Config.DataDir, "apps", "keep", "data", "note.txt")
	if err := os.WriteFile(note, []byte("before"), 0o644); err != nil {
		t.Fatal(err)
	}
	evs, end := progress(t, j("POST", "/api/v1/apps/keep/backup", ``))
	if last := evs[len(evs)-1]; end.Error != "" || end.Kind != "backup" || last.Phase != appctl.PhaseDone || last.Resource == "" {
		t.Fatalf("backup now: end %+v, last %+v", end, last)
	}
	snapshot := evs[len(evs)-1].Resource
	var snaps []appctl.SnapshotInfo
	r := e.do("GET", "/api/v1/apps/keep/backups", nil)
	if json.Unmarshal([]byte(r.body), &snaps); len(snaps) != 1 || !strings.HasPrefix(snaps[0].ID, snapshot) || snaps[0].Reason != "manual" || snaps[0].Version != "1.0" {
		t.Fatalf("backups (snapshot %q): %d %s", snapshot, r.status, r.body)
	}
	page := e.do("GET", "/apps/keep", nil).body
	if !strings.Contains(page, `<span class="pill s-running">ok</span>`) || !strings.Contains(page, "snapshot <code>"+snapshot[:8]+"</code>") || strings.Contains(page, "The last backup failed") {
		t.Errorf("app page after the backup:\n%s", page)
	}
	if r := e.do("GET", "/", nil); strings.Contains(r.body, "data-badge=") {
		t.Errorf("home page badges after a good backup and no update:\n%s", r.body)
	}

	// Restore: an unknown snapshot is refused in the stream (404) and
	// changes nothing; the backup's snapshot brings the data back.
	os.WriteFile(note, []byte("after"), 0o644)
	evs, end = progress(t, j("POST", "/api/v1/apps/keep/restore", `{"snapshot":"0123abcd"}`))
	if last := evs[len(evs)-1]; !strings.Contains(end.Error, "snapshot") || last.Phase != appctl.PhaseError || last.Code != 404 {
		t.Errorf("restore of an unknown snapshot: end %+v, last %+v", end, last)
	}
	if b, _ := os.ReadFile(note); string(b) != "after" {
		t.Errorf("a refused restore changed the data: %q", b)
	}
	if _, end := progress(t, j("POST", "/api/v1/apps/keep/restore", `{"snapshot":"`+snapshot+`"}`)); end.Error != "" || end.Kind != "restore" {
		t.Fatalf("restore: %+v", end)
	}
	if b, _ := os.ReadFile(note); string(b) != "before" {
		t.Errorf("after the restore the data is %q, want the backup's", b)
	}
	if st, _ := plat.Apps.Status(ctx, "keep"); st.Health != "running" {
		t.Errorf("after the restore: %s", st.Health)
	}

	// An update: none while the store has the installed version; then the
	// store offers 2.0, the pages say so, and the update takes the app there.
	if r := j("POST", "/api/v1/apps/keep/update", ``); r.status != 400 || !strings.Contains(r.body, "already at the store's version 1.0") {
		t.Errorf("update to the installed version: %d %s", r.status, r.body)
	}
	writeKeep("2.0", "")
	if r := j("POST", "/api/v1/stores/refresh", ``); r.status != 200 {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/api/v1/apps", nil); !strings.Contains(r.body, `"update_to":"2.0"`) {
		t.Fatalf("apps after the store's new version: %s", r.body)
	}
	if r := e.do("GET", "/", nil); !strings.Contains(r.body, `data-badge="update">Update available</a>`) {
		t.Errorf("home page without the update badge:\n%s", r.body)
	}
	page = e.do("GET", "/apps/keep", nil).body
	if !strings.Contains(page, "Update available: 1.0 → 2.0") || !strings.Contains(page, `href="https://github.com/example/keep/releases"`) || !strings.Contains(page, `id="update-btn" data-to="2.0"`) {
		t.Errorf("app page without the update:\n%s", page)
	}
	for _, bad := range []struct {
		path, body string
		want       int
		says       string
	}{
		{"/api/v1/apps/keep/update", `{"to":"9.9"}`, 400, "offers version 2.0, not 9.9"},
		{"/api/v1/apps/keep/update", `nonsense`, 400, "JSON"},
		{"/api/v1/apps/nope/update", ``, 404, "nope"},
	} {
		if r := j("POST", bad.path, bad.body); r.status != bad.want || !strings.Contains(r.body, bad.says) {
			t.Errorf("update %s %s: %d %s, want %d saying %q", bad.path, bad.body, r.status, r.body, bad.want, bad.says)
		}
	}
	if st, _ := plat.Apps.Status(ctx, "keep"); st.Version != "1.0" {
		t.Fatalf("a refused update changed the app: %s", st.Version)
	}
	evs, end = progress(t, j("POST", "/api/v1/apps/keep/update", `{"to":"2.0"}`))
	last := evs[len(evs)-1]
	if end.Error != "" || end.Kind != "update" || last.Phase != appctl.PhaseDone || !strings.Contains(last.Message, "updated from 1.0 to 2.0") || !strings.Contains(last.Message, "unreachable for") {
		t.Fatalf("update: end %+v, last %+v", end, last)
	}
	if st, _ := plat.Apps.Status(ctx, "keep"); st.Version != "2.0" || st.Update != nil || st.Health != "running" {
		t.Errorf("after the update: version %s, update %+v, health %s", st.Version, st.Update, st.Health)
	}
	if r := e.do("GET", "/api/v1/apps/keep/logs?tail=all", nil); !strings.Contains(r.body, "keep-v2.0 listening") {
		t.Errorf("the updated app does not run the new version:\n%s", r.body)
	}

	// A broken 3.0 (its healthcheck fails): the update rolls back by
	// itself, and the stream says why, with the failing service's logs.
	writeKeep("3.0", "      FAIL_HEALTH: \"1\"")
	j("POST", "/api/v1/stores/refresh", ``)
	evs, end = progress(t, j("POST", "/api/v1/apps/keep/update", ``))
	var evidence []appctl.ServiceEvidence
	for _, ev := range evs {
		if ev.Phase == PhaseEvidence && ev.Evidence != nil {
			evidence = append(evidence, *ev.Evidence)
		}
	}
	if !strings.Contains(end.Error, "failed and was rolled back") || !strings.Contains(end.Error, "Version 2.0 runs again") || !strings.Contains(end.Error, "unreachable for") || strings.Contains(end.Error, "\n") {
		t.Errorf("rolled-back update's end: %q", end.Error)
	}
	if len(evidence) == 0 || evidence[0].Service != "web" || !strings.Contains(evidence[0].Logs, "keep-v3.0") {
		t.Errorf("rolled-back update's evidence: %+v", evidence)
	}
	if st, _ := plat.Apps.Status(ctx, "keep"); st.Version != "2.0" || st.Health != "running" {
		t.Errorf("after the rollback: version %s, health %s", st.Version, st.Health)
	}

	// A declared app: its settings, address, access and removal are
	// refused with 409 saying where it is declared, and nothing changes.
	if err := plat.Apps.SetManaged("keep", "Caddyfile:7", ""); err != nil {
		t.Fatal(err)
	}
	before, _ := plat.Apps.Status(ctx, "keep")
	for _, c := range []struct{ method, path, body string }{
		{"PUT", "/api/v1/apps/keep/settings", `{"values":{"X":"1"}}`},
		{"PUT", "/api/v1/apps/keep/subdomain", `{"subdomain":"other"}`},
		{"PUT", "/api/v1/apps/keep/policy", `{"access":"public"}`},
		{"DELETE", "/api/v1/apps/keep", ``},
	} {
		if r := j(c.method, c.path, c.body); r.status != 409 || !strings.Contains(r.body, "declared in the config (Caddyfile:7)") || !strings.Contains(r.body, "stackhub reload") {
			t.Errorf("managed app: %s %s = %d %s", c.method, c.path, r.status, r.body)
		}
	}
	after, _ := plat.Apps.Status(ctx, "keep")
	if after.Host != before.Host || after.Policy.Access != before.Policy.Access || after.State != appctl.StateInstalled {
		t.Errorf("refused changes changed the managed app: %+v → %+v", before.Record, after.Record)
	}
	if _, ok := plat.Registry.Lookup("keep." + domain); !ok {
		t.Error("the managed app is no longer routed")
	}
	page = e.do("GET", "/apps/keep", nil).body
	if !strings.Contains(page, "Managed by the config") || !strings.Contains(page, "<code>Caddyfile:7</code>") || strings.Count(page, `<fieldset class="locked" disabled`) != 4 {
		t.Errorf("managed app's page:\n%s", page)
	}

	// Released, it is removed as any app.
	plat.Apps.SetManaged("keep", "", "")
	if _, end := progress(t, j("DELETE", "/api/v1/apps/keep", ``)); end.Error != "" {
		t.Errorf("remove: %+v", end)
	}
}

package appctl

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stackhub/stackhub/stores"
)

// TestBackupHookKeepsTheAppUp: an app that declares a backup hook is not
// stopped for its snapshot; the dump is saved, the live files it stands for
// are left out, and a restore loads the dump back.
func TestBackupHookKeepsTheAppUp(t *testing.T) {
	needRestic(t)
	h := newHarness(t)
	ctx := context.Background()
	h.configureRepo(t, filepath.Join(t.TempDir(), "repo"))
	compose := strings.Replace(keepApp(h.keepImage(t), "1", ""), "  main: {service: web, port: 8080}\n", `  main: {service: web, port: 8080}
  backup:
    hook: {service: web, command: [/testapp, -dump, /store/count], output: dump/count}
    restore: {service: web, command: [/testapp, -load, /store/count]}
    exclude: ["volume:store"]
`, 1)
	h.installKeep(t, "hooked", compose)
	host := "hooked.test.localhost"
	for range 4 {
		h.get(t, host, "/count")
	}
	before, _ := h.m.Status(ctx, "hooked")
	res, err := h.m.Backup(ctx, "hooked", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stopped {
		t.Error("an app with a backup hook was stopped for its backup")
	}
	after, _ := h.m.Status(ctx, "hooked")
	if before.Containers[0].Name != after.Containers[0].Name || after.Health != "running" {
		t.Errorf("the container changed or stopped: %+v → %+v", before.Containers, after.Containers)
	}
	if got := readString(t, h.dataFile("hooked", "dump/count")); got != "4" {
		t.Errorf("dump = %q, want the counter 4", got)
	}
	h.get(t, host, "/count")
	h.get(t, host, "/count") // 6
	if _, err := h.m.Restore(ctx, "hooked", "", nil); err != nil {
		t.Fatal(err)
	}
	if got := h.get(t, host, "/count"); got != "5" {
		t.Errorf("count after restoring the dump of 4 = %s, want 5", got)
	}
	// The live volume was left out: the snapshot restores it empty, and
	// the dump filled it.
	staging := t.TempDir()
	repo, _ := h.m.backupRepo()
	snaps, _ := h.m.Backups(ctx, "hooked")
	repo.Restore(ctx, snaps[0].ID, staging)
	var inSnapshot []string
	filepath.Walk(staging, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && filepath.Base(p) == "count" && !strings.Contains(p, "/dump/") {
			inSnapshot = append(inSnapshot, p)
		}
		return nil
	})
	if len(inSnapshot) != 0 {
		t.Errorf("the live files the dump stands for are in the snapshot: %v", inSnapshot)
	}
}

// TestBuiltinDatabasesDeclareBackupHooks: every built-in app with a
// PostgreSQL service dumps it for its backups.
func TestBuiltinDatabasesDeclareBackupHooks(t *testing.T) {
	c := stores.NewCatalog(stores.Builtin())
	if err := c.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, app := range c.Apps() {
		if !strings.Contains(string(app.Compose), "image: postgres") && !strings.Contains(string(app.Compose), "/postgres:") {
			continue
		}
		n++
		hook, err := backupHook(app.Compose)
		if err != nil || hook == nil {
			t.Errorf("%s has a database and no valid backup hook: %v", app.ID, err)
			continue
		}
		if !strings.HasPrefix(hook.Dump.Command[0], "pg_dump") || len(hook.Restore.Command) == 0 || hook.Restore.Command[0] != "psql" {
			t.Errorf("%s: hook %+v", app.ID, hook)
		}
		if !strings.Contains(string(app.Compose), "  "+hook.Dump.Service+":\n") {
			t.Errorf("%s: hook service %s is not a service", app.ID, hook.Dump.Service)
		}
	}
	if n < 4 {
		t.Errorf("found %d built-in apps with PostgreSQL, want at least 4", n)
	}
}

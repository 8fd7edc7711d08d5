package appctl

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stackhub/stackhub/stores"
)

func TestNewerVersion(t *testing.T) {
	for _, c := range []struct {
		store, installed string
		want             bool
	}{
		{"1.10.2", "1.9", true}, {"v2.0", "1.99.9", true}, {"1.9", "1.10", false}, {"1.2", "1.2", false},
		{"1.2.0", "1.2", false}, {"latest", "1.2", true}, {"2024-05", "2024-04", true},
	} {
		if got := newerVersion(c.store, c.installed); got != c.want {
			t.Errorf("newerVersion(%q, %q) = %v, want %v", c.store, c.installed, got, c.want)
		}
	}
}

// TestListShowsUpdatesAndBackups: `apps list` (the manager's List) says an
// update is available, from which version to which, with the releases
// page, and shows the last backup's outcome, failures included.
func TestListShowsUpdatesAndBackups(t *testing.T) {
	needRestic(t)
	h := newHarness(t)
	ctx := context.Background()
	app := h.installKeep(t, "keep", keepApp(h.keepImage(t), "1.2", ""))
	storeApp := app
	storeApp.Version, storeApp.Source = "1.10", "https://github.com/example/keep"
	h.m.SetUpdateSource(func(store, id string) (stores.App, bool) { return storeApp, store == app.Store && id == "keep" })
	list, err := h.m.List(ctx)
	if err != nil || len(list) != 1 {
		t.Fatal(list, err)
	}
	u := list[0].Update
	if u == nil || u.From != "1.2" || u.To != "1.10" || u.Changelog != "https://github.com/example/keep/releases" {
		t.Errorf("update = %+v", u)
	}
	if list[0].LastBackup != nil {
		t.Errorf("last backup before any: %+v", list[0].LastBackup)
	}
	// No repository: the backup fails, and the list says so.
	if _, err := h.m.Backup(ctx, "keep", "", nil); err == nil {
		t.Fatal("backup without a repository succeeded")
	}
	st, _ := h.m.Status(ctx, "keep")
	if st.LastBackup == nil || !strings.Contains(st.LastBackup.Error, "no backup repository") {
		t.Errorf("last backup after a failure: %+v", st.LastBackup)
	}
	h.configureRepo(t, filepath.Join(t.TempDir(), "repo"))
	res, err := h.m.Backup(ctx, "keep", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	st, _ = h.m.Status(ctx, "keep")
	if st.LastBackup == nil || st.LastBackup.Error != "" || st.LastBackup.Snapshot != res.Snapshot {
		t.Errorf("last backup after a success: %+v", st.LastBackup)
	}
	storeApp.Version = "1.2"
	if st, _ := h.m.Status(ctx, "keep"); st.Update != nil {
		t.Errorf("update offered for the installed version: %+v", st.Update)
	}
}

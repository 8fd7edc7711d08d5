package portal

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/stackhub/stackhub/backup"
	"github.com/stackhub/stackhub/internal/browsertest"
)

// TestAppPageBackupAndUpdateInBrowser drives the app page's scripts in a
// real Chromium: Back up now shows the new backup, the schedule form sets
// and removes the schedule (and shows a refused one's error), the snapshot
// list shows the backup, and Update takes the app to the store's version.
func TestAppPageBackupAndUpdateInBrowser(t *testing.T) {
	chrome := browsertest.Chromium(t)
	e, plat, j, writeKeep := newKeepEnv(t)
	if _, end := progress(t, j("POST", "/api/v1/install", `{"ref":"test/keep"}`)); end.Error != "" {
		t.Fatalf("install: %+v", end)
	}
	if _, err := plat.Apps.BackupKeeper().Configure(context.Background(), backup.Repo{URL: filepath.Join(t.TempDir(), "repo")}); err != nil {
		t.Fatal(err)
	}
	writeKeep("2.0", "")
	j("POST", "/api/v1/stores/refresh", ``)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	base := fmt.Sprintf("http://localhost:%d", port)
	e.p.origin = base // the browser's requests come from here, not from the portal's https name
	go e.p.Serve(ln)
	t.Cleanup(func() { ln.Close() })

	// Chromium runs in a network namespace of its own where it can (as
	// root): appctl's Docker tests, running at the same time, add and
	// remove networks, and a Chromium on the host's network aborts its
	// loads and the page's requests on each change.
	b := browsertest.Start(t, browsertest.Isolated(t, chrome, port))
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		b.Do(what, 90*time.Second, actions...)
	}
	press := browsertest.Press
	set := func(sel, value string) chromedp.Action[chromedp.Void] {
		return browsertest.Script(fmt.Sprintf(`document.querySelector(%q).value = %q`, sel, value))
	}
	// The session cookie, as the sign-in sets it (localhost is a secure
	// context, so a __Host- cookie can be set over plain HTTP).
	do("sign in", browsertest.Navigate(base+"/static/style.css"),
		browsertest.Script(fmt.Sprintf(`document.cookie = %q`, SessionCookie+"="+e.jar[SessionCookie]+"; path=/; secure")))
	do("app page", browsertest.Navigate(base+"/apps/keep"), chromedp.WaitVisible(chromedp.CSS("#backup-now")),
		browsertest.Script(`window.confirm = function () { return true; }`))
	if s := b.Text("#update-available"); !strings.Contains(s, "Update available: 1.0 → 2.0") {
		t.Errorf("update fact: %q", s)
	}

	do("back up now", press("#backup-now"), chromedp.WaitVisible(chromedp.CSS("#progress.finished")), chromedp.WaitVisible(chromedp.CSS("#last-backup .s-running")))
	if s := b.Text("#last-backup"); !strings.Contains(s, "snapshot") {
		t.Errorf("last backup after Back up now: %q", s)
	}
	do("list backups", press("#backups-list"), chromedp.WaitVisible(chromedp.CSS("[data-restore]")))
	if s := b.Text("#snapshot-rows"); !strings.Contains(s, "manual") || !strings.Contains(s, "1.0") {
		t.Errorf("snapshot list: %q", s)
	}

	do("bad window", press("#sched-auto"), set("#sched-window", "soon"), press("#schedule-save"), chromedp.WaitVisible(chromedp.CSS("#schedule-error")))
	if s := b.Text("#schedule-error"); !strings.Contains(s, "HH:MM-HH:MM") {
		t.Errorf("refused schedule's error: %q", s)
	}
	do("schedule", set("#sched-window", "01:00-02:00"), set("#sched-daily", "04:30"), press("#schedule-save"), chromedp.WaitVisible(chromedp.CSS("#schedule-ok")))
	if s := b.Text("#schedule-now"); !strings.Contains(s, "Every day at 04:30") || !strings.Contains(s, "01:00-02:00") {
		t.Errorf("schedule shown: %q", s)
	}
	if sc, ok := plat.Apps.GetSchedule("keep"); !ok || sc.Daily != "04:30" || !sc.AutoUpdate || sc.Window != "01:00-02:00" {
		t.Errorf("schedule kept: %+v %v", sc, ok)
	}
	do("remove schedule", press("#schedule-off"), chromedp.WaitNotVisible(chromedp.CSS("#schedule-off")))
	if _, ok := plat.Apps.GetSchedule("keep"); ok {
		t.Error("the schedule is still set")
	}

	do("update", press("#update-btn"), chromedp.WaitVisible(chromedp.CSS("#updated-reload")))
	if s := b.Text("[data-op-result]"); !strings.Contains(s, "updated from 1.0 to 2.0") || !strings.Contains(s, "unreachable for") {
		t.Errorf("update outcome: %q", s)
	}
	if st, _ := plat.Apps.Status(context.Background(), "keep"); st.Version != "2.0" {
		t.Errorf("version after the update: %s", st.Version)
	}
}

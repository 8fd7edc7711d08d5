package portal

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/stackhub/stackhub/backup"
)

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium for the browser test: install Debian's chromium package (make deps as root)")
	}
	t.Skip("no Chromium: skipping the browser test (install Debian's chromium package)")
	return ""
}

// TestAppPageBackupAndUpdateInBrowser drives the app page's scripts in a
// real Chromium: Back up now shows the new backup, the schedule form sets
// and removes the schedule (and shows a refused one's error), the snapshot
// list shows the backup, and Update takes the app to the store's version.
func TestAppPageBackupAndUpdateInBrowser(t *testing.T) {
	chrome := chromiumPath(t)
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
	base := "http://localhost:" + strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:")
	e.p.origin = base // the browser's requests come from here, not from the portal's https name
	go e.p.Serve(ln)
	t.Cleanup(func() { ln.Close() })

	actx, cancel := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1280, 900))...)
	defer cancel()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	step := func(d time.Duration) context.Context {
		c, cancel := context.WithTimeout(bctx, d)
		t.Cleanup(cancel)
		return c
	}
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			html, _ := chromedp.Run(step(5*time.Second), chromedp.OuterHTML(chromedp.CSS("main")))
			t.Fatalf("%s: %v\n%s", what, err, html)
		}
	}
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		must(what, chromedp.Do(step(90*time.Second), actions...))
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(step(30*time.Second), chromedp.Text(chromedp.CSS(sel)))
		must("text of "+sel, err)
		return s
	}
	js := func(what, code string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool]("(() => { "+code+"; return true })()")(ctx, tg)
			return err
		})
	}
	// press clicks a control as a user's click does.
	press := func(sel string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if _, err := chromedp.WaitVisible(chromedp.CSS(sel))(ctx, tg); err != nil {
				return err
			}
			_, err := js("press", fmt.Sprintf(`document.querySelector(%q).click()`, sel))(ctx, tg)
			return err
		})
	}
	set := func(sel, value string) chromedp.Action[chromedp.Void] {
		return js("set", fmt.Sprintf(`document.querySelector(%q).value = %q`, sel, value))
	}

	must("start Chromium", chromedp.Do(bctx))
	// The session cookie, as the sign-in sets it (localhost is a secure
	// context, so a __Host- cookie can be set over plain HTTP).
	do("sign in", chromedp.Navigate(base+"/static/style.css"),
		js("cookie", fmt.Sprintf(`document.cookie = %q`, SessionCookie+"="+e.jar[SessionCookie]+"; path=/; secure")))
	do("app page", chromedp.Navigate(base+"/apps/keep"), chromedp.WaitVisible(chromedp.CSS("#backup-now")),
		js("confirm", `window.confirm = function () { return true; }`))
	if s := text("#update-available"); !strings.Contains(s, "Update available: 1.0 → 2.0") {
		t.Errorf("update fact: %q", s)
	}

	do("back up now", press("#backup-now"), chromedp.WaitVisible(chromedp.CSS("#progress.finished")), chromedp.WaitVisible(chromedp.CSS("#last-backup .s-running")))
	if s := text("#last-backup"); !strings.Contains(s, "snapshot") {
		t.Errorf("last backup after Back up now: %q", s)
	}
	do("list backups", press("#backups-list"), chromedp.WaitVisible(chromedp.CSS("[data-restore]")))
	if s := text("#snapshot-rows"); !strings.Contains(s, "manual") || !strings.Contains(s, "1.0") {
		t.Errorf("snapshot list: %q", s)
	}

	do("bad window", press("#sched-auto"), set("#sched-window", "soon"), press("#schedule-save"), chromedp.WaitVisible(chromedp.CSS("#schedule-error")))
	if s := text("#schedule-error"); !strings.Contains(s, "HH:MM-HH:MM") {
		t.Errorf("refused schedule's error: %q", s)
	}
	do("schedule", set("#sched-window", "01:00-02:00"), set("#sched-daily", "04:30"), press("#schedule-save"), chromedp.WaitVisible(chromedp.CSS("#schedule-ok")))
	if s := text("#schedule-now"); !strings.Contains(s, "Every day at 04:30") || !strings.Contains(s, "01:00-02:00") {
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
	if s := text("[data-op-result]"); !strings.Contains(s, "updated from 1.0 to 2.0") || !strings.Contains(s, "unreachable for") {
		t.Errorf("update outcome: %q", s)
	}
	if st, _ := plat.Apps.Status(context.Background(), "keep"); st.Version != "2.0" {
		t.Errorf("version after the update: %s", st.Version)
	}
}

package portal

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/backup"
	"github.com/stackhub/stackhub/internal/auth"
	"github.com/stackhub/stackhub/internal/registry"
)

// renderPage renders a page template with v, as render does.
func renderPage(t *testing.T, name, lang string, v view) string {
	t.Helper()
	v.Lang, v.Domain, v.Scripts = lang, domain, scriptMessages(lang)
	if v.User.User == "" {
		v.User = auth.Identity{User: "ann", Role: auth.RoleAdmin}
	}
	var b strings.Builder
	if err := pagesFor(lang).ExecuteTemplate(&b, name, v); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// appDetailFor is the page data of an installed app, as appDetail builds it.
func appDetailFor(rec appctl.Record, tweak func(*appctl.AppStatus)) AppDetail {
	rec.State, rec.Running = appctl.StateInstalled, true
	if rec.Policy.Access == "" {
		rec.Policy.Access = registry.Private
	}
	st := appctl.AppStatus{Record: rec, Health: "running"}
	if tweak != nil {
		tweak(&st)
	}
	p := &Portal{}
	d := AppDetail{AppStatus: st, Operations: []OperationView{}, BackupRepo: true}
	d.Card = p.card(st, nil)
	return d
}

// The app page says what the CLI's `apps info` says: ports open on the LAN
// for a host-network app, no web page and the addresses of a service app,
// a declared app managed by the config (its controls read-only), an update
// with its versions and changelog, and a failed last backup, loudly.
func TestAppPageShowsExposureManagedUpdateAndBackups(t *testing.T) {
	base := appctl.Record{ID: "home", Name: "Home", Store: "test", Version: "1.0", Host: "home." + domain, URL: "https://home." + domain + "/"}

	host := base
	host.Exposure = appctl.Exposure{HostNetwork: true, LANPorts: []string{"8123/tcp", "5353/udp"}}
	page := renderPage(t, "app", "en", view{App: appDetailFor(host, nil)})
	for _, want := range []string{"Open on the LAN", "This app runs on the host&#39;s network: its ports are open to every device on the LAN", "<code>8123/tcp</code>, <code>5353/udp</code>"} {
		if !strings.Contains(page, want) {
			t.Errorf("host-network app page lacks %q", want)
		}
	}
	if !regexp.MustCompile(`<a class="btn" href="/auth/app\?rd=[^"]+" id="open">`).MatchString(page) {
		t.Error("a host-network app has a web UI: its Open button must show")
	}

	svc := base
	svc.Host, svc.URL = "", ""
	svc.Exposure = appctl.Exposure{NoWebUI: true, Addresses: []string{"127.0.0.1:5432"}}
	page = renderPage(t, "app", "en", view{App: appDetailFor(svc, nil)})
	for _, want := range []string{"No web page: this is a service app.", "Programs and devices connect to it at:", "<li><code>127.0.0.1:5432</code></li>", "service app, no web page"} {
		if !strings.Contains(page, want) {
			t.Errorf("service app page lacks %q", want)
		}
	}
	if !regexp.MustCompile(`id="open" hidden>`).MatchString(page) || strings.Contains(page, `id="app-url"`) || strings.Contains(page, "Open on the LAN") {
		t.Errorf("a service app's page shows an Open button, a web address or LAN ports it does not have:\n%s", page)
	}

	man := base
	man.Managed = "Caddyfile:12"
	page = renderPage(t, "app", "en", view{App: appDetailFor(man, nil)})
	for _, want := range []string{`<span class="tag" id="managed-tag">Managed by the config</span>`, "declared at <code>Caddyfile:12</code>", "<code>stackhub reload</code>",
		"Managed by the config: these settings are read-only here.", "Managed by the config: its access is read-only here."} {
		if !strings.Contains(page, want) {
			t.Errorf("managed app page lacks %q", want)
		}
	}
	// Remove, the address, the settings and the access form are in
	// disabled fieldsets: nothing there can be changed or sent.
	if n := strings.Count(page, `<fieldset class="locked" disabled`); n != 4 {
		t.Errorf("managed app page: %d locked fieldsets, want 4 (remove, address, settings, access)", n)
	}
	for _, ctl := range []string{`id="remove"`, `id="move"`, `id="settings-save"`, `>Save access<`} {
		i := strings.Index(page, ctl)
		open, closed := strings.LastIndex(page[:i], `<fieldset class="locked" disabled`), strings.LastIndex(page[:i], `</fieldset>`)
		if i < 0 || open < 0 || closed > open {
			t.Errorf("managed app page: %s is not in a disabled fieldset", ctl)
		}
	}
	if plain := renderPage(t, "app", "en", view{App: appDetailFor(base, nil)}); strings.Contains(plain, "locked") || strings.Contains(plain, "Managed by the config") {
		t.Error("an app installed by hand is shown as managed")
	}

	page = renderPage(t, "app", "en", view{App: appDetailFor(base, func(st *appctl.AppStatus) {
		st.Update = &appctl.UpdateInfo{From: "1.0", To: "2.0", Store: "test", Changelog: "https://github.com/example/home/releases"}
	})})
	for _, want := range []string{"Update available: 1.0 → 2.0", `<a href="https://github.com/example/home/releases" rel="noopener noreferrer" target="_blank">What changed</a>`,
		`id="update-btn" data-to="2.0" data-from="1.0">Update</button>`} {
		if !strings.Contains(page, want) {
			t.Errorf("update available: page lacks %q", want)
		}
	}

	failed := appDetailFor(base, func(st *appctl.AppStatus) {
		st.LastBackup = &appctl.BackupStatus{Time: time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC), Reason: "scheduled", Error: "the repository cannot be reached: dial tcp 10.0.0.9:22"}
		st.Schedule = &appctl.Schedule{Daily: "03:00", Retention: backup.DefaultRetention}
	})
	page = renderPage(t, "app", "en", view{App: failed})
	for _, want := range []string{`<p class="error" role="alert"><strong>The last backup failed</strong>`, "the repository cannot be reached: dial tcp 10.0.0.9:22",
		"Every day at 03:00; kept: 7 daily, 4 weekly, 6 monthly", `id="backup-now">Back up now</button>`, `id="schedule-off">Remove schedule`} {
		if !strings.Contains(page, want) {
			t.Errorf("failed backup: page lacks %q", want)
		}
	}
	zh := renderPage(t, "app", "zh-CN", view{App: failed})
	for _, want := range []string{"上次备份失败", "立即备份", "备份计划"} {
		if !strings.Contains(zh, want) {
			t.Errorf("zh-CN app page lacks %q", want)
		}
	}
	never := appDetailFor(base, nil)
	never.BackupRepo = false
	page = renderPage(t, "app", "en", view{App: never})
	for _, want := range []string{"never backed up", "No schedule: backed up only when asked.", `id="no-repository"`, `<code>stackhub backup init REPOSITORY</code>`, `id="backup-now" disabled>`} {
		if !strings.Contains(page, want) {
			t.Errorf("app without backups: page lacks %q", want)
		}
	}
}

// The home page's cards show an available update and a failed backup to
// admins, and a service app's address instead of a web address.
func TestHomeCardBadges(t *testing.T) {
	p := &Portal{}
	upd := p.card(appctl.AppStatus{Record: appctl.Record{ID: "a", Name: "A", Host: "a." + domain, URL: "https://a." + domain + "/", State: appctl.StateInstalled, Running: true},
		Health: "running", Update: &appctl.UpdateInfo{From: "1", To: "2"}}, nil)
	bad := p.card(appctl.AppStatus{Record: appctl.Record{ID: "b", Name: "B", Host: "b." + domain, State: appctl.StateInstalled, Running: true},
		Health: "running", LastBackup: &appctl.BackupStatus{Error: "boom"}}, nil)
	svc := p.card(appctl.AppStatus{Record: appctl.Record{ID: "db", Name: "DB", State: appctl.StateInstalled, Running: true,
		Exposure: appctl.Exposure{NoWebUI: true, Addresses: []string{"127.0.0.1:5432"}}}, Health: "running"}, nil)
	if upd.UpdateTo != "2" || bad.BackupFailed != true || !svc.NoWebUI || svc.Link != "" || svc.Address != "127.0.0.1:5432" {
		t.Fatalf("cards: %+v %+v %+v", upd, bad, svc)
	}
	page := renderPage(t, "dashboard", "en", view{Cards: []AppCard{upd, bad, svc}})
	for _, want := range []string{`data-badge="update">Update available</a>`, `<a class="badge bad" href="/apps/b#overview" data-badge="backup-failed">Backup failed</a>`,
		`href="/apps/db" data-app="db"`, "service app · 127.0.0.1:5432"} {
		if !strings.Contains(page, want) {
			t.Errorf("home page lacks %q", want)
		}
	}
	if strings.Count(page, "data-badge=") != 2 {
		t.Errorf("home page: %d badges, want 2", strings.Count(page, "data-badge="))
	}
	if zh := renderPage(t, "dashboard", "zh-CN", view{Cards: []AppCard{upd, bad}}); !strings.Contains(zh, "有可用更新") || !strings.Contains(zh, "备份失败") {
		t.Error("zh-CN home page badges are not translated")
	}
}

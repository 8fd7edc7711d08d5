package portal

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/backup"
	"github.com/stackhub/stackhub/internal/domains"
	"github.com/stackhub/stackhub/internal/i18n"
	"github.com/stackhub/stackhub/internal/kv"
	"github.com/stackhub/stackhub/internal/registry"
	"github.com/stackhub/stackhub/stores"
)

// noEnglish fails when s holds one of the English words of en.
func noEnglish(t *testing.T, what, s string, en ...string) {
	t.Helper()
	for _, w := range en {
		if strings.Contains(s, w) {
			t.Errorf("%s = %q still says %q", what, s, w)
		}
	}
}

// The dependency install line is a status of its own (the CLI prints it as
// is); a Chinese page says it translated.
func TestDependencyStatusInChinese(t *testing.T) {
	ev := appctl.Event{App: "db", Phase: appctl.PhaseValidate, Status: "installing db, which notes needs",
		MsgID: "installing {{.Dep}}, which {{.App}} needs", Args: map[string]string{"Dep": "db", "App": "notes"}}
	got := localEvent(i18n.New("zh-CN"), ev)
	if got.Status != "正在安装 notes 所需的 db" || got.Message != "" {
		t.Errorf("zh-CN: %+v", got)
	}
	if got := localEvent(i18n.New("en"), ev); got.Status != ev.Status || got.Message != "" {
		t.Errorf("en: %+v", got)
	}
	if m := i18n.M(ev.MsgID, "Dep", "db", "App", "notes"); m.English() != ev.Status {
		t.Errorf("English changed: %q", m.English())
	}
}

// A backup's event says its reason the way Chinese puts it ("手动备份"),
// not the English word in a Chinese sentence ("manual 备份").
func TestBackupReasonsInChinese(t *testing.T) {
	zh := i18n.New("zh-CN")
	for reason, want := range map[string]string{"manual": "手动备份", "schedule": "定时备份", "pre-update": "更新前备份",
		"clone": "克隆前备份", "move": "迁移前备份", "box": "整机备份"} {
		ok := i18n.M(reason+" backup, snapshot {{.Snapshot}}", "Snapshot", "ab12cd34")
		fail := i18n.M(reason+" backup: {{.Err}}", "Err", "disk full")
		evs := localAppEvents(zh, []appctl.AppEvent{
			{Kind: appctl.EventBackupOK, Detail: ok.English(), MsgID: ok.ID, Args: ok.Args},
			{Kind: appctl.EventBackupFail, Detail: fail.English(), MsgID: fail.ID, Args: fail.Args}})
		if evs[0].Detail != want+"，快照 ab12cd34" {
			t.Errorf("%s: %q", reason, evs[0].Detail)
		}
		if evs[1].Detail != want+"失败：disk full" {
			t.Errorf("%s failed: %q", reason, evs[1].Detail)
		}
		if ok.English() != reason+" backup, snapshot ab12cd34" || fail.English() != reason+" backup: disk full" {
			t.Errorf("English changed: %q %q", ok.English(), fail.English())
		}
	}
}

// An app's state inside a message is said in Chinese, as the status pills
// say it; the English stays appctl's.
func TestStatesInMessagesInChinese(t *testing.T) {
	zh := i18n.New("zh-CN")
	for state, want := range map[string]string{"removing": "删除中", "installing": "安装中", "failed": "失败", "installed": "已安装"} {
		err := errors.Join(i18n.Errorf(nil, "app {{.App}} is {{.State}}, not installed", "App", "notes", "State", i18n.Word(state)))
		got := errorText(zh, err, err.Error())
		if !strings.Contains(got, want) || strings.Contains(got, state) || !strings.Contains(got, "notes") {
			t.Errorf("%s: %q", state, got)
		}
		if err.Error() != "app notes is "+state+", not installed" {
			t.Errorf("English: %q", err.Error())
		}
	}
	// Through a progress event too (an operation's error event).
	ev := appctl.Event{Phase: appctl.PhaseError}
	m := i18n.M("the app is {{.State}}, not installed", "State", i18n.Word("removing"))
	ev.Message, ev.MsgID, ev.Args, ev.Words = m.English(), m.ID, m.Args, m.Words
	if got := localEvent(zh, ev).Message; !strings.Contains(got, "删除中") || strings.Contains(got, "removing") {
		t.Errorf("event: %q", got)
	}
}

// The policy forms' input errors: a Chinese page and the API say them in
// Chinese; English is unchanged.
func TestPolicyInputErrorsInChinese(t *testing.T) {
	e := newEnv(t)
	e.signIn()
	dash := e.do("GET", "/", nil)
	tok := csrf(t, dash.body)
	r := e.do("POST", "/admin/apps/vault/policy", url.Values{"csrf": {tok}, "access": {"everyone"}}, "Accept-Language", zhAccept)
	loc, _ := url.QueryUnescape(r.header.Get("Location"))
	if r.status != 303 || !strings.Contains(loc, "访问方式必须是") || !strings.Contains(loc, `"everyone"`) {
		t.Errorf("admin form: %d %s", r.status, loc)
	}
	page := e.do("GET", r.header.Get("Location"), nil, "Accept-Language", zhAccept)
	if !strings.Contains(page.body, "访问方式必须是") || strings.Contains(page.body, "access must be") {
		t.Errorf("admin page does not say the error in Chinese")
	}
	for _, c := range []struct{ body, zh, en string }{
		{`{"access":"everyone"}`, "访问方式必须是", `access must be private, restricted or public, not "everyone"`},
		{`{"access":"public","public_paths":["api"]}`, `例外路径 "api" 必须是以 / 开头的路径`, `path exception "api" must be a path starting with /`},
	} {
		r := e.doBody("PUT", "/api/apps/vault/policy", "application/json", c.body, "X-CSRF-Token", tok, "Accept-Language", zhAccept)
		if r.status != 400 || !strings.Contains(r.body, strings.ReplaceAll(c.zh, `"`, `\"`)) || strings.Contains(r.body, "must be") {
			t.Errorf("zh-CN %s: %d %s", c.body, r.status, r.body)
		}
		r = e.doBody("PUT", "/api/apps/vault/policy", "application/json", c.body, "X-CSRF-Token", tok, "Accept-Language", "en")
		if r.status != 400 || !strings.Contains(r.body, strings.ReplaceAll(c.en, `"`, `\"`)) {
			t.Errorf("en %s: %d %s", c.body, r.status, r.body)
		}
	}
	if got, _ := e.reg.Lookup("vault." + domain); got.Policy.Access == "everyone" {
		t.Error("the refused policy was applied")
	}
	err := SetPolicy(registryPolicies{e.reg}, "vault", registry.Policy{Access: "weird"})
	if err == nil || err.Error() != `access must be private, restricted or public, not "weird"` {
		t.Errorf("English: %v", err)
	}
}

// A hazard line as Hazard.String prints it, in Chinese: its kind, and what
// the setting lets the app do instead of the stores' English reason.
func TestHazardLinesInChinese(t *testing.T) {
	h := stores.Hazard{Kind: "service", Service: "web", Setting: "cap_add: NET_ADMIN", Reason: "extra kernel capabilities", Name: "cap-add"}
	zh, en := i18n.New("zh-CN"), i18n.New("en")
	if got := localHazard(en, h); got != h.String() {
		t.Errorf("en: %q, want %q", got, h.String())
	}
	if got := hazardLine(h, h.Reason).English(); got != h.String() {
		t.Errorf("the message's English %q is not Hazard.String %q", got, h.String())
	}
	got := localHazard(zh, h)
	if got != "服务“web”：cap_add: NET_ADMIN（它获得了超出应用通常权限的额外内核能力（cap_add: NET_ADMIN）。）[cap-add]" {
		t.Errorf("zh-CN: %q", got)
	}
	for _, k := range []string{"job", "project", "volume", "network", "secret", "config"} {
		h := h
		h.Kind = k
		if hazardLine(h, h.Reason).English() != h.String() {
			t.Errorf("%s: %q", k, hazardLine(h, h.Reason).English())
		}
		noEnglish(t, k, localHazard(zh, h), k+` "`, "extra kernel")
	}
	// appctl's refusal, as an install's operation error shows it.
	he := &appctl.HazardError{App: "notes", Hazards: []stores.Hazard{h}}
	err := errors.Join(he)
	msg := errorText(zh, err, err.Error())
	if !strings.Contains(msg, "服务“web”") || strings.Contains(msg, "extra kernel") {
		t.Errorf("HazardError: %q", msg)
	}
	if !strings.Contains(he.Error(), h.String()) {
		t.Errorf("English HazardError: %q", he.Error())
	}
}

// The messages of today's endpoints: the backup schedule's and domains'
// refusals, RefuseManaged, the missing repository and the DNS check.
func TestNewEndpointMessagesInChinese(t *testing.T) {
	zh := i18n.New("zh-CN")
	say := func(err error) string { return errorText(zh, err, err.Error()) }
	var s appctl.Schedule
	s.Daily = "25:00"
	err := s.Normalize()
	if err == nil || err.Error() != `invalid app: daily time "25:00": write HH:MM` || !errors.Is(err, appctl.ErrInvalid) {
		t.Fatalf("schedule: %v", err)
	}
	if got := say(err); got != `设置无效：每日时间 "25:00" 格式不对：请写成 HH:MM` {
		t.Errorf("schedule zh-CN: %q", got)
	}
	s = appctl.Schedule{AutoUpdate: true, Window: "late"}
	if err := s.Normalize(); err == nil || !strings.Contains(say(err), "更新时段") {
		t.Errorf("window: %v", err)
	}
	managed := appctl.RefuseManaged(appctl.Record{ID: "notes", Managed: "/etc/stackhub/Caddyfile:12"}, "change its settings")
	if managed.Error() != "managed by the config: app notes is declared in the config (/etc/stackhub/Caddyfile:12): change its settings there and run `stackhub reload`" {
		t.Errorf("RefuseManaged English: %q", managed.Error())
	}
	if got := say(managed); got != "由配置管理：应用 notes 在配置文件（/etc/stackhub/Caddyfile:12）中声明：请在那里修改它的设置，然后运行 `stackhub reload`" {
		t.Errorf("RefuseManaged zh-CN: %q", got)
	}
	for _, change := range []string{"change its subdomain", "change its access", "remove its block"} {
		noEnglish(t, change, say(appctl.RefuseManaged(appctl.Record{ID: "notes", Managed: "x"}, change)), change)
	}
	if _, err := appctl.NormalizeDomain("nodots"); err == nil || !strings.Contains(say(err), "不是完整的域名") {
		t.Errorf("domain: %v", err)
	}
	db, err := kv.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	_, err = backup.Keeper{DB: db, DataDir: t.TempDir()}.Repo()
	if err == nil || err.Error() != "no backup repository is configured: set one up with `stackhub backup init REPOSITORY`" || !errors.Is(err, backup.ErrNotConfigured) {
		t.Fatalf("repo: %v", err)
	}
	if got := say(opError(err)); got != "尚未配置备份仓库：请用 `stackhub backup init REPOSITORY` 设置一个" {
		t.Errorf("repo zh-CN: %q", got)
	}
	sched := msgError(404, "no backup schedule for {{.App}}: set one on its page (Backups)", "App", "notes")
	if sched.Error() != "no backup schedule for notes: set one on its page (Backups)" || say(sched) != "notes 没有备份计划：请在它的页面（备份）上设置" {
		t.Errorf("schedule 404: %q / %q", sched.Error(), say(sched))
	}
}

// The DNS check's problem and the apex record's explanation in Chinese.
func TestDomainCheckInChinese(t *testing.T) {
	zh := i18n.New("zh-CN")
	r := domains.Result{Name: "example.org"}
	for _, c := range []struct {
		msg  i18n.Msg
		want string
	}{
		{i18n.M("the name does not exist in DNS yet"), "该名称在 DNS 中尚不存在"},
		{i18n.M("it resolves to {{.Addresses}}, and this box is at {{.Box}}", "Addresses", "192.0.2.7", "Box", "198.51.100.1"), "它解析到 192.0.2.7，而本机的地址是 198.51.100.1"},
		{i18n.M("it could not be resolved: {{.Err}}", "Err", "timeout"), "无法解析它：timeout"},
		{i18n.M("the app's own address {{.Host}} could not be resolved to compare ({{.Err}})", "Host", "notes.home.example", "Err", "timeout"), "无法解析应用自己的地址 notes.home.example 来进行比较（timeout）"},
	} {
		r.ProblemMsg, r.Problem = c.msg, c.msg.English()
		if got := r.Localize(zh).Problem; got != c.want {
			t.Errorf("%q: %q", c.msg.ID, got)
		}
		if got := r.Localize(i18n.New("en")).Problem; got != r.Problem {
			t.Errorf("en %q", got)
		}
	}
	r.RecordMsg = i18n.M("{{.Name}}. A <this box's public address> (an apex name cannot be a CNAME)", "Name", "example.org")
	r.Record = r.RecordMsg.English()
	if got := r.Localize(zh).Record; got != "example.org. A <本机的公网地址>（根域名不能使用 CNAME）" {
		t.Errorf("record: %q", got)
	}
	if r.Record != "example.org. A <this box's public address> (an apex name cannot be a CNAME)" {
		t.Errorf("English record: %q", r.Record)
	}
}

// The snapshot list's reasons (appbackup.js reasonText) reach the script
// in Chinese.
func TestSnapshotReasonsInChinese(t *testing.T) {
	msgs := scriptMessages("zh-CN")
	for reason, want := range map[string]string{"manual": "手动", "schedule": "定时", "pre-update": "更新前", "clone": "克隆前", "box": "整机", "move": "更改地址"} {
		if msgs[reason] != want {
			t.Errorf("%s: %q, want %q", reason, msgs[reason], want)
		}
	}
}

// A failed update's outcome on the app page: Chinese from its message,
// English word for word as before.
func TestUpdateOutcomeInChinese(t *testing.T) {
	ue := &appctl.UpdateError{App: "notes", From: "1.0", To: "", Reason: errors.New("web exited (code 1)"), RolledBack: true}
	err := updateOutcome("notes", appctl.UpdateResult{Downtime: 1500 * time.Millisecond}, fmt.Errorf("update notes: %w", ue), func(appctl.Event) {})
	want := "The update of notes from 1.0 to (unknown version) failed and was rolled back: web exited (code 1). Version 1.0 runs again with its data as it was before the update; it was unreachable for 1.5s."
	if err.Error() != want {
		t.Errorf("English:\n%q\nwant\n%q", err.Error(), want)
	}
	if got := errorText(i18n.New("zh-CN"), err, err.Error()); got != "notes 从 1.0 更新到 （未知版本） 失败，已回滚：web exited (code 1)。版本 1.0 已重新运行，数据与更新前相同；期间有 1.5s 无法访问。" {
		t.Errorf("zh-CN: %q", got)
	}
	ue = &appctl.UpdateError{App: "notes", From: "1.0", To: "2.0", Reason: errors.New("boom"), RollbackErr: errors.New("disk full")}
	err = updateOutcome("notes", appctl.UpdateResult{}, ue, func(appctl.Event) {})
	if got := errorText(i18n.New("zh-CN"), err, err.Error()); !strings.Contains(got, "回滚也失败了（disk full）") || strings.Contains(got, "restore the backup") {
		t.Errorf("zh-CN rollback failed: %q", got)
	}
	// An install's evidenced error still says its appctl message.
	inner := i18n.Errorf(nil, "app {{.App}} is {{.State}}, not installed", "App", "notes", "State", i18n.Word("failed"))
	ev := &evidencedError{err: inner, msg: "install notes: " + inner.Error()}
	if got := errorText(i18n.New("zh-CN"), ev, ev.Error()); !strings.Contains(got, "失败") || strings.Contains(got, "install notes") {
		t.Errorf("install: %q", got)
	}
}

package appctl

import (
	"errors"
	"strings"
	"testing"

	"github.com/stackhub/stackhub/backup"
	"github.com/stackhub/stackhub/internal/i18n"
)

// A state inside a message is said in Chinese (as the status pills say
// it), through the stored app events too; English is as before.
func TestStatesInMessagesSpeakChinese(t *testing.T) {
	m := kvManager(t)
	if err := m.db.Put(recordKey("wiki"), Record{ID: "wiki", Name: "Wiki", Host: "wiki.example.org", State: StateRemoving}); err != nil {
		t.Fatal(err)
	}
	_, err := m.setRunning("wiki", true)
	if err == nil || err.Error() != "app wiki is removing, not installed: `stackhub apps info wiki` says more" {
		t.Fatalf("English: %v", err)
	}
	if zh := localized(t, err); !strings.Contains(zh, "删除中") || strings.Contains(zh, "removing") {
		t.Errorf("Chinese: %q", zh)
	}
	ev := sayError(Event{Phase: PhaseError}, err)
	if zh := i18n.New("zh-CN").Msg(ev.Text()); !strings.Contains(zh, "删除中") {
		t.Errorf("event: %q (words %v)", zh, ev.Words)
	}
}

// Each backup reason has its own event message: English as before
// ("manual backup, snapshot …"), Chinese with the reason put naturally.
func TestBackupEventsSayTheirReason(t *testing.T) {
	m := kvManager(t)
	m.eventOnBackup("notes", "schedule", "0123456789abcdef", nil)
	m.eventOnBackup("notes", "pre-update", "", errors.New("disk full"))
	m.eventOnBackup("notes", "odd", "0123456789abcdef", nil)
	evs, err := m.Events("notes")
	if err != nil || len(evs) != 3 {
		t.Fatalf("events: %v %+v", err, evs)
	}
	zh := i18n.New("zh-CN")
	for i, c := range []struct{ en, zh string }{
		{"odd backup, snapshot 01234567", "odd 备份"},
		{"pre-update backup: disk full", "更新前备份失败：disk full"},
		{"schedule backup, snapshot 01234567", "定时备份，快照 01234567"},
	} {
		if evs[i].Detail != c.en {
			t.Errorf("English %q, want %q", evs[i].Detail, c.en)
		}
		if got := zh.Msg(evs[i].Text()); !strings.HasPrefix(got, c.zh) {
			t.Errorf("Chinese %q, want %q…", got, c.zh)
		}
	}
}

// The dependency line is the event's status, as the CLI prints it.
func TestDependencyStatusIsAMessage(t *testing.T) {
	e := sayStatus(Event{App: "db", Phase: PhaseValidate}, "installing {{.Dep}}, which {{.App}} needs", "Dep", "db", "App", "notes")
	if e.Status != "installing db, which notes needs" || e.Message != "" {
		t.Errorf("English: %+v", e)
	}
	if got := i18n.New("zh-CN").Msg(e.Text()); got != "正在安装 notes 所需的 db" {
		t.Errorf("Chinese: %q", got)
	}
}

// RefuseManaged, the schedule's and the domains' refusals keep their
// English and kind and speak Chinese.
func TestRefusalsOfNewEndpointsSpeakChinese(t *testing.T) {
	m := kvManager(t)
	if err := m.db.Put(recordKey("notes"), Record{ID: "notes", Host: "notes.example.org", State: StateInstalled, Domains: []Domain{{Name: "notes.example.com"}}}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		err  error
		en   string
		kind error
		zh   string
	}{
		{RefuseManaged(Record{ID: "notes", Managed: "Caddyfile:3"}, "change its subdomain"),
			"managed by the config: app notes is declared in the config (Caddyfile:3): change its subdomain there and run `stackhub reload`", ErrManaged, "请在那里修改它的子域名"},
		{(&Schedule{Retention: backup.Retention{Daily: -1}}).Normalize(), "invalid app: the numbers of snapshots to keep cannot be negative", ErrInvalid, "保留的快照数量不能为负数"},
		{(&Schedule{AutoUpdate: true, Window: "soon"}).Normalize(), `invalid app: update window "soon": write HH:MM-HH:MM`, ErrInvalid, `更新时段 "soon"`},
		{m.checkDomain("blog", "my.example.org"), "subdomain taken: my.example.org is StackHub's own address", ErrTaken, "StackHub 自己的地址"},
		{m.checkDomain("blog", "notes.example.com"), "subdomain taken: notes.example.com is already an address of app notes", ErrTaken, "已经是应用 notes 的地址"},
		{m.domainFree(Record{ID: "notes", Host: "notes.example.org"}, "notes.example.org"), "invalid app: notes.example.org is the app's own address", ErrInvalid, "该应用自己的地址"},
	}
	for _, c := range cases {
		if c.err == nil || c.err.Error() != c.en || !errors.Is(c.err, c.kind) {
			t.Errorf("English %v, want %q (%v)", c.err, c.en, c.kind)
			continue
		}
		if zh := localized(t, c.err); !strings.Contains(zh, c.zh) {
			t.Errorf("Chinese %q lacks %q", zh, c.zh)
		}
	}
	_, _, err := m.CheckNewDomain("notes", "bad_name.example.org")
	if err == nil || !strings.Contains(err.Error(), `invalid app: "bad_name.example.org" is not a domain name`) || !strings.Contains(localized(t, err), "不是域名") {
		t.Errorf("bad name: %v", err)
	}
}

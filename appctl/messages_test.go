package appctl

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stackhub/stackhub/internal/i18n"
	"github.com/stackhub/stackhub/internal/kv"
	"github.com/stackhub/stackhub/stores"
)

// kvManager is a Manager with its state and no Docker: enough for the
// record checks (get, CheckSubdomain) and the app events.
func kvManager(t *testing.T) *Manager {
	t.Helper()
	cfg := Config{DataDir: t.TempDir(), Domain: "example.org", Instance: "t", Network: "net"}
	cfg.setDefaults()
	db, err := kv.Open(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &Manager{cfg: cfg, db: db, log: cfg.Logger}
}

// localized returns err's catalog message in Chinese, failing when err
// carries none.
func localized(t *testing.T, err error) string {
	t.Helper()
	var le i18n.Localized
	if !errors.As(err, &le) {
		t.Fatalf("%v carries no catalog message", err)
	}
	return i18n.New("zh-CN").Msg(le.Message())
}

// The errors users meet most say the same English as before for the CLI
// (the old fmt.Errorf texts, written out here), keep their kind for the
// HTTP status, and say themselves in Chinese for the portal.
func TestErrorsKeepTheirEnglishAndSpeakChinese(t *testing.T) {
	m := kvManager(t)
	if err := m.db.Put(recordKey("notes"), Record{ID: "notes", Name: "Notes", Host: "notes.example.org", URL: "https://notes.example.org", State: StateInstalled}); err != nil {
		t.Fatal(err)
	}
	if err := m.db.Put(recordKey("wiki"), Record{ID: "wiki", Name: "Wiki", Host: "wiki.example.org", State: StateRemoving}); err != nil {
		t.Fatal(err)
	}
	_, notInstalled := m.get("nope")
	_, notDone := m.setRunning("wiki", true)
	hz := &HazardError{App: "notes", Hazards: []stores.Hazard{{Service: "web", Setting: "privileged: true", Reason: "full access to the host", Name: "privileged"}}}
	cases := []struct {
		name   string
		err    error
		want   string
		kind   error
		status int
		zh     []string // in the Chinese text
	}{
		{"not installed", fmt.Errorf("start nope: %w", notInstalled),
			fmt.Sprintf("start nope: %v: no app %q is installed; `stackhub apps list` shows the installed apps", ErrNotInstalled, "nope"),
			ErrNotInstalled, 404, []string{"未安装", "“nope”"}},
		{"not done", notDone,
			fmt.Sprintf("app %s is %s, not installed: `stackhub apps info %s` says more", "wiki", StateRemoving, "wiki"),
			nil, 500, []string{"应用 wiki", "删除中"}},
		{"subdomain taken", m.CheckSubdomain("blog", "notes"),
			fmt.Sprintf("%v: %s is already the address of app %s", ErrTaken, "notes.example.org", "notes"),
			ErrTaken, 409, []string{"子域名已被占用", "notes.example.org", "notes"}},
		{"subdomain invalid", m.CheckSubdomain("blog", "my"),
			fmt.Sprintf("%v: %q is reserved or not a DNS label (lower case letters, digits and '-')", ErrTaken, "my"),
			ErrTaken, 409, []string{"子域名不可用", "“my”"}},
		{"hazards", fmt.Errorf("install notes: %w", hz),
			"install notes: app notes asks for settings that reach beyond the app (into the host, another app or StackHub):\n  - " + hz.Hazards[0].String() + "\ninstall it with --approve privileged (or --approve-hazards for all) only if you trust it",
			ErrHazards, 403, []string{"应用 notes", "privileged: true", "仅在信任它时"}},
		{"image", fmt.Errorf("install notes: %w", &ImageMissingError{Image: "nginx:alpine", Reason: "no route to host"}),
			fmt.Sprintf("install notes: image %s is not on this machine and cannot be pulled (%s): check that this machine reaches the image's registry, or load the image by hand (`docker load -i FILE`) and install again", "nginx:alpine", "no route to host"),
			nil, 424, []string{"镜像 nginx:alpine", "no route to host"}},
		{"docker", &DockerUnreachableError{Host: "unix:///var/run/docker.sock", Err: errors.New("connection refused")},
			fmt.Sprintf("cannot reach the Docker Engine at %s: %v; start Docker (e.g. `systemctl start docker`), or set `docker_host` in the stackhub block of your Caddyfile (or DOCKER_HOST) to where it listens", "unix:///var/run/docker.sock", "connection refused"),
			nil, 503, []string{"无法连接", "connection refused"}},
		{"port", explainUpError(errors.New("Bind for 0.0.0.0:8080 failed: port is already allocated")),
			"a port this app publishes is already in use on the host: stop what uses it, or change the app's ports: Bind for 0.0.0.0:8080 failed: port is already allocated",
			nil, 500, []string{"端口已被主机占用", "0.0.0.0:8080"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.err == nil {
				t.Fatal("no error")
			}
			if got := c.err.Error(); got != c.want {
				t.Errorf("Error() =\n%q\nwant\n%q", got, c.want)
			}
			if c.kind != nil && !errors.Is(c.err, c.kind) {
				t.Errorf("not errors.Is %v", c.kind)
			}
			if got := HTTPStatus(c.err); got != c.status {
				t.Errorf("HTTPStatus = %d, want %d", got, c.status)
			}
			zh := localized(t, c.err)
			for _, s := range c.zh {
				if !strings.Contains(zh, s) {
					t.Errorf("Chinese %q lacks %q", zh, s)
				}
			}
		})
	}
}

// Progress messages keep their English in Message (the CLI prints it) and
// carry their ID and args; the app event recorded from an operation's end
// carries them too, so the events list can be translated.
func TestEventsCarryTheirMessage(t *testing.T) {
	e := say(Event{Phase: PhaseDone, Status: "moved", URL: "https://wiki.example.org"}, "{{.Name}} now answers at {{.URL}}", "Name", "Notes", "URL", "https://wiki.example.org")
	if e.Message != "Notes now answers at https://wiki.example.org" {
		t.Errorf("Message = %q", e.Message)
	}
	if e.MsgID != "{{.Name}} now answers at {{.URL}}" || e.Args["Name"] != "Notes" {
		t.Errorf("MsgID %q, Args %v", e.MsgID, e.Args)
	}
	if got := i18n.New("zh-CN").Msg(e.Text()); got != "Notes 现在在 https://wiki.example.org 响应" {
		t.Errorf("Chinese = %q", got)
	}

	m := kvManager(t)
	m.eventOnDone("notes", e)
	m.eventSay("notes", EventCrashed, "service {{.Service}} stopped unexpectedly (exit code {{.Code}})", "Service", "web", "Code", 137)
	evs, err := m.Events("notes")
	if err != nil || len(evs) != 2 {
		t.Fatalf("events %v, %v", evs, err)
	}
	if evs[0].Detail != "service web stopped unexpectedly (exit code 137)" || evs[0].Args["Code"] != "137" {
		t.Errorf("crash event %+v", evs[0])
	}
	if evs[1].Kind != EventMoved || evs[1].Detail != e.Message || evs[1].MsgID != e.MsgID {
		t.Errorf("moved event %+v", evs[1])
	}
	if got := i18n.New("zh-CN").Msg(evs[0].Text()); got != "服务 web 意外停止（退出码 137）" {
		t.Errorf("Chinese = %q", got)
	}
	if evs[0].Time.IsZero() || time.Since(evs[0].Time) > time.Minute {
		t.Errorf("time %v", evs[0].Time)
	}
}

// An event that reports an error keeps the error's text and carries its
// catalog message when it has one; Docker's words pass as they are.
func TestSayError(t *testing.T) {
	err := fmt.Errorf("restore notes: %w", &ImageMissingError{Image: "nginx:alpine", Reason: "offline"})
	e := sayError(Event{Phase: PhaseRestore, Status: "rolled back"}, err)
	if e.Message != err.Error() || e.MsgID == "" || e.Args["Image"] != "nginx:alpine" {
		t.Errorf("event %+v", e)
	}
	plain := sayError(Event{Phase: PhaseError}, errors.New("Error response from daemon: conflict"))
	if plain.Message != "Error response from daemon: conflict" || plain.MsgID != "" {
		t.Errorf("plain event %+v", plain)
	}
}

package portal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/internal/auth"
	"github.com/stackhub/stackhub/internal/i18n"
	"github.com/stackhub/stackhub/stores"
)

const zhAccept = "zh-CN,zh;q=0.9"

// An operation's error with a catalog message answers in the request's
// language with its app's names in it, keeping its status; in English it
// reads word for word as the CLI's; an error without one stays as it was.
func TestAPIErrorsWithArgumentsInChinese(t *testing.T) {
	e := newEnv(t)
	notInstalled := fmt.Errorf("start nope: %w", i18n.Errorf(appctl.ErrNotInstalled,
		"not installed: no app \"{{.App}}\" is installed; `stackhub apps list` shows the installed apps", "App", "nope"))
	a := fiber.New(fiber.Config{ErrorHandler: e.p.errorHandler})
	a.Get("/api/v1/x", func(c *fiber.Ctx) error { return opError(notInstalled) })
	a.Get("/api/v1/plain", func(c *fiber.Ctx) error { return opError(errors.New("compose: no such service: web")) })
	a.Get("/x", func(c *fiber.Ctx) error { return opError(notInstalled) })
	get := func(path, lang string) (int, string) {
		req := httptest.NewRequest("GET", "https://my."+domain+path, nil)
		req.Header.Set("Accept-Language", lang)
		r, err := a.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(b)
	}
	var out struct{ Error string }
	code, body := get("/api/v1/x", zhAccept)
	if json.Unmarshal([]byte(body), &out); code != 404 || out.Error != "未安装：没有已安装的应用“nope”；应用列表显示已安装的应用" {
		t.Errorf("zh-CN: %d %s", code, body)
	}
	code, body = get("/api/v1/x", "en")
	if json.Unmarshal([]byte(body), &out); code != 404 || out.Error != notInstalled.Error() {
		t.Errorf("en: %d %s", code, body)
	}
	code, body = get("/api/v1/plain", zhAccept)
	if json.Unmarshal([]byte(body), &out); code != 500 || out.Error != "compose: no such service: web" {
		t.Errorf("plain error: %d %s", code, body)
	}
	// The error page too.
	code, body = get("/x", zhAccept)
	if code != 404 || !strings.Contains(body, "没有已安装的应用“nope”") || strings.Contains(body, "is installed") {
		t.Errorf("page: %d %s", code, body)
	}
}

// Progress events, operations and app events reach a Chinese page
// translated from their message IDs; English pages get appctl's words.
func TestProgressAndEventsInChinese(t *testing.T) {
	zh, en := i18n.New("zh-CN"), i18n.New("en")
	ev := appctl.Event{Phase: appctl.PhaseDone, Status: "installed", Message: "Notes is ready at https://notes.home.example",
		MsgID: "{{.Name}} is ready at {{.URL}}", Args: map[string]string{"Name": "Notes", "URL": "https://notes.home.example"}}
	if got := localEvent(zh, ev).Message; got != "Notes 已就绪，地址为 https://notes.home.example" {
		t.Errorf("zh-CN event: %q", got)
	}
	if got := localEvent(en, ev).Message; got != ev.Message {
		t.Errorf("en event: %q", got)
	}
	docker := appctl.Event{Phase: appctl.PhaseCompose, Status: "Started", Message: "container notes-web-1"}
	if got := localEvent(zh, docker); got.Message != docker.Message {
		t.Errorf("Docker's words changed: %q", got.Message)
	}

	ops := &operations{}
	op := ops.start("notes", "install", "ann", func(_ context.Context, progress func(appctl.Event)) error {
		progress(ev)
		return fmt.Errorf("install notes: %w", &appctl.ImageMissingError{Image: "nginx:alpine", Reason: "no route to host"})
	})
	waitDone(t, op)
	v := localOp(zh, op.view())
	if !strings.HasPrefix(v.Error, "镜像 nginx:alpine 不在本机且无法拉取（no route to host）") {
		t.Errorf("zh-CN operation error: %q", v.Error)
	}
	if v.Last == nil || v.Last.MsgID == "" || !strings.Contains(v.Last.Message, "镜像 nginx:alpine") {
		t.Errorf("zh-CN last event: %+v", v.Last)
	}
	if got := localOp(en, op.view()).Error; !strings.HasPrefix(got, "install notes: image nginx:alpine is not on this machine") {
		t.Errorf("en operation error: %q", got)
	}

	evs := []appctl.AppEvent{{Kind: appctl.EventCrashed, Detail: "service web became unhealthy", MsgID: "service {{.Service}} became unhealthy", Args: map[string]string{"Service": "web"}}}
	if got := localAppEvents(zh, evs)[0].Detail; got != "服务 web 变为不健康" {
		t.Errorf("zh-CN app event: %q", got)
	}
	if evs[0].Detail != "service web became unhealthy" {
		t.Error("localAppEvents changed its argument")
	}
}

func waitDone(t *testing.T, op *operation) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if op.view().Done {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("operation did not end")
}

// The sign-in lockout says how long to wait in the page's language.
func TestLockoutMessageInChinese(t *testing.T) {
	e := newEnv(t)
	if _, err := e.a.CreateUser(auth.NewUser{Name: "ann", Role: auth.RoleAdmin, Password: "ann-password-1"}); err != nil {
		t.Fatal(err)
	}
	var r resp
	for i := 0; i < 30; i++ {
		page := e.do("GET", "/login", nil, "Accept-Language", zhAccept)
		r = e.do("POST", "/login", url.Values{"csrf": {csrf(t, page.body)}, "username": {"ann"}, "password": {"wrong-password-1"}}, "Accept-Language", zhAccept)
		if strings.Contains(r.body, "失败次数过多") {
			break
		}
	}
	if !strings.Contains(r.body, "失败次数过多：请在 ") || strings.Contains(r.body, "too many failed attempts") {
		t.Fatalf("lockout page: %d\n%s", r.status, r.body)
	}
}

// What a hazardous setting lets an app do reads in the page's language,
// the setting named in it.
func TestHazardExplanationsInChinese(t *testing.T) {
	h := stores.Hazard{Service: "web", Setting: "cap_add: NET_ADMIN", Reason: "extra kernel capabilities", Name: "cap_add"}
	plain := plainHazard(h)
	d := StoreAppDetail{Hazards: []HazardView{{Hazard: h, Plain: plain.English(), plain: plain}}}
	if d.Hazards[0].Plain != "It gets extra kernel powers (cap_add: NET_ADMIN) beyond what apps normally have." {
		t.Errorf("English: %q", d.Hazards[0].Plain)
	}
	localStoreApp(i18n.New("zh-CN"), &d)
	if d.Hazards[0].Plain != "它获得了超出应用通常权限的额外内核能力（cap_add: NET_ADMIN）。" {
		t.Errorf("Chinese: %q", d.Hazards[0].Plain)
	}
}

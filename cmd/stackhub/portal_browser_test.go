package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/stackhub/stackhub/internal/browsertest"
)

// duoStore writes a folder store holding a two-service app with a form.
func duoStore(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "duo"), 0o755)
	compose := `x-stackhub:
  name: Duo
  tagline: Two services that greet you, for the browser test
  description: |
    A web service and a backing service that keeps a counter.
    Used by StackHub's end-to-end browser test.
  version: "1.0"
  website: https://example.org/duo
  categories: [utilities, developer]
  main: {service: web, port: 8080}
  fields:
    - {key: GREETING, label: Greeting, default: hello, required: true, hint: Shown on the app's page}
    - {key: TOKEN, label: API token, type: password, secret: true, random: true, random_length: 20}
services:
  web:
    image: stackhub-testapp:dev
    pull_policy: never
    environment: {PORT: "8080", NAME: "web-${GREETING}", BACKEND: "http://db:8081"}
    depends_on: [db]
  db:
    image: stackhub-testapp:dev
    pull_policy: never
    environment: {PORT: "8081", NAME: db, DATA_DIR: /data}
    volumes: ["${APP_DATA_DIR}/db:/data"]
`
	if err := os.WriteFile(filepath.Join(dir, "duo", "compose.yaml"), []byte(compose), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// screenshotDir is where the browser test writes its screenshots:
// $STACKHUB_SCREENSHOTS, or stackhub-screenshots in the temp folder.
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("STACKHUB_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "stackhub-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBrowserPortal drives Chromium through the portal as a new owner
// would: first-run setup, TOTP enrolment, installing a two-service app
// from the store page while its progress streams, opening it at its
// subdomain, stopping and starting it, reading its logs live, changing a
// setting, and removing it. Every main page is photographed on a desktop
// (1280×900) and a phone (390×844), and no page may scroll sideways on the
// phone.
func TestBrowserPortal(t *testing.T) {
	exe := browsertest.Chromium(t)
	in := newInstance(t, "localhost")
	in.start()
	in.mustCLI("store", "add", "test", duoStore(t))
	in.mustCLI("apps", "install", "testdata/alpha")
	shots := screenshotDir(t)
	t.Logf("screenshots of the portal: %s", shots)

	br := in.browser(exe)
	bctx, step := br.Ctx, br.Step
	// The page's script errors and console messages, for failures.
	var pageLogMu sync.Mutex
	var pageLog []string
	br.OnFailure = func() {
		pageLogMu.Lock()
		t.Logf("the page's console:\n%s", strings.Join(pageLog, "\n"))
		pageLogMu.Unlock()
		sctx, cancel := context.WithTimeout(bctx, 5*time.Second)
		defer cancel()
		png, _ := chromedp.Run(sctx, chromedp.CaptureScreenshot())
		os.WriteFile(filepath.Join(shots, "failure.png"), png, 0o644)
	}
	must, text, eval := br.Must, br.Text, br.Eval
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		br.Do(what, 60*time.Second, actions...)
	}
	// waitJS polls a JavaScript condition.
	waitJS := func(what, js string, d time.Duration) { t.Helper(); br.WaitJS(what, js, d) }
	// fill sets an input's value as typing would (input event included);
	// press clicks a button the way a user's click reaches it (the click
	// event), without depending on where it is drawn at that moment.
	fill, press, navigate := browsertest.Fill, browsertest.Press, browsertest.Navigate
	// shoot photographs the page on a desktop and a phone, and checks that
	// it does not scroll sideways on the phone.
	shoot := func(name string) {
		t.Helper()
		for _, vp := range []struct {
			suffix string
			w, h   int64
			mobile bool
		}{{"desktop", 1280, 900, false}, {"phone", 390, 844, true}} {
			emulate := chromedp.EmulateViewport(vp.w, vp.h)
			if vp.mobile {
				emulate = chromedp.EmulateViewport(vp.w, vp.h, chromedp.EmulateMobile, chromedp.EmulateScale(2))
			}
			do("viewport for "+name, emulate, chromedp.Sleep(400*time.Millisecond))
			if vp.mobile {
				if w := eval(`document.documentElement.scrollWidth + " " + window.innerWidth`); w != "" {
					var sw, iw int
					fmt.Sscan(w, &sw, &iw)
					if sw > iw {
						wide := eval(`Array.from(document.querySelectorAll("body *")).filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 5).map(e => e.tagName + "." + e.className + "#" + e.id + " " + Math.round(e.getBoundingClientRect().right)).join(", ")`)
						t.Errorf("page %s scrolls sideways on a phone: scrollWidth %d > innerWidth %d (%s)", name, sw, iw, wide)
					}
				}
			}
			eval(`(() => { window.scrollTo(0, 0); return "" })()`)
			png, err := chromedp.Run(step(30*time.Second), chromedp.FullScreenshot(100))
			must("screenshot "+name, err)
			if err := os.WriteFile(filepath.Join(shots, name+"-"+vp.suffix+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		do("desktop viewport", chromedp.EmulateViewport(1280, 900))
	}

	must("listen to the page", chromedp.Listen(bctx, func(ev any) {
		var line string
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			line = "exception: " + e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				line += " " + e.ExceptionDetails.Exception.Description
			}
		case *runtime.EventConsoleAPICalled:
			line = "console." + string(e.Type) + ":"
			for _, a := range e.Args {
				line += " " + string(a.Value) + a.Description
			}
		default:
			return
		}
		pageLogMu.Lock()
		pageLog = append(pageLog, line)
		pageLogMu.Unlock()
	}))

	// First run: the setup page, with the token from the log.
	m := regexp.MustCompile(`"setup_token":\s*"([^"]+)"`).FindStringSubmatch(in.out.String())
	if m == nil {
		t.Fatalf("no setup token in the log:\n%s", in.out)
	}
	do("open the portal", navigate(in.portal("/")), chromedp.WaitVisible(chromedp.CSS("#token")))
	shoot("01-setup")
	do("setup", chromedp.SendKeys(chromedp.CSS("#token"), m[1]), chromedp.SendKeys(chromedp.CSS("#username"), "owner"),
		chromedp.SendKeys(chromedp.CSS("#email"), "owner@example.org"), chromedp.SendKeys(chromedp.CSS("#password"), "owner-password-1"),
		chromedp.Click(chromedp.CSS("#submit")), chromedp.WaitVisible(chromedp.CSS("#username")))
	shoot("02-login")
	do("password", chromedp.SendKeys(chromedp.CSS("#username"), "owner"), chromedp.SendKeys(chromedp.CSS("#password"), "owner-password-1"),
		chromedp.Click(chromedp.CSS("#submit")), chromedp.WaitVisible(chromedp.CSS("#manualkey")))
	waitJS("the QR code", `(() => { const i = document.querySelector("img.qr"); return !!(i && i.complete && i.naturalWidth > 0) })()`, 15*time.Second)
	shoot("03-enrol")
	key := strings.ReplaceAll(strings.TrimSpace(text("#manualkey")), " ", "")
	code, err := totp.GenerateCode(key, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	do("enrol", chromedp.SendKeys(chromedp.CSS("#code"), code), chromedp.Click(chromedp.CSS("#submit")), chromedp.WaitVisible(chromedp.CSS("#codes")))
	shoot("04-recovery-codes")
	do("continue", chromedp.Click(chromedp.CSS("#continue")), chromedp.WaitVisible(chromedp.CSS("#apps")))

	// Home: the app installed by the CLI, live figures.
	waitJS("live system figures", `document.querySelector('[data-stat="cpu"]').textContent.includes("%")`, 30*time.Second)
	if s := eval(`document.querySelector('[data-card="alpha"] [data-status]').textContent`); s != "running" {
		t.Errorf("alpha's status on the home page: %q", s)
	}
	waitJS("alpha's own figures", `document.querySelector('[data-card="alpha"] [data-usage]').textContent.includes("CPU")`, 30*time.Second)
	shoot("05-home")

	// Store: find the app, open its page, install it.
	do("store", navigate(in.portal("/store")), chromedp.WaitVisible(chromedp.CSS(`[data-ref="test/duo"]`)))
	shoot("06-store")
	do("search the store", fill("#store-search", "greet"))
	if hidden := eval(`String(document.querySelector('[data-ref="builtin/whoami"]') ? document.querySelector('[data-ref="builtin/whoami"]').hidden : "absent")`); hidden != "true" && hidden != "absent" {
		t.Errorf("searching the store for greet still shows whoami (hidden=%s)", hidden)
	}
	do("open the app's page", chromedp.Click(chromedp.CSS(`[data-ref="test/duo"]`)), chromedp.WaitVisible(chromedp.CSS("#install-form")))
	waitJS("the subdomain check", `document.getElementById("subdomain-status").textContent.includes("free")`, 15*time.Second)
	if v := eval(`document.querySelector('[data-key="TOKEN"]').type + " " + document.querySelector('[data-key="TOKEN"]').value.length`); v != "password 20" {
		t.Errorf("secret field: %q, want a masked generated value", v)
	}
	if n := eval(`String(document.querySelectorAll(".req").length)`); n != "1" {
		t.Errorf("%s fields marked required, want 1", n)
	}
	shoot("07-store-app")
	do("taken subdomain", fill("#subdomain", "alpha"))
	waitJS("the subdomain refused", `document.getElementById("subdomain-status").textContent.includes("already the address of app alpha")`, 15*time.Second)
	do("free subdomain", fill("#subdomain", "duo"), fill(`[data-key="GREETING"]`, "browser"))
	waitJS("the subdomain accepted", `document.getElementById("subdomain-status").textContent.includes("free")`, 15*time.Second)
	do("install", press("#install"), chromedp.WaitVisible(chromedp.CSS("#progress")))
	waitJS("install progress", `document.querySelectorAll("[data-op-steps] li").length > 0`, 30*time.Second)
	do("install finished", chromedp.WaitVisible(chromedp.CSS("#install-done")))
	steps := eval(`Array.from(document.querySelectorAll("[data-op-steps] li")).map(l => l.dataset.step + ":" + l.className).join(" ")`)
	for _, want := range []string{"validate:done", "image:done", "compose:container:done", "wait:done"} {
		if !strings.Contains(steps, want) {
			t.Errorf("install steps %q lack %s", steps, want)
		}
	}
	if imgs := text("[data-op-images]"); !strings.Contains(imgs, "stackhub-testapp:dev") {
		t.Errorf("image progress: %q", imgs)
	}
	shoot("08-install-done")

	// Open it at its subdomain (through the portal's hand-over).
	do("open the app", press("#open-app"), chromedp.Sleep(time.Second), chromedp.WaitReady(chromedp.CSS("body")))
	loc, _ := chromedp.Run(step(10*time.Second), chromedp.Location())
	if body := text("body"); !strings.HasPrefix(loc, in.url("duo", "/")) || !strings.HasPrefix(strings.TrimSpace(body), "hello from web-browser") {
		t.Fatalf("opening the app: at %s, page %q", loc, body)
	}

	// Its page: stop, start, logs, settings.
	appPage := in.portal("/apps/duo")
	do("app page", navigate(appPage), chromedp.WaitVisible(chromedp.CSS("#app")))
	waitJS("resource use", `document.getElementById("app-usage").textContent.includes("CPU")`, 30*time.Second)
	shoot("09-app")
	do("stop", press("#stop"))
	waitJS("stopped", `document.querySelector("h1 [data-status]").textContent === "stopped"`, 90*time.Second)
	do("start", press("#start"))
	waitJS("running again", `document.querySelector("h1 [data-status]").textContent === "running"`, 90*time.Second)

	do("logs", chromedp.Click(chromedp.CSS(`a[href="#logs"]`)))
	waitJS("live logs", `document.getElementById("log").textContent.includes("web-browser listening")`, 30*time.Second)
	do("search in logs", fill("#log-search", "db listening"))
	if n := eval(`String(Array.from(document.querySelectorAll("#log div")).filter(d => !d.classList.contains("hide")).every(d => d.textContent.includes("db listening")))`); n != "true" {
		t.Errorf("log search left other lines visible")
	}
	shoot("10-app-logs")

	do("settings", chromedp.Click(chromedp.CSS(`a[href="#settings"]`)), chromedp.WaitVisible(chromedp.CSS(`#s-GREETING`)))
	if v := eval(`document.getElementById("s-GREETING").value + "|" + document.getElementById("s-TOKEN").value`); v != "browser|" {
		t.Errorf("settings form shows %q (the secret must not be shown)", v)
	}
	shoot("11-app-settings")
	do("change a setting", fill("#s-GREETING", "changed"), press("#settings-save"))
	waitJS("recreated", `document.querySelector("#progress [data-op-result]").textContent.includes("recreated with them")`, 120*time.Second)
	do("the app after the change", navigate(in.url("duo", "/")), chromedp.Sleep(time.Second), chromedp.WaitReady(chromedp.CSS("body")))
	if body := text("body"); !strings.HasPrefix(strings.TrimSpace(body), "hello from web-changed") {
		t.Errorf("after the settings change the app says %q", body)
	}
	// A new address, from the overview.
	do("overview", navigate(appPage), chromedp.WaitVisible(chromedp.CSS("#move-sub")), fill("#move-sub", "greeter"))
	waitJS("the new address checked", `document.getElementById("move-status").textContent.includes("free")`, 15*time.Second)
	do("move", press("#move"))
	waitJS("moved", `document.querySelector("#progress [data-op-result]").textContent.includes("now answers at")`, 120*time.Second)
	if link := eval(`document.getElementById("app-url").textContent`); !strings.HasPrefix(link, in.url("greeter", "/")) {
		t.Errorf("the app's link after the move: %q", link)
	}
	do("the app at its new address", navigate(in.url("greeter", "/")), chromedp.Sleep(time.Second), chromedp.WaitReady(chromedp.CSS("body")))
	if body := text("body"); !strings.HasPrefix(strings.TrimSpace(body), "hello from web-changed") {
		t.Errorf("at the new address the app says %q", body)
	}
	do("access tab", navigate(appPage+"#access"), chromedp.WaitVisible(chromedp.CSS("#policy-form")))
	shoot("12-app-access")

	// The other main pages.
	do("own app page", navigate(in.portal("/store/new")), chromedp.WaitVisible(chromedp.CSS("#own-form")))
	do("broken compose file", fill("#own-id", "mine"), fill("#own-compose", "services:\n  web:\n    image: [oops\n"), press("#install"))
	waitJS("the error at its line", `!document.getElementById("own-lines").hidden && !!document.querySelector("#own-lines li.err")`, 30*time.Second)
	shoot("13-own-app")
	do("admin page", navigate(in.portal("/admin")), chromedp.WaitVisible(chromedp.CSS("#stores")))
	if s := text("#stores"); !strings.Contains(s, "test") {
		t.Errorf("stores on the admin page: %q", s)
	}
	if s := text("#domain"); !strings.Contains(s, "greeter.localhost") {
		t.Errorf("hosts on the admin page: %q", s)
	}
	shoot("14-admin")
	do("account page", navigate(in.portal("/account")), chromedp.WaitVisible(chromedp.CSS("#signout-all")))
	shoot("15-account")

	// Remove it, confirming with its name.
	do("app page again", navigate(appPage), chromedp.WaitVisible(chromedp.CSS("#app")), press("#remove"), chromedp.WaitVisible(chromedp.CSS("#confirm-name")))
	if d := eval(`String(document.getElementById("remove-confirm").disabled)`); d != "true" {
		t.Error("remove is possible without typing the app's name")
	}
	do("confirm removal", press("#keep-data"), chromedp.SendKeys(chromedp.CSS("#confirm-name"), "duo"), press("#remove-confirm"))
	do("removed", chromedp.WaitVisible(chromedp.CSS("#removed")))
	shoot("16-app-removed")
	if out := in.mustCLI("apps", "list"); strings.Contains(out, "duo") {
		t.Errorf("duo still listed after removal:\n%s", out)
	}
}

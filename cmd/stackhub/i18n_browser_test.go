package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/pquerna/otp/totp"

	"github.com/stackhub/stackhub/internal/browsertest"
	"github.com/stackhub/stackhub/internal/i18n"
)

// englishTexts are the catalog's English texts that Chinese says
// differently (placeholder messages left out): none may show on a Chinese
// page.
func englishTexts(t *testing.T) []string {
	ids, err := i18n.IDs("en")
	if err != nil {
		t.Fatal(err)
	}
	en, zh := i18n.New("en"), i18n.New("zh-CN")
	var out []string
	for _, id := range ids {
		if strings.Contains(id, "{{") || strings.HasPrefix(id, "N apps") || strings.HasPrefix(id, "Authenticator active") {
			continue
		}
		if e := en.T(id); e != zh.T(id) {
			out = append(out, e)
		}
	}
	return out
}

// englishFragments are the fixed words of the catalog's messages with
// placeholders ("{{.Name}} is ready at {{.URL}}" gives "is ready at"):
// appctl's progress, events and errors, filled in with names. A fragment
// of three words or more on a Chinese page is a message left in English.
func englishFragments(t *testing.T) []string {
	ids, err := i18n.IDs("en")
	if err != nil {
		t.Fatal(err)
	}
	zh := i18n.Messages("zh-CN", ids)
	seen := map[string]bool{}
	var out []string
	for _, id := range ids {
		if !strings.Contains(id, "{{") || zh[id] == id {
			continue
		}
		for _, f := range placeholderRe.Split(id, -1) {
			f = strings.TrimSpace(strings.Trim(strings.TrimSpace(f), ",:;()\"“”"))
			if strings.Count(f, " ") >= 2 && !seen[f] && !strings.Contains(zh[id], f) {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	return out
}

var placeholderRe = regexp.MustCompile(`\{\{\.\w+\}\}`)

// visibleTextsJS lists the page's visible text nodes and the labels people
// hear or read in attributes (aria-label, placeholder, title, alt), leaving
// out code, logs and the language switch (each language's own name).
const visibleTextsJS = `(() => {
  const out = [];
  const skip = e => e.closest("code, pre, script, style, .langs, [hidden]");
  const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = w.nextNode(); n; n = w.nextNode()) {
    const e = n.parentElement, s = n.textContent.trim();
    if (!s || !e || skip(e) || (e.checkVisibility && !e.checkVisibility())) continue;
    out.push(s);
  }
  for (const e of document.querySelectorAll("[aria-label], [placeholder], [title], img[alt]")) {
    if (skip(e)) continue;
    for (const a of ["aria-label", "placeholder", "title", "alt"]) {
      const v = (e.getAttribute(a) || "").trim();
      if (v) out.push(v);
    }
  }
  out.push(document.title);
  return JSON.stringify(out);
})()`

// TestBrowserChinese drives Chromium with Accept-Language zh-CN, by
// keyboard alone through the sign-in (Tab and Enter) into an app, then
// over the main pages: each is in Chinese (<html lang="zh-CN">, no English
// text of the catalog among its visible texts), then again in dark mode
// (prefers-color-scheme: dark), photographed.
func TestBrowserChinese(t *testing.T) {
	exe := browsertest.Chromium(t)
	in := newInstance(t, "localhost")
	in.start()
	in.mustCLI("store", "add", "test", duoStore(t))
	in.mustCLI("apps", "install", "testdata/alpha")
	in.mustCLI("user", "add", "lin", "--admin", "--password", "lin-password-1")
	shots := filepath.Join(screenshotDir(t), "zh-CN")
	os.MkdirAll(shots, 0o755)
	t.Logf("screenshots: %s", shots)
	english := englishTexts(t)
	fragments := englishFragments(t)

	br := in.browser(exe, chromedp.Flag("lang", "zh-CN"), chromedp.Flag("accept-lang", "zh-CN,zh"))
	br.Dump = "body"
	step := func() context.Context { return br.Step(60 * time.Second) }
	must, eval := br.Must, br.Eval
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		br.Do(what, 60*time.Second, actions...)
	}
	waitJS := func(what, js string) { t.Helper(); br.WaitJS(what, js, 30*time.Second) }
	// waitLong waits up to two minutes (an operation on containers).
	waitLong := func(what, js string) { t.Helper(); br.WaitJS(what, js, 120*time.Second) }
	keys := func(what, k string) { t.Helper(); do(what, chromedp.KeyEvent(k)) }
	// tabTo presses Tab until the focused element matches sel.
	tabTo := func(sel string) {
		t.Helper()
		for range 60 {
			if eval(fmt.Sprintf(`String(!!(document.activeElement && document.activeElement.matches(%q)))`, sel)) == "true" {
				return
			}
			keys("Tab", kb.Tab)
		}
		t.Fatalf("Tab never reached %s (focus on %s)", sel, eval(`document.activeElement ? document.activeElement.outerHTML.slice(0, 200) : "nothing"`))
	}
	// chinese checks the page is in Chinese with no English catalog text.
	chinese := func(page string) {
		t.Helper()
		if l := eval(`document.documentElement.lang`); l != "zh-CN" {
			t.Errorf("%s: <html lang=%q>", page, l)
		}
		var texts []string
		if err := json.Unmarshal([]byte(eval(visibleTextsJS)), &texts); err != nil {
			t.Fatal(err)
		}
		for _, s := range texts {
			for _, e := range english {
				if s == e || (strings.Count(e, " ") >= 2 && strings.Contains(s, e)) {
					t.Errorf("%s shows the English %q (in %q)", page, e, s)
				}
			}
			for _, f := range fragments {
				if strings.Contains(s, f) {
					t.Errorf("%s shows an English message: %q (in %q)", page, f, s)
				}
			}
		}
	}

	// Keyboard only: the sign-in, the enrolment, into an app.
	do("the sign-in page", chromedp.Navigate(in.portal("/login")), chromedp.WaitVisible(chromedp.CSS("#username")))
	chinese("sign-in")
	if f := eval(`document.activeElement.id`); f != "username" {
		t.Fatalf("the sign-in page starts with focus on %q", f)
	}
	keys("user name", "lin")
	tabTo("#password")
	keys("password", "lin-password-1"+kb.Enter)
	do("enrolment page", chromedp.WaitVisible(chromedp.CSS("#manualkey")))
	chinese("enrolment")
	key := strings.ReplaceAll(strings.TrimSpace(eval(`document.getElementById("manualkey").textContent`)), " ", "")
	code, err := totp.GenerateCode(key, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tabTo("#code")
	keys("code", code+kb.Enter)
	do("recovery codes", chromedp.WaitVisible(chromedp.CSS("#codes")))
	chinese("recovery codes")
	tabTo("#continue")
	keys("continue", kb.Enter)
	do("home", chromedp.WaitVisible(chromedp.CSS("#apps")))
	waitJS("live figures", `document.querySelector('[data-stat="cpu"]').textContent.includes("%")`)
	chinese("home")
	tabTo(`a.app-open[data-app="alpha"]`)
	if o := eval(`getComputedStyle(document.activeElement).outlineStyle`); o == "none" {
		t.Error("the focused app link shows no focus outline")
	}
	keys("open alpha", kb.Enter)
	// The hand-over navigates twice: ask for the address until it settles.
	for i := 0; ; i++ {
		loc, err := chromedp.Run(step(), chromedp.Location())
		if err == nil && strings.HasPrefix(loc, in.url("alpha", "/")) {
			break
		}
		if i == 60 {
			t.Fatalf("Enter on alpha's card did not open alpha: at %s (%v)", loc, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	do("alpha answers", chromedp.WaitReady(chromedp.CSS("body")))
	if body := eval(`document.body.innerText`); !strings.Contains(body, "hello") {
		t.Errorf("alpha after Enter: %q", body)
	}

	// fill types into a field as a user does (an input event follows);
	// press clicks a button wherever it is drawn.
	fill, press := browsertest.Fill, browsertest.Press
	// Install from the store with the progress streaming, a refused
	// address on the way, then stop the app and change a setting: every
	// message appctl builds with names in (progress, results, errors, the
	// events list) shows in Chinese.
	do("duo's store page", chromedp.Navigate(in.portal("/store/test/duo")), chromedp.WaitVisible(chromedp.CSS("#install-form")))
	do("a taken address", fill("#subdomain", "alpha"))
	waitJS("the address refused in Chinese", `document.getElementById("subdomain-status").textContent.includes("已是应用 alpha 的地址")`)
	chinese("store app, address taken")
	do("a free address", fill("#subdomain", "duo"))
	waitJS("the address accepted", `document.getElementById("subdomain-status").textContent.includes("duo.localhost")`)
	do("install", press("#install"), chromedp.WaitVisible(chromedp.CSS("#progress")))
	waitJS("install progress", `document.querySelectorAll("#progress [data-op-steps] li").length > 0`)
	chinese("install progress")
	waitLong("install finished", `document.getElementById("install-done")`)
	if r := eval(`document.querySelector("#progress [data-op-result]").textContent + " | " + document.querySelector("#progress [data-op-title]").textContent`); !strings.Contains(r, "Duo 已就绪，地址为 https://duo.localhost") || !strings.Contains(r, "已安装") {
		t.Errorf("install result: %q", r)
	}
	chinese("install done")
	appPage := in.portal("/apps/duo")
	do("duo's page", chromedp.Navigate(appPage), chromedp.WaitVisible(chromedp.CSS("#app")), press("#stop"))
	waitLong("stopped", `document.querySelector("h1 [data-status]").getAttribute("data-status") === "stopped"`)
	chinese("app stopped")
	do("start again", press("#start"))
	waitLong("running again", `document.querySelector("h1 [data-status]").getAttribute("data-status") === "running"`)
	do("settings", press(`a[href="#settings"]`), chromedp.WaitVisible(chromedp.CSS("#s-GREETING")),
		fill("#s-GREETING", "changed"), press("#settings-save"))
	waitLong("recreated, said in Chinese", `document.querySelector("#progress [data-op-result]").textContent.includes("设置已保存；已用新设置重建 Duo")`)
	chinese("settings saved")
	do("events", chromedp.Navigate(appPage), chromedp.WaitVisible(chromedp.CSS("#app")), press(`a[href="#events"]`), chromedp.WaitVisible(chromedp.CSS("#event-list")))
	if ev := eval(`document.getElementById("event-list").textContent`); !strings.Contains(ev, "Duo 已就绪，地址为") || !strings.Contains(ev, "已用新设置重建 Duo") {
		t.Errorf("events list: %q", ev)
	}
	chinese("events")

	// The main pages in Chinese, then in dark mode.
	do("store", chromedp.Navigate(in.portal("/store")), chromedp.WaitVisible(chromedp.CSS(".store-card")))
	storeApp := eval(`document.querySelector(".store-card").getAttribute("href")`)
	pages := []struct{ name, path, ready string }{
		{"home", "/", "#apps"},
		{"store", "/store", ".store-card"},
		{"store-app", storeApp, ".app-hero"},
		{"app", "/apps/alpha", "#app"},
		{"own-app", "/store/new", "#own-form"},
		{"admin", "/admin", "#stores"},
		{"account", "/account", "#password-form"},
		{"passkeys", "/account/passkeys", "main"},
	}
	for _, p := range pages {
		do(p.name, chromedp.Navigate(in.portal(p.path)), chromedp.WaitVisible(chromedp.CSS(p.ready)), chromedp.Sleep(500*time.Millisecond))
		chinese(p.name)
	}
	must("dark mode", chromedp.Do(step(), func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
		return chromedp.Void{}, err
	}))
	for _, p := range pages {
		do(p.name+" (dark)", chromedp.Navigate(in.portal(p.path)), chromedp.WaitVisible(chromedp.CSS(p.ready)), chromedp.Sleep(500*time.Millisecond))
		if bg := eval(`getComputedStyle(document.body).backgroundColor`); bg != "rgb(15, 19, 26)" {
			t.Errorf("%s in dark mode has the background %s", p.name, bg)
		}
		png, err := chromedp.Run(step(), chromedp.FullScreenshot(90))
		must("screenshot "+p.name, err)
		if err := os.WriteFile(filepath.Join(shots, p.name+"-dark.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The theme switch overrides the system: light, saved for the user.
	do("light theme", chromedp.Navigate(in.portal("/account")), chromedp.WaitVisible(chromedp.CSS("#theme-light")), chromedp.Click(chromedp.CSS("#theme-light")), chromedp.WaitVisible(chromedp.CSS("#password-form")))
	if th := eval(`document.documentElement.dataset.theme + " " + getComputedStyle(document.body).backgroundColor`); th != "light rgb(244, 246, 250)" {
		t.Errorf("after choosing light: %q", th)
	}
}

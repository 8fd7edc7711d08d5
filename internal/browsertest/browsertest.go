// Package browsertest is the harness shared by the browser tests (cmd/stackhub,
// portal): finding Chromium, starting it headless with the flags the project
// requires (in a network namespace of its own where it can), step contexts
// with timeouts, and the helpers every browser test uses. Only tests import
// it.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Chromium returns the path of a Chromium (Debian's package: `apt-get
// install chromium`; `make deps` installs it when run as root). Without
// one the browser test is skipped locally and fails in CI (CI=true).
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium for the browser test: install Debian's chromium package (make deps as root)")
	}
	t.Skip("no Chromium: skipping the browser test (install Debian's chromium package, e.g. `sudo apt-get install -y chromium`)")
	return ""
}

// Browser is one headless Chromium for one test.
type Browser struct {
	t testing.TB
	// Ctx is the browser's context: it lives until the test ends, so that
	// a failure can still ask the browser where it is.
	Ctx context.Context
	// Dump is the selector whose HTML Must prints on a failure ("main"
	// unless set).
	Dump string
	// OnFailure, when set, adds diagnostics of its own before Must fails.
	OnFailure func()
}

// Start starts Chromium (exe, from Chromium or Isolated) headless with the
// project's flags (no sandbox, no GPU, no background networking, a
// 1280×900 window) and extra options, and ends it with the test.
func Start(t testing.TB, exe string, extra ...chromedp.ExecAllocatorOption) *Browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(opts, extra...)...)
	bctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &Browser{t: t, Ctx: bctx, Dump: "main"}
	// The first action starts the browser and binds it to Ctx.
	b.Must("start Chromium", chromedp.Do(bctx))
	return b
}

// Step returns a context for one step of d, within the browser's.
func (b *Browser) Step(d time.Duration) context.Context {
	c, cancel := context.WithTimeout(b.Ctx, d)
	b.t.Cleanup(cancel)
	return c
}

// Must fails the test when err is set, saying what failed, where the
// browser is and the HTML of b.Dump.
func (b *Browser) Must(what string, err error) {
	b.t.Helper()
	if err == nil {
		return
	}
	if b.OnFailure != nil {
		b.OnFailure()
	}
	sctx, cancel := context.WithTimeout(b.Ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(sctx, chromedp.Location())
	html, _ := chromedp.Run(sctx, chromedp.OuterHTML(chromedp.CSS(b.Dump)))
	b.t.Fatalf("%s: %v\nat %s:\n%s", what, err, loc, html)
}

// Do runs actions as one step of at most d.
func (b *Browser) Do(what string, d time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	b.Must(what, chromedp.Do(b.Step(d), actions...))
}

// Text returns the text of the first element sel (CSS) matches.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.Step(30*time.Second), chromedp.Text(chromedp.CSS(sel)))
	b.Must("text of "+sel, err)
	return s
}

// Location returns the address of the page.
func (b *Browser) Location() string {
	b.t.Helper()
	loc, err := chromedp.Run(b.Step(30*time.Second), chromedp.Location())
	b.Must("location", err)
	return loc
}

// Eval returns the string a JavaScript expression evaluates to.
func (b *Browser) Eval(js string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.Step(30*time.Second), chromedp.Evaluate[string](js))
	b.Must("evaluate "+js, err)
	return s
}

// WaitJS polls a JavaScript condition (an exception counts as false) for
// up to d.
func (b *Browser) WaitJS(what, js string, d time.Duration) {
	b.t.Helper()
	guarded := "(() => { try { return !!(" + js + ") } catch (e) { return false } })()"
	_, err := chromedp.Run(b.Step(d+5*time.Second), chromedp.Poll[bool](guarded, chromedp.WithPollingInterval(200*time.Millisecond), chromedp.WithPollingTimeout(d)))
	b.Must("wait for "+what, err)
}

// Script runs JavaScript statements on the page.
func Script(code string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool]("(() => { "+code+"; return true })()")(ctx, tg)
		return err
	})
}

// Fill sets an input's value as typing would (an input event follows).
func Fill(sel, value string) chromedp.Action[chromedp.Void] {
	return Script(fmt.Sprintf(`const e = document.querySelector(%q); e.focus(); e.value = %q; e.dispatchEvent(new Event("input", {bubbles: true}))`, sel, value))
}

// Press waits until sel is visible and clicks it the way a user's click
// reaches it (the click event), wherever it is drawn at that moment.
func Press(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := chromedp.WaitVisible(chromedp.CSS(sel))(ctx, tg); err != nil {
			return err
		}
		_, err := Script(fmt.Sprintf(`const e = document.querySelector(%q); e.scrollIntoView({block: "center"}); e.click()`, sel))(ctx, tg)
		return err
	})
}

// Navigate opens u, again when Chromium reports a network change: Docker
// adding or removing a network (another test's app) makes a Chromium on
// the host's network abort loads in flight with ERR_NETWORK_CHANGED.
func Navigate(u string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		var err error
		for range 5 {
			if _, err = chromedp.Navigate(u)(ctx, tg); err == nil || !strings.Contains(err.Error(), "ERR_NETWORK_CHANGED") {
				return err
			}
			time.Sleep(time.Second)
		}
		return err
	})
}

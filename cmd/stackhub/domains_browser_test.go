package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/stackhub/stackhub/internal/browsertest"
)

// TestBrowserDomains drives the app page's Domains section in Chromium: a
// name whose DNS does not point at the box is refused with the record to
// create, "Check again" checks again and says it is not there yet, the
// same name with the DNS check skipped is added and listed, and Remove
// takes it away. The session is signed in over HTTP first and handed to
// the browser (TestBrowserPortal covers the sign-in pages).
func TestBrowserDomains(t *testing.T) {
	exe := browsertest.Chromium(t)
	in := newInstance(t, "localhost")
	in.start()
	in.mustCLI("apps", "install", "testdata/alpha", "--public")
	in.mustCLI("user", "add", "dora", "--admin", "--password", "dora-password-1")
	b := in.newBrowserish()
	page := in.portal("/apps/alpha")
	b.open("dora", "dora-password-1", "", page)
	pu, _ := url.Parse(page)

	br := in.browser(exe)
	br.Dump = "#domains"
	step := func() context.Context { return br.Step(60 * time.Second) }
	must, eval := br.Must, br.Eval
	waitJS := func(what, js string) { t.Helper(); br.WaitJS(what, js, 40*time.Second) }
	// act runs a statement on the page (typing, a click, a checkbox).
	act := func(js string) { t.Helper(); eval("(() => { " + js + "; return '' })()") }

	must("hand the session over", chromedp.Do(step(), func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		yes := true
		for _, ck := range b.c.Jar.Cookies(pu) {
			if _, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: ck.Name, Value: ck.Value, URL: in.portal("/"), Path: "/", Secure: &yes, HTTPOnly: &yes}); err != nil {
				return chromedp.Void{}, err
			}
		}
		return chromedp.Void{}, nil
	}))
	must("open the Domains section", chromedp.Do(step(), chromedp.Navigate(page+"#domains"), chromedp.WaitVisible(chromedp.CSS("#domain-name"))))
	waitJS("the empty list", `!document.getElementById("domains-none").hidden && document.getElementById("domains-loading").hidden`)
	if got := eval(`document.querySelector("label[for=domain-name]").textContent`); got != "Domain name" {
		t.Errorf("the name field's label is %q", got)
	}

	// A name that does not resolve: refused, with the record to create.
	name := "www.nowhere.invalid"
	act(fmt.Sprintf(`const n = document.getElementById("domain-name"); n.focus(); n.value = %q; n.dispatchEvent(new Event("input", {bubbles: true}))`, name))
	act(`document.getElementById("domain-form").requestSubmit()`)
	waitJS("the refusal", `!document.getElementById("domain-refusal").hidden`)
	if rec := eval(`document.getElementById("domain-record").textContent`); rec != name+". CNAME alpha.localhost." {
		t.Errorf("record to create: %q", rec)
	}
	if title := eval(`document.getElementById("domain-refusal-title").textContent`); !strings.Contains(title, name+" does not point at this StackHub yet.") {
		t.Errorf("refusal: %q", title)
	}
	if st := eval(`document.getElementById("domain-status").textContent`); !strings.Contains(st, "Create the record below, then check again") {
		t.Errorf("status after the refusal: %q", st)
	}
	if f := eval(`document.activeElement ? document.activeElement.id : ""`); f != "domain-refusal" {
		t.Errorf("focus after the refusal on %q, want the explanation", f)
	}
	if out := in.mustCLI("apps", "domain", "list", "alpha"); strings.Contains(out, name) {
		t.Errorf("a refused name was added:\n%s", out)
	}

	// Check again: still not there.
	act(`document.getElementById("domain-recheck").click()`)
	waitJS("the second check", `/not yet/.test(document.getElementById("domain-status").textContent)`)

	// Skip the check: added and listed as an alias.
	act(`document.getElementById("domain-force").click()`)
	act(`document.getElementById("domain-add").click()`)
	waitJS("the new row", fmt.Sprintf(`document.querySelector('tr[data-domain=%q]')`, name))
	if kind := eval(fmt.Sprintf(`document.querySelector('tr[data-domain=%q] td[data-label=Kind]').textContent`, name)); kind != "serves the app" {
		t.Errorf("kind: %q", kind)
	}
	if st := eval(`document.getElementById("domain-status").textContent`); !strings.Contains(st, name+" added") {
		t.Errorf("status after adding: %q", st)
	}
	waitJS("the row's DNS state", fmt.Sprintf(`/does not point here/.test(document.querySelector('tr[data-domain=%q] td[data-label=DNS]').textContent)`, name))
	if out := in.mustCLI("apps", "domain", "list", "alpha"); !strings.Contains(out, name) {
		t.Errorf("the added name is not listed by the CLI:\n%s", out)
	}

	// Remove, after the confirmation.
	act(`window.confirm = () => true`)
	if lbl := eval(fmt.Sprintf(`document.querySelector('tr[data-domain=%q] button').getAttribute("aria-label")`, name)); lbl != "Remove "+name {
		t.Errorf("remove button's label: %q", lbl)
	}
	act(fmt.Sprintf(`document.querySelector('tr[data-domain=%q] button').click()`, name))
	waitJS("the empty list again", `!document.getElementById("domains-none").hidden`)
	if out := in.mustCLI("apps", "domain", "list", "alpha"); strings.Contains(out, name) {
		t.Errorf("the removed name is still listed:\n%s", out)
	}
}

package main

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/stackhub/stackhub/internal/browsertest"
)

// TestBrowserPasskeys drives Chromium with a virtual authenticator (CTAP2,
// internal transport, resident keys, user verification) against the real
// binary: sign in with password and TOTP, add a passkey on the account
// page, sign out, sign in with the passkey alone and land on the app; then
// require passkeys for admins: password and code are refused, a recovery
// code still works.
func TestBrowserPasskeys(t *testing.T) {
	exe := browsertest.Chromium(t)
	in := newInstance(t, "localhost")
	in.start()
	in.mustCLI("apps", "install", "testdata/alpha")
	in.mustCLI("user", "add", "erin", "--admin", "--password", "erin-password-1")

	br := in.browser(exe)
	br.Dump = "html"
	step := func() context.Context { return br.Step(30 * time.Second) }
	must, text, location := br.Must, br.Text, br.Location
	// again runs a sequence that starts with a navigation, once more when
	// Chromium aborted it because Docker changed the host's networks
	// (another test's app): the page is then chrome-error://.
	again := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		var err error
		for range 4 {
			if err = chromedp.Do(step(), steps...); err == nil {
				return
			}
			if loc, _ := chromedp.Run(step(), chromedp.Location()); !strings.HasPrefix(loc, "chrome-error:") {
				break
			}
			time.Sleep(time.Second)
		}
		must(what, err)
	}
	// check ticks a checkbox (idempotent, unlike a click).
	check := func(sel string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := chromedp.Evaluate[bool](`(document.querySelector(`+"`"+sel+"`"+`).checked = true)`)(ctx, tg)
			return chromedp.Void{}, err
		}
	}
	// The virtual authenticator: a platform passkey with a PIN or
	// biometric that always verifies.
	must("virtual authenticator", chromedp.Do(step(), func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		if _, err := cdp.Call(ctx, tg, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return chromedp.Void{}, err
		}
		_, err := cdp.Call(ctx, tg, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
				Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true,
				HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
			}})
		return chromedp.Void{}, err
	}))

	// Password, TOTP enrolment, recovery codes. The secret and the code
	// are read inside the sequence, so a retry enrols afresh.
	var secret string
	var enrolledAt time.Time
	enrol := func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		key, err := chromedp.Text("#manualkey")(ctx, tg)
		if err != nil {
			return chromedp.Void{}, err
		}
		secret = strings.ReplaceAll(strings.TrimSpace(key), " ", "")
		code, err := totp.GenerateCode(secret, time.Now())
		if err != nil {
			return chromedp.Void{}, err
		}
		enrolledAt = time.Now()
		return chromedp.SendKeys("#code", code)(ctx, tg)
	}
	again("password and enrolment",
		chromedp.Navigate(in.portal("/login")), chromedp.WaitVisible("#username"),
		chromedp.SendKeys("#username", "erin"), chromedp.SendKeys("#password", "erin-password-1"),
		chromedp.Click("#submit"), chromedp.WaitVisible("#manualkey"),
		enrol, chromedp.Click("#submit"), chromedp.WaitVisible("#codes"))
	recovery := strings.Fields(text("#codes"))
	if len(recovery) == 0 {
		t.Fatal("no recovery codes shown")
	}

	// Add a passkey on the account page.
	again("add passkey",
		chromedp.Navigate(in.portal("/account")), chromedp.WaitVisible("#passkeys-link"), chromedp.Click("#passkeys-link"),
		chromedp.WaitVisible("#passkey-add-go"), chromedp.Click("#passkey-add-go"),
		chromedp.WaitVisible("#passkey-list"))
	if list := text("#passkey-list"); !strings.Contains(list, "Passkey") {
		t.Fatalf("passkey list: %q", list)
	}

	// Signed out, the app leads to the sign-in; the passkey alone signs in
	// and lands on the page asked for.
	target := in.url("alpha", "/welcome?from=passkey")
	signOut := func() {
		t.Helper()
		again("sign out", chromedp.Navigate(in.portal("/account")), chromedp.WaitVisible("#passkeys-link"),
			chromedp.Click("#signout"), chromedp.WaitVisible("#username"))
	}
	signOut()
	again("open the app", chromedp.Navigate(target), chromedp.WaitVisible("#passkey-signin"))
	if loc := location(); !strings.HasPrefix(loc, in.portal("/login?rd=")) {
		t.Fatalf("signed-out visit landed on %s", loc)
	}
	again("passkey sign-in",
		chromedp.Navigate(in.portal("/login?rd="+url.QueryEscape(target))), chromedp.WaitVisible("#passkey-signin"),
		chromedp.Click("#passkey-signin"), chromedp.WaitVisible("#passkey-go"), chromedp.Click("#passkey-go"),
		chromedp.Sleep(2*time.Second), chromedp.WaitReady("body"))
	if loc, body := location(), text("body"); loc != target || !strings.HasPrefix(strings.TrimSpace(body), "hello from alpha") {
		t.Fatalf("after passkey sign-in: at %s, page %q", loc, body)
	}

	// Require passkeys for admins.
	again("require passkeys",
		chromedp.Navigate(in.portal("/account/passkeys")), chromedp.WaitVisible("#passkey-required"),
		check("#passkey-required"), chromedp.Submit("#passkey-required"),
		chromedp.WaitVisible("#passkey-list"))
	if on, err := chromedp.Run(step(), chromedp.Evaluate[bool](`document.getElementById("passkey-required").checked`)); err != nil || !on {
		t.Fatalf("the requirement did not stay on (%v)", err)
	}
	signOut()
	// A fresh TOTP step, so the code is not refused as a replay.
	if wait := 31*time.Second - time.Since(enrolledAt); wait > 0 {
		time.Sleep(wait)
	}
	code, _ := totp.GenerateCode(secret, time.Now())
	again("password and code",
		chromedp.Navigate(in.portal("/login")), chromedp.WaitVisible("#username"),
		chromedp.SendKeys("#username", "erin"), chromedp.SendKeys("#password", "erin-password-1"),
		chromedp.Click("#submit"), chromedp.WaitVisible("#code"),
		chromedp.SendKeys("#code", code), chromedp.Click("#submit"), chromedp.WaitVisible("#error"))
	if msg := text("#error"); !strings.Contains(msg, "passkey") {
		t.Fatalf("password and code with passkeys required: %q", msg)
	}
	// Lost device: a recovery code still signs in.
	again("recovery code",
		chromedp.Navigate(in.portal("/login")), chromedp.WaitVisible("#username"),
		chromedp.SendKeys("#username", "erin"), chromedp.SendKeys("#password", "erin-password-1"),
		chromedp.Click("#submit"), chromedp.WaitVisible("#code"),
		chromedp.Click("details summary"), chromedp.WaitVisible("#recovery"),
		chromedp.SendKeys("#recovery", recovery[0]), chromedp.Submit("#recovery"),
		chromedp.WaitVisible("#signout"))

	// The CLI switches the requirement too.
	if out := in.mustCLI("user", "require-passkey", "off"); !strings.Contains(out, "password and code again") {
		t.Errorf("require-passkey off said %q", out)
	}
	again("requirement off", chromedp.Navigate(in.portal("/account/passkeys")), chromedp.WaitVisible("#passkey-required"))
	if on, err := chromedp.Run(step(), chromedp.Evaluate[bool](`document.getElementById("passkey-required").checked`)); err != nil || on {
		t.Fatalf("after `user require-passkey off` the portal shows it on (%v)", err)
	}
}

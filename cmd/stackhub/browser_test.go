package main

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/stackhub/stackhub/internal/browsertest"
)

// TestBrowserSignInWithEnrolment drives a real Chromium through the whole
// first sign-in: a private app's URL → the portal's login → TOTP enrolment
// (manual key read from the page, code computed here) → recovery codes →
// back on exactly the page asked for, served by the app. Then sign-out in
// the portal signs out of the app too.
func TestBrowserSignInWithEnrolment(t *testing.T) {
	exe := browsertest.Chromium(t)
	in := newInstance(t, "localhost")
	in.start()
	in.mustCLI("apps", "install", "testdata/alpha")
	in.mustCLI("user", "add", "erin", "--admin", "--password", "erin-password-1")

	br := in.browser(exe)
	br.Dump = "html"

	target := in.url("alpha", "/welcome?from=browser")
	// step gives each browser step 30 s (the browser context lives on for
	// the diagnostics of a failure).
	step := func() context.Context { return br.Step(30 * time.Second) }
	must, location, text, navigate := br.Must, br.Location, br.Text, browsertest.Navigate
	must("open the app", chromedp.Do(step(), navigate(target), chromedp.WaitVisible("#username")))
	if loc := location(); !strings.HasPrefix(loc, in.portal("/login?rd=")) {
		t.Fatalf("signed-out visit landed on %s", loc)
	}
	must("password step", chromedp.Do(step(),
		chromedp.SendKeys("#username", "erin"),
		chromedp.SendKeys("#password", "erin-password-1"),
		chromedp.Click("#submit"),
		chromedp.Sleep(2*time.Second),
	))
	must("enrolment page", chromedp.Do(step(), chromedp.WaitVisible("#manualkey")))
	key := text("#manualkey")
	// The QR code is an image of its own: give it time to load.
	qrWidth := 0
	for deadline := time.Now().Add(15 * time.Second); qrWidth == 0 && time.Now().Before(deadline); {
		w, err := chromedp.Run(step(), chromedp.Evaluate[int](`(() => { const i = document.querySelector("img.qr"); return i && i.complete ? i.naturalWidth : 0 })()`))
		must("QR code", err)
		if qrWidth = w; qrWidth == 0 {
			time.Sleep(200 * time.Millisecond)
		}
	}
	if qrWidth == 0 {
		t.Error("the QR code image did not load")
	}
	code, err := totp.GenerateCode(strings.ReplaceAll(strings.TrimSpace(key), " ", ""), time.Now())
	if err != nil {
		t.Fatalf("manual key %q: %v", key, err)
	}
	must("enrolment step", chromedp.Do(step(),
		chromedp.SendKeys("#code", code),
		chromedp.Click("#submit"),
		chromedp.WaitVisible("#codes"),
	))
	if n := len(strings.Fields(text("#codes"))); n != 10 {
		t.Errorf("%d recovery codes shown, want 10", n)
	}
	must("continue", chromedp.Do(step(), chromedp.Click("#continue"), chromedp.Sleep(time.Second), chromedp.WaitReady("body")))
	if loc, body := location(), text("body"); loc != target || !strings.HasPrefix(strings.TrimSpace(body), "hello from alpha") {
		t.Fatalf("after sign-in: at %s, page %q", loc, body)
	}

	// Sign out once in the portal: signed out of the app as well.
	must("sign out", chromedp.Do(step(),
		navigate(in.portal("/")),
		chromedp.WaitVisible("#signout"),
		chromedp.Click("#signout"),
		chromedp.WaitVisible("#username"),
		navigate(target),
		chromedp.WaitVisible("#username"),
	))
	if loc := location(); !strings.HasPrefix(loc, in.portal("/login?rd=")) {
		t.Errorf("after sign-out the app is at %s", loc)
	}
}

// browser starts Chromium (exe) for the instance, in a network namespace
// of its own where it can, trusting the instance's local CA in its
// throw-away profile by the public keys of its root and intermediate
// (Chromium treats pages behind ignored certificate errors as insecure: no
// Secure cookies).
func (in *instance) browser(exe string, extra ...chromedp.ExecAllocatorOption) *browsertest.Browser {
	in.t.Helper()
	return browsertest.Start(in.t, browsertest.Isolated(in.t, exe, in.httpsPort),
		append([]chromedp.ExecAllocatorOption{chromedp.Flag("ignore-certificate-errors-spki-list", in.caSPKIs())}, extra...)...)
}

// caSPKIs returns the base64 SHA-256 digests of the public keys of the
// instance's local CA (root and intermediate), comma-separated, for
// Chromium's --ignore-certificate-errors-spki-list.
func (in *instance) caSPKIs() string {
	in.t.Helper()
	var out []string
	for _, name := range []string{"root.crt", "intermediate.crt"} {
		b, err := os.ReadFile(filepath.Join(in.data, "caddy", "pki", "authorities", "local", name))
		if err != nil {
			in.t.Fatal(err)
		}
		blk, _ := pem.Decode(b)
		if blk == nil {
			in.t.Fatalf("%s: no PEM", name)
		}
		cert, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			in.t.Fatal(err)
		}
		sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
		out = append(out, base64.StdEncoding.EncodeToString(sum[:]))
	}
	return strings.Join(out, ",")
}

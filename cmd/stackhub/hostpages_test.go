package main

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stackhub/stackhub/portal"
)

// TestStoppedAndNoAppPages reads StackHub's own pages on an app host
// through the real binary: they look like the portal, link to it, have no
// backticks; the stopped page offers admins (only) a Start button, which
// starts the app from the portal; a cross-site request or a member cannot
// start it.
func TestStoppedAndNoAppPages(t *testing.T) {
	in := newInstance(t, "localhost")
	in.start()
	in.mustCLI("apps", "install", "testdata/alpha")
	in.mustCLI("user", "add", "ann", "--admin", "--password", "ann-password-1")
	in.mustCLI("user", "add", "max", "--password", "max-password-1")
	alpha := in.url("alpha", "/")
	admin, member := in.newBrowserish(), in.newBrowserish()
	admin.open("ann", "ann-password-1", "", alpha)
	member.open("max", "max-password-1", "", alpha)
	portalLink := `href="` + in.portal("/") + `"`
	// The portal's stylesheet, inlined (its opening rules identify it).
	portalCSS := string(portal.Stylesheet())[:400]
	startAction := in.portal("/admin/apps/alpha/start")

	in.mustCLI("apps", "stop", "alpha")
	stopped := admin.get(alpha)
	if stopped.status != 503 || !strings.Contains(stopped.body, "The app alpha is stopped.") {
		t.Fatalf("stopped app, admin: %d\n%s", stopped.status, stopped.body)
	}
	seen := member.get(alpha)
	if seen.status != 503 {
		t.Fatalf("stopped app, member: %d\n%s", seen.status, seen.body)
	}
	for who, a := range map[string]answer{"admin": stopped, "member": seen} {
		if !strings.Contains(a.body, portalLink) || strings.Contains(a.body, "`") ||
			!strings.Contains(a.body, portalCSS) || !strings.Contains(a.body, `<div class="card narrow">`) ||
			a.header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s's stopped page does not look like the portal, link to it, or is without backticks:\n%s", who, a.body)
		}
	}
	if !strings.Contains(stopped.body, `action="`+startAction+`"`) || !strings.Contains(stopped.body, `id="start"`) {
		t.Errorf("admin's stopped page has no Start button:\n%s", stopped.body)
	}
	if strings.Contains(seen.body, `id="start"`) || strings.Contains(seen.body, "/start") {
		t.Errorf("member's stopped page offers Start:\n%s", seen.body)
	}

	// Attacks: each must be refused and leave the app stopped.
	startPage := admin.get(startAction)
	if startPage.status != 200 {
		t.Fatalf("start page: %d\n%s", startPage.status, startPage.body)
	}
	token := csrfOf(t, startPage.body)
	memberToken := csrfOf(t, member.get(in.portal("/")).body)
	attacks := []struct {
		name string
		b    *browserish
		form url.Values
		hdr  map[string]string
	}{
		{"no token, from the app's host", admin, url.Values{}, map[string]string{"Origin": "https://alpha.localhost"}},
		{"no token", admin, url.Values{}, nil},
		{"another site with the token", admin, url.Values{"csrf": {token}}, map[string]string{"Origin": "https://evil.example"}},
		{"a member", member, url.Values{"csrf": {memberToken}}, nil},
	}
	for _, a := range attacks {
		if ans := a.b.do("POST", startAction, a.form, a.hdr); ans.status != 403 {
			t.Errorf("%s: %d %s, want 403", a.name, ans.status, ans.location)
		}
	}
	if a := admin.get(alpha); a.status != 503 {
		t.Fatalf("a refused request started the app: %d", a.status)
	}
	if list := in.mustCLI("apps", "list"); !regexp.MustCompile(`alpha\s+installed\s+stopped`).MatchString(list) {
		t.Errorf("after the refused requests:\n%s", list)
	}

	// The admin's button works: confirm on the portal, then the app runs.
	started := admin.do("POST", startAction, url.Values{"csrf": {token}}, map[string]string{"Origin": strings.TrimSuffix(in.portal("/"), "/")})
	if started.status != 303 || started.location != alpha {
		t.Fatalf("start: %d %s\n%s", started.status, started.location, started.body)
	}
	if a := admin.get(alpha); a.status != 200 || !strings.HasPrefix(a.body, "hello from alpha") {
		t.Errorf("after start: %d %s", a.status, a.body)
	}

	// No app here: the address of a removed app (its certificate is still
	// in the cache).
	in.mustCLI("apps", "remove", "alpha")
	gone := admin.get(alpha)
	if gone.status != 404 || !strings.Contains(gone.body, "No app is installed at alpha.localhost") ||
		!strings.Contains(gone.body, portalLink) || strings.Contains(gone.body, "`") || !strings.Contains(gone.body, portalCSS) {
		t.Errorf("no-app page: %d\n%s", gone.status, gone.body)
	}
}

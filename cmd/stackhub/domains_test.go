package main

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stackhub/stackhub/internal/domains/stubdns"
)

// TestCustomDomains gives an app names of the user's own: a name whose DNS
// does not point at the box is refused with the record to create; a CNAME
// alias gets its own certificate from Pebble (HTTP-01) and serves the app
// behind the gate (sign-in through the portal, a host-only cookie on the
// alias); an apex redirect alias answers 308 to the app's main URL; removing
// a name or the app releases it.
func TestCustomDomains(t *testing.T) {
	in := newInstance(t, "apps.example.com")
	dir, apiCA, rootPEM := pebble(t, in.httpPort, in.httpsPort, loopbackResolver(t))
	resolver := stubdns.Serve(t, map[string]string{
		"alpha.apps.example.com": "127.0.0.1",
		"photos.example.org":     "CNAME alpha.apps.example.com",
		"example.net":            "127.0.0.1",
		"wrong.example.org":      "203.0.113.7",
	})
	tlsBlock := fmt.Sprintf(`tls {
		on_demand
		issuer acme {
			dir %s
			trusted_roots %s
			email test@example.com
			disable_tlsalpn_challenge
		}
	}`, dir, apiCA)
	caddyfile := fmt.Sprintf(`{
	admin %s
	persist_config off
	default_bind 127.0.0.1
	http_port %d
	https_port %d
	storage file_system {
		root %s/caddy
	}
	on_demand_tls {
		permission stackhub
	}
	stackhub {
		domain %s
		data %s
		https_port %d
		resolver %s
	}
}

my.%s {
	%s
	stackhub_portal
	reverse_proxy "unix/%s/portal.sock"
}

*.%s {
	%s
	stackhub_gate
	stackhub_router
	reverse_proxy {
		dynamic stackhub
	}
}

# Custom domains: any other name, allowed (and certified) only when the
# registry knows it as an alias.
https:// {
	%s
	stackhub_gate
	stackhub_router
	reverse_proxy {
		dynamic stackhub
	}
}
`, in.admin, in.httpPort, in.httpsPort, in.data, in.domain, in.data, in.httpsPort, resolver,
		in.domain, tlsBlock, in.data, in.domain, tlsBlock, tlsBlock)
	path := writeFile(t, "Caddyfile", caddyfile)
	in.args = []string{"run", "--config", path}
	in.start()
	in.mustCLI("apps", "install", "testdata/alpha")

	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(rootPEM) {
		t.Fatalf("pebble root: %s", rootPEM)
	}
	c := in.client(roots)
	port := ":" + strconv.Itoa(in.httpsPort)

	// A name that does not point at the box is refused, and says why.
	out, err := in.cli("apps", "domain", "add", "alpha", "wrong.example.org")
	for _, want := range []string{"does not point at this StackHub", "203.0.113.7", "wrong.example.org. CNAME alpha.apps.example.com.", "127.0.0.1"} {
		if err == nil || !strings.Contains(out, want) {
			t.Errorf("adding wrong.example.org: err %v, want the refusal to say %q:\n%s", err, want, out)
		}
	}
	if routes := in.mustCLI("access", "list"); strings.Contains(routes, "wrong.example.org") {
		t.Errorf("a refused name was published:\n%s", routes)
	}
	if _, err := c.Get("https://wrong.example.org" + port + "/"); err == nil {
		t.Errorf("a refused name got a certificate")
	}

	// A CNAME alias (the apex redirect alias comes through the portal's
	// API below).
	if out := in.mustCLI("apps", "domain", "add", "alpha", "photos.example.org"); !strings.Contains(out, "points at this StackHub") || !strings.Contains(out, "CNAME alpha.apps.example.com") {
		t.Errorf("adding photos.example.org:\n%s", out)
	}

	// The alias gets its own certificate by HTTP-01, and the gate applies
	// the app's private policy there.
	alias := "https://photos.example.org" + port + "/page?x=1"
	var status int
	var location string
	waitFor(t, 90*time.Second, "an ACME certificate for photos.example.org", func() bool {
		resp, err := c.Get(alias)
		if err != nil {
			return false
		}
		resp.Body.Close()
		status, location = resp.StatusCode, resp.Header.Get("Location")
		leaf := resp.TLS.PeerCertificates[0]
		if len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != "photos.example.org" || !strings.Contains(leaf.Issuer.CommonName, "Pebble") {
			t.Fatalf("certificate of the alias: names %v, issuer %q", leaf.DNSNames, leaf.Issuer.CommonName)
		}
		return len(resp.TLS.VerifiedChains) > 0
	})
	// The return address carries the browser binding of the ticket (a
	// fragment, see auth.ReturnBinding).
	if want := "https://my." + in.domain + port + "/login?rd=" + url.QueryEscape(alias+"#stackhub-bind="); status != 302 || !strings.HasPrefix(location, want) {
		t.Fatalf("signed out on the alias: %d %q, want 302 %q…", status, location, want)
	}

	// Sign in through the portal: back on the alias with its own cookie.
	var setupToken string
	waitFor(t, 10*time.Second, "the setup token in the log", func() bool {
		m := regexp.MustCompile(`"setup_token":\s*"([^"]+)"`).FindStringSubmatch(in.out.String())
		if m != nil {
			setupToken = m[1]
		}
		return m != nil
	})
	jar, _ := cookiejar.New(nil)
	bc := in.client(roots)
	bc.Jar = jar
	b := &browserish{t: t, in: in, c: bc}
	sp := b.get(in.portal("/setup"))
	form := url.Values{"csrf": {csrfOf(t, sp.body)}, "token": {setupToken}, "username": {"root"}, "password": {"root-password-1"}}
	if a := b.do("POST", in.portal("/setup"), form, nil); a.status != 303 {
		t.Fatalf("setup: %d %s", a.status, a.body)
	}
	b.open("root", "root-password-1", "", alias)
	if a := b.get(alias); a.status != 200 || !strings.HasPrefix(a.body, "hello from alpha") {
		t.Fatalf("alias after sign-in: %d %q", a.status, a.body)
	}
	// The apex redirect alias through the portal's API (the same flow as
	// the CLI): a name pointing elsewhere is refused with the record to
	// create, the apex is asked for an A record.
	portalAPI := func(method, path, body string) answer {
		t.Helper()
		me := b.get(in.portal("/api/v1/me"))
		var s struct{ CSRF string }
		if err := json.Unmarshal([]byte(me.body), &s); err != nil || s.CSRF == "" {
			t.Fatalf("/api/v1/me: %d %s", me.status, me.body)
		}
		req, err := http.NewRequest(method, in.portal(path), strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", s.CSRF)
		resp, err := bc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		rb, _ := io.ReadAll(resp.Body)
		return answer{status: resp.StatusCode, body: string(rb), header: resp.Header}
	}
	if a := portalAPI("POST", "/api/v1/apps/alpha/domains", `{"name":"wrong.example.org"}`); a.status != 422 || !strings.Contains(a.body, `"record":"wrong.example.org. CNAME alpha.apps.example.com."`) || !strings.Contains(a.body, "203.0.113.7") {
		t.Errorf("adding wrong.example.org through /api/v1: %d %s", a.status, a.body)
	}
	if a := portalAPI("POST", "/api/v1/apps/alpha/domains", `{"name":"example.net","redirect":true}`); a.status != 201 || !strings.Contains(a.body, `"record":"example.net. A 127.0.0.1"`) || !strings.Contains(a.body, `"kind":"redirect"`) {
		t.Errorf("adding the apex example.net through /api/v1: %d %s", a.status, a.body)
	}
	list := in.mustCLI("apps", "domain", "list", "alpha")
	if !regexp.MustCompile(`photos\.example\.org\s+serves the app`).MatchString(list) || !regexp.MustCompile(`example\.net\s+redirects`).MatchString(list) || strings.Contains(list, "wrong.example.org") {
		t.Errorf("apps domain list:\n%s", list)
	}
	aliasURL, _ := url.Parse(alias)
	mainURL, _ := url.Parse(in.url("alpha", "/"))
	if len(jar.Cookies(aliasURL)) == 0 {
		t.Errorf("no cookie on the alias")
	}
	for _, ck := range jar.Cookies(mainURL) {
		if ck.Name == "__Host-stackhub-app" {
			t.Errorf("signing in on the alias set a cookie on the app's main host")
		}
	}

	// The redirect alias: 308 to the main URL, path and query kept, before
	// any sign-in.
	resp, err := c.Get("https://example.net" + port + "/a/b?c=d")
	if err != nil {
		t.Fatalf("redirect alias: %v", err)
	}
	resp.Body.Close()
	if want := "https://alpha." + in.domain + port + "/a/b?c=d"; resp.StatusCode != 308 || resp.Header.Get("Location") != want {
		t.Errorf("redirect alias: %d %q, want 308 %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}

	// Removing a name, then the app, releases the names.
	in.mustCLI("apps", "domain", "remove", "alpha", "photos.example.org")
	if st, _ := get(t, c, alias); st != 404 {
		t.Errorf("removed alias answers %d, want 404", st)
	}
	in.mustCLI("apps", "remove", "alpha")
	if routes := in.mustCLI("access", "list"); strings.Contains(routes, "example.net") || strings.Contains(routes, "photos.example.org") {
		t.Errorf("names of a removed app are still published:\n%s", routes)
	}
}

// TestCustomDomainWithUp: `stackhub up` serves a custom domain added with
// --force (no DNS check) under its local CA, as it serves app hosts.
func TestCustomDomainWithUp(t *testing.T) {
	in := newInstance(t, "localhost")
	in.start()
	in.mustCLI("apps", "install", "testdata/alpha", "--public")
	c := in.client(in.rootCAs())
	aliasURL := "https://photos.home.arpa:" + strconv.Itoa(in.httpsPort) + "/"
	if _, err := c.Get(aliasURL); err == nil {
		t.Fatalf("a name that is no alias yet got a certificate")
	}
	if out := in.mustCLI("apps", "domain", "add", "alpha", "photos.home.arpa", "--force"); !strings.Contains(out, "photos.home.arpa now serves alpha") {
		t.Errorf("domain add --force:\n%s", out)
	}
	if st, body := get(t, c, aliasURL); st != 200 || !strings.HasPrefix(body, "hello from alpha") {
		t.Errorf("alias: %d %q", st, body)
	}
	if info := in.mustCLI("apps", "info", "alpha"); !strings.Contains(info, "Domain:   photos.home.arpa") {
		t.Errorf("apps info does not list the domain:\n%s", info)
	}
}

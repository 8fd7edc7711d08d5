package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// rawGet sends exactly "GET rawURI HTTP/1.1" to host over TLS (no client
// library normalises the request target) and returns status and body.
func (in *instance) rawGet(t *testing.T, host, rawURI, cookie string) (int, string) {
	t.Helper()
	a := in.rawAnswer(t, host, host, rawURI, cookie)
	return a.status, a.body
}

// rawAnswer is rawGet with the TLS server name sni and the Host header
// host, which may differ (a host without a certificate of its own).
func (in *instance) rawAnswer(t *testing.T, sni, host, rawURI, cookie string) answer {
	t.Helper()
	conn, err := tls.Dial("tcp", "127.0.0.1:"+strconv.Itoa(in.httpsPort), &tls.Config{RootCAs: in.rootCAs(), ServerName: sni, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := "GET " + rawURI + " HTTP/1.1\r\nHost: " + host + ":" + strconv.Itoa(in.httpsPort) + "\r\nConnection: close\r\n"
	if cookie != "" {
		req += "Cookie: " + cookie + "\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURI, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, body: string(b), header: resp.Header}
}

// appEcho is the testapp's /headers answer.
type appEcho struct {
	Headers map[string][]string
	URI     string
}

func echoOf(t *testing.T, a answer) appEcho {
	t.Helper()
	var e appEcho
	if a.status != 200 || json.Unmarshal([]byte(a.body), &e) != nil {
		t.Fatalf("app's /headers: %d %s", a.status, a.body)
	}
	return e
}

// TestGateHardening tries the attacks of issue 9 (parts D to F) against a
// running stackhub and a real app: each is refused with a clear answer and
// changes nothing (no session, app not reached).
func TestGateHardening(t *testing.T) {
	in := newInstance(t, "localhost")
	in.start()
	in.mustCLI("apps", "install", "testdata/alpha")
	in.mustCLI("user", "add", "root", "--admin", "--password", "root-password-1")
	in.mustCLI("user", "add", "mallory", "--password", "mallory-password-1")
	in.mustCLI("user", "add", "carol", "--password", "carol-password-1")
	host := "alpha.localhost"
	admin := in.newBrowserish()
	admin.open("root", "root-password-1", "", in.url("alpha", "/"))
	mallory := in.newBrowserish()
	mallorySecret := mallory.open("mallory", "mallory-password-1", "", in.url("alpha", "/"))

	t.Run("ambiguous paths never ride a path exception", func(t *testing.T) {
		in.mustCLI("access", "set", "alpha", "--access", "private", "--public-paths", "/api/*")
		if st, body := in.rawGet(t, host, "/api/x", ""); st != 200 || !strings.HasPrefix(body, "hello from alpha at /api/x") {
			t.Fatalf("plain public path: %d %q", st, body)
		}
		for _, uri := range []string{
			"/secret/../api/x", "/secret%2f..%2fapi/x", "/secret%2F..%2Fapi/x", "/secret/%2e%2e/api/x", "/secret/.%2E/api/x",
			"/api/..;/secret/x", "/api/x;jsessionid=1", "/api/..%5csecret/x", "/api/..%5Csecret/x", "/api/%252e%252e/secret/x",
			"/api/%2e%2e/secret/x", "/api/..\\secret/x", "/api\\..\\secret/x", "//api/x", "/api//../secret", "/api/./x", "/api/%3b/x", "/api/%c0%ae%c0%ae/secret",
		} {
			st, body := in.rawGet(t, host, uri, "")
			if strings.Contains(body, "hello from alpha") {
				t.Errorf("%s reached the app: %d %q", uri, st, body)
				continue
			}
			// Refused by the gate as ambiguous, or (when the path cleans
			// to a private one) sent to sign in first.
			if !(st == 400 && strings.Contains(body, "could be read in more than one way")) && st != 302 {
				t.Errorf("%s: %d %q", uri, st, body)
			}
		}
		in.mustCLI("access", "set", "alpha", "--access", "private")
	})

	t.Run("client-sent address and URL headers and the gate's cookies never reach the app", func(t *testing.T) {
		a := admin.do("GET", in.url("alpha", "/headers"), nil, map[string]string{
			"X-Real-Ip": "6.6.6.6", "Forwarded": "for=6.6.6.6;host=evil.example", "True-Client-Ip": "6.6.6.6",
			"X-Client-Ip": "6.6.6.6", "X-Original-Url": "/evil", "X-Rewrite-Url": "/evil", "x_original_url": "/evil",
			"X-Forwarded-Port": "6", "X-Forwarded-Prefix": "/evil", "X-Forwarded-For": "6.6.6.6", "X-Forwarded-Host": "evil.example", "Cf-Connecting-Ip": "6.6.6.6", "Cookie": "theme=dark",
		})
		e := echoOf(t, a)
		for k, v := range e.Headers {
			if s := strings.Join(v, ","); strings.Contains(s, "6.6.6.6") || strings.Contains(s, "evil") {
				t.Errorf("app received %s: %q", k, v)
			}
		}
		if got := e.Headers["X-Real-Ip"]; len(got) != 1 || got[0] != "127.0.0.1" {
			t.Errorf("X-Real-Ip = %q, want the resolved client address", got)
		}
		cookies := strings.Join(e.Headers["Cookie"], "; ")
		if !strings.Contains(cookies, "theme=dark") || strings.Contains(cookies, "__Host-stackhub") {
			t.Errorf("app's Cookie header: %q", cookies)
		}
	})

	t.Run("a ticket signs in only the browser that asked for it", func(t *testing.T) {
		// Mallory starts a sign-in to alpha in her own browser and keeps
		// the callback URL instead of following it.
		att := in.newBrowserish()
		first := att.get(in.url("alpha", "/headers"))
		login, _ := url.Parse(first.location)
		rd := login.Query().Get("rd")
		if first.status != 302 || !strings.Contains(rd, "#stackhub-bind=") {
			t.Fatalf("signed-out visit: %d %s", first.status, first.location)
		}
		a, _ := att.login("mallory", "mallory-password-1", mallorySecret, rd)
		hand := att.get(in.portal(a.location))
		if hand.status != 302 || !strings.Contains(hand.location, "/.stackhub/callback?ticket=") {
			t.Fatalf("hand-over: %d %s", hand.status, hand.location)
		}
		// The victim's browser opens it: refused, and not signed in.
		victim := in.newBrowserish()
		if r := victim.get(hand.location); r.status != 400 || !strings.Contains(r.body, "another browser") {
			t.Errorf("victim redeemed the attacker's ticket: %d %s", r.status, r.body)
		}
		for _, c := range victim.c.Jar.Cookies(mustParse(t, in.url("alpha", "/"))) {
			if c.Name == "__Host-stackhub-app" {
				t.Errorf("victim got an app cookie")
			}
		}
		if r := victim.get(in.url("alpha", "/headers")); r.status != 302 {
			t.Errorf("victim on the app: %d %s", r.status, r.body)
		}
		// A victim who has been on the app (with her own nonce) is refused too.
		victim2 := in.newBrowserish()
		victim2.get(in.url("alpha", "/"))
		hand = att.get(in.portal("/auth/app?rd=" + url.QueryEscape(rd)))
		if r := victim2.get(hand.location); r.status != 400 || !strings.Contains(r.body, "another browser") {
			t.Errorf("victim with her own nonce: %d %s", r.status, r.body)
		}
		// The requesting browser's own flow works.
		hand = att.get(in.portal("/auth/app?rd=" + url.QueryEscape(rd)))
		last, _ := att.follow(hand.location)
		if e := echoOf(t, last); strings.Join(e.Headers["X-Stackhub-User"], ",") != "mallory" {
			t.Errorf("own ticket: user %q", e.Headers["X-Stackhub-User"])
		}
	})

	t.Run("sign-out from an app host needs a same-origin POST", func(t *testing.T) {
		page := admin.get(in.url("alpha", "/.stackhub/logout"))
		m := regexp.MustCompile(`name="token" value="([^"]+)"`).FindStringSubmatch(page.body)
		if page.status != 200 || m == nil || !strings.Contains(page.header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Fatalf("sign-out page: %d %v %s", page.status, page.header, page.body)
		}
		for _, c := range []struct {
			form url.Values
			hdr  map[string]string
		}{
			{url.Values{}, map[string]string{"Origin": "https://evil.example"}},
			{url.Values{"token": {m[1]}}, map[string]string{"Origin": "https://evil.example"}},
			{url.Values{"token": {m[1]}}, map[string]string{"Sec-Fetch-Site": "cross-site"}},
			{url.Values{"token": {m[1]}}, map[string]string{"Referer": "https://evil.example/x"}},
			{url.Values{"token": {"forged"}}, map[string]string{"Origin": in.url("alpha", "")}},
			{url.Values{}, nil},
		} {
			if a := admin.do("POST", in.url("alpha", "/.stackhub/logout"), c.form, c.hdr); a.status != 403 || !strings.Contains(a.body, "another site") {
				t.Errorf("POST %v %v: %d %s", c.form, c.hdr, a.status, a.body)
			}
		}
		if a := admin.get(in.url("alpha", "/headers")); a.status != 200 {
			t.Errorf("session did not survive: %d", a.status)
		}
		if a := admin.get(in.portal("/")); a.status != 200 {
			t.Errorf("portal session did not survive: %d", a.status)
		}
	})

	t.Run("the gate's pages forbid framing", func(t *testing.T) {
		check := func(what string, a answer) {
			t.Helper()
			h := a.header
			if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || h.Get("X-Frame-Options") != "DENY" || h.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s (%d): CSP %q, XFO %q, nosniff %q", what, a.status, h.Get("Content-Security-Policy"), h.Get("X-Frame-Options"), h.Get("X-Content-Type-Options"))
			}
			if h.Get("Strict-Transport-Security") != "" {
				t.Errorf("%s: HSTS on a local domain", what)
			}
		}
		anon := in.newBrowserish()
		check("no app here", in.rawAnswer(t, host, "nope.localhost", "/", ""))
		check("callback", anon.get(in.url("alpha", "/.stackhub/callback?ticket=x")))
		in.mustCLI("access", "set", "alpha", "--access", "restricted", "--groups", "nobody")
		check("not allowed", mallory.get(in.url("alpha", "/")))
		in.mustCLI("access", "set", "alpha", "--access", "private")
		in.mustCLI("apps", "stop", "alpha")
		check("app stopped", admin.get(in.url("alpha", "/")))
	})

	t.Run("admin API refuses a Referer-only cross-site request", func(t *testing.T) {
		body := `{"name":"eve","password":"eve-password-1","role":"admin"}`
		req, _ := http.NewRequest("POST", "http://"+in.admin+"/stackhub/users", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Referer", "https://evil.example/page")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 403 || !strings.Contains(string(b), "cross-site") {
			t.Errorf("Referer-only request: %d %s", resp.StatusCode, b)
		}
		if users := in.mustCLI("user", "list"); strings.Contains(users, "eve") {
			t.Errorf("eve was added:\n%s", users)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, binary(t, "stackhub"), "up", "--admin", "0.0.0.0:2019", "--data", t.TempDir()).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "loopback") {
			t.Errorf("up --admin 0.0.0.0: %v\n%s", err, out)
		}
	})

	t.Run("parallel guesses through the portal get no more checks than the limit", func(t *testing.T) {
		const n = 30
		bs := make([]*browserish, n+1)
		forms := make([]url.Values, n+1)
		for i := range bs {
			bs[i] = in.newBrowserish()
			page := bs[i].get(in.portal("/login"))
			pwd := fmt.Sprintf("wrong-password-%d", i)
			if i == n/2 {
				pwd = "carol-password-1"
			}
			forms[i] = url.Values{"csrf": {csrfOf(t, page.body)}, "username": {"carol"}, "password": {pwd}}
		}
		answers := make([]answer, n+1)
		var wg sync.WaitGroup
		for i := range bs {
			wg.Add(1)
			go func() { defer wg.Done(); answers[i] = bs[i].do("POST", in.portal("/login"), forms[i], nil) }()
		}
		wg.Wait()
		checked := 0
		for i, a := range answers {
			switch {
			case a.status == 429 && a.header.Get("Retry-After") != "":
				if i == n/2 {
					for _, c := range bs[i].c.Jar.Cookies(mustParse(t, in.portal("/"))) {
						if c.Name == "__Host-stackhub-login" || c.Name == "__Host-stackhub-session" {
							t.Errorf("refused attempt got a %s cookie", c.Name)
						}
					}
				}
			case a.status == 401 || a.status == 303:
				checked++
			default:
				t.Errorf("attempt %d: %d %s", i, a.status, a.body)
			}
		}
		if checked > 5 {
			t.Errorf("%d passwords checked in the burst, want at most 5", checked)
		}
	})
}

// TestHSTSOption: with `--hsts` the portal's and the apps' HTTPS answers
// carry Strict-Transport-Security (the built-in configuration leaves it
// off: its certificates come from a local CA).
func TestHSTSOption(t *testing.T) {
	in := newInstance(t, "localhost")
	in.args = append(in.args, "--hsts", "720h")
	in.start()
	in.mustCLI("apps", "install", "testdata/alpha")
	b := in.newBrowserish()
	for _, u := range []string{in.portal("/login"), in.url("alpha", "/")} {
		if a := b.get(u); a.header.Get("Strict-Transport-Security") != "max-age=2592000" {
			t.Errorf("%s (%d): Strict-Transport-Security %q", u, a.status, a.header.Get("Strict-Transport-Security"))
		}
	}
}

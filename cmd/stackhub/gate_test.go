package main

import (
	"crypto/tls"
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

	"github.com/pquerna/otp/totp"
	"golang.org/x/net/websocket"
)

// browserish is an HTTPS client with a cookie jar that does not follow
// redirects by itself, so each hop can be checked.
type browserish struct {
	t  *testing.T
	in *instance
	c  *http.Client
}

func (in *instance) newBrowserish() *browserish {
	c := in.client(in.rootCAs())
	c.Jar, _ = cookiejar.New(nil)
	return &browserish{t: in.t, in: in, c: c}
}

func (in *instance) portal(path string) string {
	return "https://my." + in.domain + ":" + strconv.Itoa(in.httpsPort) + path
}

type answer struct {
	status   int
	location string
	body     string
	header   http.Header
}

func (b *browserish) do(method, u string, form url.Values, hdr map[string]string) answer {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header[k] = []string{v}
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header.Get("Location"), string(data), resp.Header}
}

func (b *browserish) get(u string) answer { b.t.Helper(); return b.do("GET", u, nil, nil) }

// follow GETs u and follows redirects (relative ones against the current
// URL), returning the last answer and every URL visited.
func (b *browserish) follow(u string) (answer, []string) {
	b.t.Helper()
	visited := []string{u}
	for range 10 {
		a := b.get(u)
		if a.status/100 != 3 {
			return a, visited
		}
		next, err := url.Parse(u)
		if err != nil {
			b.t.Fatal(err)
		}
		loc, err := next.Parse(a.location)
		if err != nil {
			b.t.Fatalf("bad Location %q", a.location)
		}
		u = loc.String()
		visited = append(visited, u)
	}
	b.t.Fatalf("redirect loop: %v", visited)
	return answer{}, nil
}

// lastStep remembers the last TOTP step used per secret, so that each
// sign-in of a test uses a code the replay guard has not seen yet.
var lastStep = map[string]int64{}

// freshCode returns a code for the earliest unused step (the current one,
// or the next, which the ±1 window accepts), waiting if both are used.
func freshCode(secret string) string {
	now := time.Now().Unix() / 30
	step := now
	if step <= lastStep[secret] {
		step = lastStep[secret] + 1
	}
	if step > now+1 {
		time.Sleep(time.Until(time.Unix((step-1)*30, 0)) + 500*time.Millisecond)
	}
	lastStep[secret] = step
	code, _ := totp.GenerateCode(secret, time.Unix(step*30, 0))
	return code
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
var manualKey = regexp.MustCompile(`id="manualkey">([A-Z2-7 ]+)<`)
var nextLink = regexp.MustCompile(`href="([^"]+)" id="continue"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field in page:\n%s", page)
	}
	return m[1]
}

// login signs in with password and, if asked, enrols TOTP (returning the
// secret) or gives a code from secret. rd is the return address. It
// returns the last answer of the sign-in POSTs.
func (b *browserish) login(user, password, secret, rd string) (answer, string) {
	b.t.Helper()
	page := b.get(b.in.portal("/login?rd=" + url.QueryEscape(rd)))
	if page.status == 302 { // already signed in
		return page, secret
	}
	if page.status != 200 {
		b.t.Fatalf("login page: %d %s", page.status, page.body)
	}
	a := b.do("POST", b.in.portal("/login"), url.Values{"csrf": {csrfOf(b.t, page.body)}, "username": {user}, "password": {password}, "rd": {rd}}, nil)
	if a.status != 303 {
		return a, secret
	}
	step := b.get(b.in.portal(a.location))
	switch {
	case strings.HasPrefix(a.location, "/login/enrol"):
		m := manualKey.FindStringSubmatch(step.body)
		if m == nil {
			b.t.Fatalf("enrolment page without manual key:\n%s", step.body)
		}
		secret = strings.ReplaceAll(m[1], " ", "")
		if png := b.get(b.in.portal("/login/enrol/qr.png")); png.status != 200 || !strings.HasPrefix(png.body, "\x89PNG") {
			b.t.Errorf("QR code: %d %q", png.status, png.body[:min(8, len(png.body))])
		}
		code := freshCode(secret)
		a = b.do("POST", b.in.portal("/login/enrol"), url.Values{"csrf": {csrfOf(b.t, step.body)}, "code": {code}, "rd": {rd}}, nil)
		return a, secret
	case strings.HasPrefix(a.location, "/login/code"):
		if secret == "" {
			return a, secret
		}
		return b.code(step.body, freshCode(secret), rd), secret
	}
	b.t.Fatalf("after password: %d %s", a.status, a.location)
	return a, secret
}

func (b *browserish) code(page, code, rd string) answer {
	return b.do("POST", b.in.portal("/login/code"), url.Values{"csrf": {csrfOf(b.t, page)}, "code": {code}, "rd": {rd}}, nil)
}

// open signs in (enrolling on the first time) and opens target, which must
// answer 200; it returns the TOTP secret.
func (b *browserish) open(user, password, secret, target string) string {
	b.t.Helper()
	a, secret := b.login(user, password, secret, target)
	next := a.location
	if a.status == 200 { // recovery codes after enrolment
		m := nextLink.FindStringSubmatch(a.body)
		if m == nil || !strings.Contains(a.body, `id="codes"`) {
			b.t.Fatalf("no recovery codes page:\n%s", a.body)
		}
		next = strings.ReplaceAll(m[1], "&amp;", "&")
	} else if a.status != 303 && a.status != 302 {
		b.t.Fatalf("sign-in of %s: %d %s", user, a.status, a.body)
	}
	last, visited := b.follow(b.in.portal(next))
	if last.status != 200 || visited[len(visited)-1] != target {
		b.t.Fatalf("after sign-in: %d at %v:\n%s", last.status, visited, last.body)
	}
	return secret
}

func setCookie(t *testing.T, h http.Header, name string) string {
	t.Helper()
	for _, c := range h.Values("Set-Cookie") {
		if strings.HasPrefix(c, name+"=") {
			return c
		}
	}
	t.Fatalf("no Set-Cookie %s in %v", name, h.Values("Set-Cookie"))
	return ""
}

func checkCookieFlags(t *testing.T, c string) {
	t.Helper()
	lc := strings.ToLower(c)
	for _, want := range []string{"; secure", "; httponly", "; samesite=lax", "; path=/"} {
		if !strings.Contains(lc, want) {
			t.Errorf("cookie %q lacks %q", c, want)
		}
	}
	if strings.Contains(lc, "domain=") {
		t.Errorf("cookie %q is not host-only", c)
	}
}

// TestGate holds the gate's and the portal's promises over HTTPS against a
// running stackhub (issue 3).
func TestGate(t *testing.T) {
	in := newInstance(t, "localhost")
	in.start()
	in.mustCLI("apps", "install", "testdata/alpha")
	in.mustCLI("apps", "install", "testdata/beta")
	alpha := in.url("alpha", "/some/page?x=1&y=%2F")
	anon := in.newBrowserish()

	// First run: the setup token from the log creates the first admin.
	var setupToken string
	waitFor(t, 10*time.Second, "the setup token in the log", func() bool {
		m := regexp.MustCompile(`"setup_token":\s*"([^"]+)"`).FindStringSubmatch(in.out.String())
		if m != nil {
			setupToken = m[1]
		}
		return m != nil
	})
	admin := in.newBrowserish()
	if a := admin.get(in.portal("/")); a.status != 302 || a.location != "/setup" {
		t.Fatalf("portal before setup: %d %s", a.status, a.location)
	}
	sp := admin.get(in.portal("/setup"))
	form := url.Values{"csrf": {csrfOf(t, sp.body)}, "token": {"wrong"}, "username": {"root"}, "password": {"root-password-1"}}
	if a := admin.do("POST", in.portal("/setup"), form, nil); a.status != 400 || !strings.Contains(a.body, "invalid setup token") {
		t.Errorf("setup with a wrong token: %d %s", a.status, a.body)
	}
	form.Set("token", setupToken)
	if a := admin.do("POST", in.portal("/setup"), form, nil); a.status != 303 {
		t.Fatalf("setup: %d %s", a.status, a.body)
	}
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options"} {
		if sp.header.Get(h) == "" {
			t.Errorf("portal page lacks %s", h)
		}
	}
	if csp := sp.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || sp.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers: CSP %q nosniff %q", csp, sp.header.Get("X-Content-Type-Options"))
	}

	in.mustCLI("user", "add", "bob", "--password", "bob-password-1", "--email", "bob@example.com", "--groups", "staff")
	in.mustCLI("user", "add", "carol", "--password", "carol-password-1")
	in.mustCLI("user", "add", "dave", "--password", "dave-password-1", "--groups", "ops")

	t.Run("signed out: 302 to login with the return URL", func(t *testing.T) {
		a := anon.do("GET", alpha, nil, map[string]string{"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http", "X-Forwarded-Port": "1"})
		// The return URL carries the binding of this browser's nonce.
		want := in.portal("/login?rd=" + url.QueryEscape(alpha+"#stackhub-bind="))
		if a.status != 302 || !strings.HasPrefix(a.location, want) {
			t.Fatalf("got %d %q, want 302 %q…", a.status, a.location, want)
		}
		checkCookieFlags(t, setCookie(t, a.header, "__Host-stackhub-bind"))
	})

	var rootSecret string
	t.Run("login and TOTP enrolment, then the same URL answers 200", func(t *testing.T) {
		rootSecret = admin.open("root", "root-password-1", "", alpha)
		if a := admin.get(alpha); a.status != 200 || !strings.HasPrefix(a.body, "hello from alpha") {
			t.Fatalf("app: %d %q", a.status, a.body)
		}
	})

	t.Run("cookie flags", func(t *testing.T) {
		b := in.newBrowserish()
		a, _ := b.login("root", "root-password-1", rootSecret, "")
		checkCookieFlags(t, setCookie(t, a.header, "__Host-stackhub-session"))
		// A dashboard link goes to the app first, whose gate gives this
		// browser its nonce and sends it back with the binding.
		hand := b.get(in.portal("/auth/app?rd=" + url.QueryEscape(in.url("alpha", "/"))))
		if hand.status != 302 || hand.location != in.url("alpha", "/") {
			t.Fatalf("unbound hand-over: %d %s", hand.status, hand.location)
		}
		toLogin := b.get(hand.location)
		relogin := b.get(toLogin.location)
		if toLogin.status != 302 || relogin.status != 302 || !strings.HasPrefix(relogin.location, "/auth/app?rd=") {
			t.Fatalf("via the app: %d %s, then %d %s", toLogin.status, toLogin.location, relogin.status, relogin.location)
		}
		hand = b.get(in.portal(relogin.location))
		if hand.status != 302 || !strings.HasPrefix(hand.location, in.url("alpha", "/.stackhub/callback?ticket=")) {
			t.Fatalf("hand-over: %d %s", hand.status, hand.location)
		}
		cb := b.get(hand.location)
		checkCookieFlags(t, setCookie(t, cb.header, "__Host-stackhub-app"))
		if cb.status != 302 || cb.location != "/" {
			t.Errorf("callback: %d %s", cb.status, cb.location)
		}
		if again := anon.get(hand.location); again.status != 400 {
			t.Errorf("ticket used twice: %d", again.status)
		}
	})

	t.Run("spoofed identity and forwarding headers never reach the app", func(t *testing.T) {
		a := admin.do("GET", in.url("alpha", "/headers"), nil, map[string]string{
			"X-Stackhub-User": "mallory", "x_stackhub_user": "mallory", "X_STACKHUB_GROUPS": "admins", "x-stackhub-email": "m@evil",
			"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http", "X_Forwarded_Host": "evil.example",
		})
		if a.status != 200 {
			t.Fatalf("headers: %d %s", a.status, a.body)
		}
		var echo struct{ Headers map[string][]string }
		if err := json.Unmarshal([]byte(a.body), &echo); err != nil {
			t.Fatal(err)
		}
		for k, v := range echo.Headers {
			lk := strings.ReplaceAll(strings.ToLower(k), "_", "-")
			switch {
			case lk == "x-stackhub-user" && (k != "X-Stackhub-User" || len(v) != 1 || v[0] != "root"),
				lk == "x-stackhub-email" || lk == "x-stackhub-groups",
				lk == "x-forwarded-host" && (k != "X-Forwarded-Host" || v[0] != "alpha.localhost:"+strconv.Itoa(in.httpsPort)),
				lk == "x-forwarded-proto" && (k != "X-Forwarded-Proto" || v[0] != "https"),
				strings.Contains(strings.Join(v, ","), "evil"), strings.Contains(strings.Join(v, ","), "mallory"):
				t.Errorf("app received %s: %q", k, v)
			}
		}
		if echo.Headers["X-Stackhub-User"] == nil {
			t.Errorf("app did not receive X-Stackhub-User: %v", echo.Headers)
		}
	})

	t.Run("WebSocket through the gate: refused signed out, works with the app cookie", func(t *testing.T) {
		dial := func(cookie string) error {
			conn, err := tls.Dial("tcp", "127.0.0.1:"+strconv.Itoa(in.httpsPort), &tls.Config{RootCAs: in.rootCAs(), ServerName: "alpha.localhost", NextProtos: []string{"http/1.1"}})
			if err != nil {
				return err
			}
			cfg, _ := websocket.NewConfig(in.url("alpha", "/ws"), in.url("alpha", ""))
			cfg.Location.Scheme = "wss"
			if cookie != "" {
				cfg.Header = http.Header{"Cookie": {cookie}}
			}
			ws, err := websocket.NewClient(cfg, conn)
			if err != nil {
				conn.Close()
				return err
			}
			defer ws.Close()
			if _, err := ws.Write([]byte("ping")); err != nil {
				return err
			}
			buf := make([]byte, 16)
			n, err := ws.Read(buf)
			if err != nil || string(buf[:n]) != "ping" {
				return fmt.Errorf("echo %q: %v", buf[:n], err)
			}
			return nil
		}
		if err := dial(""); err == nil {
			t.Error("signed-out WebSocket got through")
		}
		var cookie string
		for _, c := range admin.c.Jar.Cookies(mustParse(t, in.url("alpha", "/"))) {
			if c.Name == "__Host-stackhub-app" {
				cookie = c.Name + "=" + c.Value
			}
		}
		if err := dial(cookie); err != nil {
			t.Errorf("signed-in WebSocket: %v", err)
		}
	})

	t.Run("hostile return URLs are refused", func(t *testing.T) {
		for _, rd := range []string{
			"https://evil.example/", "//evil.example/", "/\\evil.example", "\\\\evil.example", "javascript:alert(1)",
			"JaVaScRiPt:alert(1)", "data:text/html,x", "http://alpha.localhost/", "https://alpha.localhost@evil.example/",
			"https:evil.example", "https:///evil.example", "/%2F%2Fevil.example", "%2F%2Fevil.example", "/%5Cevil.example",
			"/%252F%252Fevil.example", "https://evil.example%2F@alpha.localhost/", "https://alpha.localhost.evil.example/",
			" //evil.example", "/\t/evil.example",
		} {
			a := admin.get(in.portal("/auth/app?rd=" + url.QueryEscape(rd)))
			if a.status != 400 || a.location != "" {
				t.Errorf("auth/app rd=%q: %d %q", rd, a.status, a.location)
			}
			a = admin.get(in.portal("/login?rd=" + url.QueryEscape(rd)))
			if a.status != 302 || a.location != "/" {
				t.Errorf("signed-in login rd=%q: %d %q", rd, a.status, a.location)
			}
			if p := anon.get(in.portal("/login?rd=" + url.QueryEscape(rd))); p.status != 200 || !strings.Contains(p.body, `name="rd" value=""`) {
				t.Errorf("login page keeps rd=%q: %d %s", rd, p.status, p.body)
			}
		}
	})

	t.Run("CSRF: portal POST without the token is refused", func(t *testing.T) {
		if a := admin.do("POST", in.portal("/logout"), url.Values{}, nil); a.status != 403 {
			t.Errorf("logout without token: %d", a.status)
		}
		if a := admin.do("POST", in.portal("/admin/users"), url.Values{"username": {"eve"}, "password": {"eve-password-1"}, "csrf": {"forged"}}, nil); a.status != 403 {
			t.Errorf("add user with a forged token: %d", a.status)
		}
		if a := admin.do("POST", in.portal("/api/users/carol/revoke"), nil, nil); a.status != 403 {
			t.Errorf("API without token: %d", a.status)
		}
		if a := anon.do("POST", in.portal("/login"), url.Values{"username": {"root"}, "password": {"root-password-1"}}, nil); a.status != 403 {
			t.Errorf("login without token: %d", a.status)
		}
		page := admin.get(in.portal("/admin"))
		a := admin.do("POST", in.portal("/logout"), url.Values{"csrf": {csrfOf(t, page.body)}}, map[string]string{"Origin": "https://evil.example"})
		if a.status != 403 {
			t.Errorf("logout from a foreign origin: %d", a.status)
		}
		if users := in.mustCLI("user", "list"); strings.Contains(users, "eve") {
			t.Errorf("eve was added:\n%s", users)
		}
	})

	bob, dave := in.newBrowserish(), in.newBrowserish()
	var bobSecret string
	t.Run("TOTP code works once; replayed and two-steps-old codes are refused", func(t *testing.T) {
		_, bobSecret = bob.login("bob", "bob-password-1", "", "")
		enrolCode, _ := totp.GenerateCode(bobSecret, time.Unix(lastStep[bobSecret]*30, 0))
		b := in.newBrowserish()
		a, _ := b.login("bob", "bob-password-1", "", "")
		if a.status != 303 || !strings.HasPrefix(a.location, "/login/code") {
			t.Fatalf("password: %d %s", a.status, a.location)
		}
		page := b.get(in.portal(a.location))
		if r := b.code(page.body, enrolCode, ""); r.status != 401 || !strings.Contains(r.body, "already used") {
			t.Errorf("replayed code: %d", r.status)
		}
		old, _ := totp.GenerateCode(bobSecret, time.Now().Add(-60*time.Second))
		if r := b.code(page.body, old, ""); r.status != 401 {
			t.Errorf("two-steps-old code: %d", r.status)
		}
		if r := b.code(page.body, freshCode(bobSecret), ""); r.status != 303 {
			t.Errorf("fresh code: %d %s", r.status, r.body)
		}
	})

	t.Run("brute force lockout refuses the right password too", func(t *testing.T) {
		b := in.newBrowserish()
		for i := range 5 {
			if a, _ := b.login("carol", "wrong-password-"+strconv.Itoa(i), "", ""); a.status != 401 {
				t.Fatalf("wrong password %d: %d", i, a.status)
			}
		}
		a, _ := b.login("carol", "carol-password-1", "", "")
		if a.status != 429 || !strings.Contains(a.body, "too many failed attempts") {
			t.Errorf("right password while locked: %d %s", a.status, a.body)
		}
		// The rate limits key on Caddy's resolved client address, not on
		// a header the client sends.
		page := b.get(in.portal("/login"))
		a = b.do("POST", in.portal("/login"), url.Values{"csrf": {csrfOf(t, page.body)}, "username": {"carol"}, "password": {"carol-password-1"}},
			map[string]string{"X-Stackhub-Client-Ip": "203.0.113.9", "X_Stackhub_Client_Ip": "203.0.113.9", "X-Forwarded-For": "203.0.113.9", "X-Real-Ip": "203.0.113.9"})
		if a.status != 429 {
			t.Errorf("locked user with a spoofed client address: %d", a.status)
		}
		if strings.Contains(in.out.String(), "from 203.0.113.9") {
			t.Error("the portal believed a client-sent address")
		}
	})

	t.Run("policy changes take effect on the next request", func(t *testing.T) {
		bob.open("bob", "bob-password-1", bobSecret, in.url("alpha", "/"))
		in.mustCLI("access", "set", "alpha", "--access", "restricted", "--groups", "ops")
		if a := bob.get(in.url("alpha", "/")); a.status != 403 {
			t.Errorf("restricted, bob outside ops: %d", a.status)
		}
		in.mustCLI("user", "set", "bob", "--groups", "staff,ops")
		if a := bob.get(in.url("alpha", "/")); a.status != 200 {
			t.Errorf("bob added to ops: %d", a.status)
		}
		in.mustCLI("access", "set", "alpha", "--access", "private")
	})

	t.Run("public app and a path exception pass without login", func(t *testing.T) {
		in.mustCLI("access", "set", "beta", "--access", "public")
		if a := anon.get(in.url("beta", "/")); a.status != 200 || !strings.HasPrefix(a.body, "hello from beta") {
			t.Errorf("public app: %d %q", a.status, a.body)
		}
		in.mustCLI("access", "set", "alpha", "--access", "private", "--public-paths", "/health,/api/*")
		if a := anon.get(in.url("alpha", "/health")); a.status != 200 {
			t.Errorf("path exception: %d", a.status)
		}
		if a := anon.get(in.url("alpha", "/api/../headers")); a.status != 302 {
			t.Errorf("dot segments out of the exception: %d", a.status)
		}
		if a := anon.get(in.url("alpha", "/headers")); a.status != 302 {
			t.Errorf("outside the exception: %d", a.status)
		}
	})

	t.Run("restricted app refuses a member outside its group", func(t *testing.T) {
		in.mustCLI("access", "set", "beta", "--access", "restricted", "--groups", "ops")
		in.mustCLI("user", "set", "bob", "--groups", "staff")
		a, _ := bob.follow(in.url("beta", "/"))
		if a.status != 403 || !strings.Contains(a.body, "may not use beta") {
			t.Errorf("bob on restricted beta: %d %s", a.status, a.body)
		}
		dave.open("dave", "dave-password-1", "", in.url("beta", "/"))
	})

	t.Run("revoked session and removed user lose access at once", func(t *testing.T) {
		if a := bob.get(in.url("alpha", "/")); a.status != 200 {
			t.Fatalf("bob before sign-out: %d", a.status)
		}
		page := bob.get(in.portal("/"))
		if a := bob.do("POST", in.portal("/logout"), url.Values{"csrf": {csrfOf(t, page.body)}}, nil); a.status != 303 {
			t.Fatalf("sign out: %d", a.status)
		}
		if a := bob.get(in.url("alpha", "/")); a.status != 302 {
			t.Errorf("after sign-out: %d", a.status)
		}
		if a := dave.get(in.url("beta", "/")); a.status != 200 {
			t.Fatalf("dave before removal: %d", a.status)
		}
		in.mustCLI("user", "remove", "dave")
		if a := dave.get(in.url("beta", "/")); a.status != 302 {
			t.Errorf("removed user: %d", a.status)
		}
	})

	t.Run("relaxing TOTP is explicit and shown as a warning", func(t *testing.T) {
		if a := admin.get(in.portal("/")); a.status != 200 || strings.Contains(a.body, "optional") {
			t.Fatalf("dashboard: %d", a.status)
		}
		if out := in.mustCLI("user", "require-totp", "off"); !strings.Contains(out, "WARNING") {
			t.Errorf("require-totp off:\n%s", out)
		}
		if a := admin.get(in.portal("/")); !strings.Contains(a.body, "Two-factor sign-in is optional") {
			t.Errorf("no warning on the dashboard")
		}
		if !strings.Contains(in.out.String(), "two-factor sign-in made OPTIONAL") {
			t.Errorf("no warning in the log")
		}
		in.mustCLI("user", "require-totp", "on")
	})

	t.Run("signing out from an app signs out of the portal and every app", func(t *testing.T) {
		page := admin.get(in.url("alpha", "/.stackhub/logout"))
		tok := regexp.MustCompile(`name="token" value="([^"]+)"`).FindStringSubmatch(page.body)
		if page.status != 200 || tok == nil {
			t.Fatalf("sign-out page: %d %s", page.status, page.body)
		}
		a := admin.do("POST", in.url("alpha", "/.stackhub/logout"), url.Values{"token": {tok[1]}},
			map[string]string{"Origin": in.url("alpha", ""), "Sec-Fetch-Site": "same-origin"})
		if a.status != 303 || a.location != in.portal("/login") {
			t.Fatalf("app sign-out: %d %s", a.status, a.location)
		}
		if a := admin.get(in.portal("/")); a.status != 302 {
			t.Errorf("portal after app sign-out: %d", a.status)
		}
		if a := admin.get(in.url("alpha", "/headers")); a.status != 302 {
			t.Errorf("app after app sign-out: %d", a.status)
		}
	})
}

func mustParse(t *testing.T, u string) *url.URL {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

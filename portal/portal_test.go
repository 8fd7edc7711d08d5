package portal

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/internal/auth"
	"github.com/stackhub/stackhub/internal/kv"
	"github.com/stackhub/stackhub/internal/registry"
)

const domain = "home.example"

type env struct {
	t   *testing.T
	p   *Portal
	a   *auth.Service
	reg *registry.Registry
	jar map[string]string // cookie name → value, as a browser would keep them
	// lastBody is the recovery codes page of signIn.
	lastBody string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db, err := kv.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	a, err := auth.New(db, auth.Options{Argon2: auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}})
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.New()
	reg.Put(registry.Entry{App: "vault", Host: "vault." + domain, Upstream: "10.0.0.2:80"})
	p := New(Config{Auth: a, Registry: reg, Policies: registryPolicies{reg}, Domain: domain, HTTPSPort: 8443})
	return &env{t: t, p: p, a: a, reg: reg, jar: map[string]string{}}
}

type resp struct {
	status int
	header http.Header
	body   string
}

func (e *env) do(method, path string, form url.Values, hdr ...string) resp {
	e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, "https://my."+domain+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("X-Forwarded-For", "192.0.2.1")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	for k, v := range e.jar {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	r, err := e.p.App().Test(req, -1)
	if err != nil {
		e.t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	for _, c := range r.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(e.jar, c.Name)
		} else {
			e.jar[c.Name] = c.Value
		}
	}
	return resp{r.StatusCode, r.Header, string(b)}
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrf(t *testing.T, body string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf field:\n%s", body)
	}
	return m[1]
}

// signIn creates an admin and signs in through the pages, enrolling TOTP.
func (e *env) signIn() {
	e.t.Helper()
	if _, err := e.a.CreateUser(auth.NewUser{Name: "ann", Role: auth.RoleAdmin, Password: "ann-password-1"}); err != nil {
		e.t.Fatal(err)
	}
	page := e.do("GET", "/login", nil)
	r := e.do("POST", "/login", url.Values{"csrf": {csrf(e.t, page.body)}, "username": {"ann"}, "password": {"ann-password-1"}})
	if r.status != 303 || !strings.HasPrefix(r.header.Get("Location"), "/login/enrol") {
		e.t.Fatalf("password: %d %s", r.status, r.header.Get("Location"))
	}
	page = e.do("GET", r.header.Get("Location"), nil)
	key := regexp.MustCompile(`id="manualkey">([A-Z2-7 ]+)<`).FindStringSubmatch(page.body)
	if key == nil {
		e.t.Fatalf("enrol page:\n%s", page.body)
	}
	code, _ := totp.GenerateCode(strings.ReplaceAll(key[1], " ", ""), time.Now())
	r = e.do("POST", "/login/enrol", url.Values{"csrf": {csrf(e.t, page.body)}, "code": {code}})
	if r.status != 200 || !strings.Contains(r.body, `id="codes"`) || e.jar[SessionCookie] == "" {
		e.t.Fatalf("enrolment: %d %s", r.status, r.body)
	}
	e.lastBody = r.body
}

func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/login", "/setup", "/static/style.css", "/nope", "/auth/app?rd=//evil"} {
		r := e.do("GET", path, nil)
		csp := r.header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", path, r.header)
		}
	}
}

func TestFirstRunNeedsTheSetupToken(t *testing.T) {
	e := newEnv(t)
	tok, err := e.a.SetupToken()
	if err != nil {
		t.Fatal(err)
	}
	if r := e.do("GET", "/login", nil); r.status != 302 || r.header.Get("Location") != "/setup" {
		t.Fatalf("login before setup: %d %s", r.status, r.header.Get("Location"))
	}
	page := e.do("GET", "/setup", nil)
	form := url.Values{"csrf": {csrf(t, page.body)}, "token": {"nope"}, "username": {"ann"}, "password": {"ann-password-1"}}
	if r := e.do("POST", "/setup", form); r.status != 400 {
		t.Errorf("wrong token: %d", r.status)
	}
	form.Set("token", tok)
	if r := e.do("POST", "/setup", form); r.status != 303 {
		t.Fatalf("setup: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/setup", nil); r.status != 302 {
		t.Errorf("setup page after setup: %d", r.status)
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t)
	e.signIn()
	dash := e.do("GET", "/", nil)
	if dash.status != 200 || !strings.Contains(dash.body, `data-app="vault"`) {
		t.Fatalf("dashboard: %d %s", dash.status, dash.body)
	}
	tok := csrf(t, dash.body)
	if r := e.do("POST", "/logout", url.Values{}); r.status != 403 {
		t.Errorf("logout without token: %d", r.status)
	}
	if r := e.do("POST", "/logout", url.Values{"csrf": {tok}}, "Origin", "https://evil.example"); r.status != 403 {
		t.Errorf("logout from another origin: %d", r.status)
	}
	if r := e.do("PUT", "/api/apps/vault/policy", nil, "Content-Type", "application/json"); r.status != 403 {
		t.Errorf("API without token: %d", r.status)
	}
	r := e.do("POST", "/admin/apps/vault/policy", url.Values{"csrf": {tok}, "access": {"restricted"}, "groups": {"Ops"}})
	if r.status != 303 || r.header.Get("Location") != "/admin" {
		t.Fatalf("policy form: %d %s", r.status, r.header.Get("Location"))
	}
	if got, _ := e.reg.Lookup("vault." + domain); got.Policy.Access != registry.Restricted || got.Policy.Groups[0] != "ops" {
		t.Errorf("policy = %+v", got.Policy)
	}
	if r := e.do("POST", "/logout", url.Values{"csrf": {tok}}, "Origin", "https://my."+domain+":8443"); r.status != 303 {
		t.Errorf("logout: %d", r.status)
	}
	if r := e.do("GET", "/", nil); r.status != 302 {
		t.Errorf("dashboard after sign-out: %d", r.status)
	}
}

func TestHandOverOnlyToAppHosts(t *testing.T) {
	e := newEnv(t)
	e.signIn()
	// Without the app host's binding (a dashboard link): to the app, whose
	// gate gives the browser its nonce first.
	r := e.do("GET", "/auth/app?rd="+url.QueryEscape("https://vault."+domain+":8443/a/b?c=d"), nil)
	if loc := r.header.Get("Location"); r.status != 302 || loc != "https://vault."+domain+":8443/a/b?c=d" {
		t.Fatalf("unbound hand-over: %d %s", r.status, loc)
	}
	nonce := auth.NewBrowserNonce()
	r = e.do("GET", "/auth/app?rd="+url.QueryEscape(auth.ReturnWithBinding("https://vault."+domain+":8443/a/b?c=d", nonce)), nil)
	loc := r.header.Get("Location")
	if r.status != 302 || !strings.HasPrefix(loc, "https://vault."+domain+":8443/.stackhub/callback?ticket=") {
		t.Fatalf("hand-over: %d %s", r.status, loc)
	}
	ticket, _ := url.Parse(loc)
	s, err := e.a.RedeemTicket(ticket.Query().Get("ticket"), "vault."+domain, nonce)
	if err != nil || s.ReturnPath != "/a/b?c=d" {
		t.Errorf("redeem: %+v %v", s, err)
	}
	for _, rd := range []string{"https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)",
		"https://my." + domain + "/", "/%2F%2Fevil.example", "https://vault." + domain + "@evil.example/", "http://vault." + domain + "/"} {
		if r := e.do("GET", "/auth/app?rd="+url.QueryEscape(rd), nil); r.status != 400 || r.header.Get("Location") != "" {
			t.Errorf("rd=%q: %d %s", rd, r.status, r.header.Get("Location"))
		}
	}
}

// registryPolicies stands in for appctl.Manager (whose SetPolicy is tested
// in appctl on the real engine): it applies policies to the registry.
type registryPolicies struct{ reg *registry.Registry }

func (r registryPolicies) SetPolicy(app string, pol registry.Policy) error {
	for _, e := range r.reg.Entries() {
		if e.App == app {
			e.Policy = pol
			r.reg.Put(e)
			return nil
		}
	}
	return fmt.Errorf("%w: %s", appctl.ErrNotInstalled, app)
}

func TestSetPolicyValidates(t *testing.T) {
	reg := registry.New()
	reg.Put(registry.Entry{App: "vault", Host: "vault." + domain})
	store := registryPolicies{reg}
	for _, bad := range []registry.Policy{
		{Access: "everyone"}, {Access: registry.Restricted, Groups: []string{"a,b"}},
		{Access: registry.Restricted, Users: []string{"Bad User"}}, {PublicPaths: []string{"api/*"}},
	} {
		if err := SetPolicy(store, "vault", bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if err := SetPolicy(store, "nope", registry.Policy{}); err == nil {
		t.Error("unknown app accepted")
	}
	if err := SetPolicy(store, "vault", registry.Policy{PublicPaths: []string{"/api/*"}}); err != nil {
		t.Fatal(err)
	}
	if e, _ := reg.Lookup("vault." + domain); e.Policy.Access != registry.Private || e.Policy.PublicPaths[0] != "/api/*" {
		t.Errorf("policy = %+v", e.Policy)
	}
}

func TestAdminPagesAndAPI(t *testing.T) {
	e := newEnv(t)
	e.signIn()
	page := e.do("GET", "/admin", nil)
	if page.status != 200 || !strings.Contains(page.body, "ann") || !strings.Contains(page.body, "/admin/apps/vault/policy") {
		t.Fatalf("admin page: %d %s", page.status, page.body)
	}
	tok := csrf(t, page.body)
	r := e.do("POST", "/admin/users", url.Values{"csrf": {tok}, "username": {"ben"}, "password": {"ben-password-1"}, "groups": {"ops, staff"}})
	if r.status != 303 || r.header.Get("Location") != "/admin" {
		t.Fatalf("add user: %d %s", r.status, r.header.Get("Location"))
	}
	if u, err := e.a.GetUser("ben"); err != nil || u.Role != auth.RoleMember || len(u.Groups) != 2 {
		t.Errorf("ben = %+v, %v", u, err)
	}
	if r := e.do("POST", "/admin/users", url.Values{"csrf": {tok}, "username": {"ben"}, "password": {"short"}}); !strings.Contains(r.header.Get("Location"), "error=") {
		t.Errorf("weak password accepted: %s", r.header.Get("Location"))
	}
	if r := e.do("GET", "/api/users", nil); r.status != 200 || !strings.Contains(r.body, `"name":"ben"`) {
		t.Errorf("API users: %d %s", r.status, r.body)
	}
	if r := e.do("DELETE", "/api/users/ben", nil, "X-CSRF-Token", tok); r.status != 204 {
		t.Errorf("API delete: %d %s", r.status, r.body)
	}
	if r := e.do("DELETE", "/api/users/ann", nil, "X-CSRF-Token", tok); r.status != 409 {
		t.Errorf("deleting the last admin: %d %s", r.status, r.body)
	}
	// A member sees neither the admin pages nor the API.
	if _, err := e.a.CreateUser(auth.NewUser{Name: "cid", Password: "cid-password-1"}); err != nil {
		t.Fatal(err)
	}
	m := newEnvSharing(e)
	m.signInAs("cid", "cid-password-1")
	if r := m.do("GET", "/admin", nil); r.status != 403 {
		t.Errorf("member on /admin: %d", r.status)
	}
	if r := m.do("GET", "/api/users", nil); r.status != 403 {
		t.Errorf("member on the API: %d", r.status)
	}
}

// newEnvSharing is a second browser on e's portal.
func newEnvSharing(e *env) *env {
	return &env{t: e.t, p: e.p, a: e.a, reg: e.reg, jar: map[string]string{}}
}

func (e *env) signInAs(name, password string) {
	e.t.Helper()
	page := e.do("GET", "/login", nil)
	r := e.do("POST", "/login", url.Values{"csrf": {csrf(e.t, page.body)}, "username": {name}, "password": {password}})
	page = e.do("GET", r.header.Get("Location"), nil)
	key := regexp.MustCompile(`id="manualkey">([A-Z2-7 ]+)<`).FindStringSubmatch(page.body)
	if key == nil {
		e.t.Fatalf("enrol page:\n%s", page.body)
	}
	code, _ := totp.GenerateCode(strings.ReplaceAll(key[1], " ", ""), time.Now())
	if r := e.do("POST", "/login/enrol", url.Values{"csrf": {csrf(e.t, page.body)}, "code": {code}}); r.status != 200 {
		e.t.Fatalf("enrolment of %s: %d", name, r.status)
	}
}

func TestAccountSessions(t *testing.T) {
	e := newEnv(t)
	e.signIn()
	other := newEnvSharing(e)
	page := other.do("GET", "/login", nil)
	r := other.do("POST", "/login", url.Values{"csrf": {csrf(t, page.body)}, "username": {"ann"}, "password": {"ann-password-1"}})
	if r.status != 303 || !strings.HasPrefix(r.header.Get("Location"), "/login/code") {
		t.Fatalf("second sign-in: %d %s", r.status, r.header.Get("Location"))
	}
	// Use the recovery path: the TOTP step of the first sign-in is taken.
	codes := regexp.MustCompile(`<li>([^<]+)</li>`).FindAllStringSubmatch(e.lastBody, -1)
	if len(codes) == 0 {
		t.Fatal("no recovery codes kept")
	}
	page = other.do("GET", r.header.Get("Location"), nil)
	if r := other.do("POST", "/login/code", url.Values{"csrf": {csrf(t, page.body)}, "recovery": {codes[0][1]}}); r.status != 303 {
		t.Fatalf("recovery code: %d %s", r.status, r.body)
	}
	acct := e.do("GET", "/account", nil)
	ids := regexp.MustCompile(`data-session="([^"]+)"`).FindAllStringSubmatch(acct.body, -1)
	if acct.status != 200 || len(ids) != 1 || !strings.Contains(acct.body, "this browser") {
		t.Fatalf("account page: %d %s", acct.status, acct.body)
	}
	if r := e.do("POST", "/account/sessions/"+ids[0][1]+"/revoke", url.Values{"csrf": {csrf(t, acct.body)}}); r.status != 303 {
		t.Fatalf("revoke: %d", r.status)
	}
	if r := other.do("GET", "/", nil); r.status != 302 {
		t.Errorf("revoked session still in: %d", r.status)
	}
	if r := e.do("POST", "/account/signout-all", url.Values{"csrf": {csrf(t, acct.body)}}); r.status != 303 {
		t.Fatalf("sign out everywhere: %d", r.status)
	}
	if r := e.do("GET", "/", nil); r.status != 302 {
		t.Errorf("after sign out everywhere: %d", r.status)
	}
}

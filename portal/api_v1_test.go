package portal

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stackhub/stackhub/internal/auth"
)

// v1Endpoints is every /api/v1 endpoint, whether it is for admins only,
// and whether it changes state (and so needs the CSRF token).
var v1Endpoints = []struct {
	method, path string
	admin        bool
}{
	{"GET", "/api/v1/me", false},
	{"GET", "/api/v1/apps", false},
	{"GET", "/api/v1/system/stats?once=true", false},
	{"GET", "/api/v1/apps/vault", true},
	{"POST", "/api/v1/apps/vault/start", true},
	{"POST", "/api/v1/apps/vault/stop", true},
	{"POST", "/api/v1/apps/vault/restart", true},
	{"DELETE", "/api/v1/apps/vault", true},
	{"GET", "/api/v1/apps/vault/settings", true},
	{"PUT", "/api/v1/apps/vault/settings", true},
	{"PUT", "/api/v1/apps/vault/subdomain", true},
	{"GET", "/api/v1/apps/vault/policy", true},
	{"PUT", "/api/v1/apps/vault/policy", true},
	{"GET", "/api/v1/apps/vault/logs", true},
	{"GET", "/api/v1/apps/vault/stats", true},
	{"GET", "/api/v1/apps/vault/history", true},
	{"GET", "/api/v1/apps/vault/events", true},
	{"GET", "/api/v1/apps/vault/domains", true},
	{"GET", "/api/v1/apps/vault/domains/check?name=photos.example.org", true},
	{"POST", "/api/v1/apps/vault/domains", true},
	{"DELETE", "/api/v1/apps/vault/domains/photos.example.org", true},
	{"POST", "/api/v1/install", true},
	{"GET", "/api/v1/operations", true},
	{"GET", "/api/v1/operations/x", true},
	{"GET", "/api/v1/subdomain?name=x", true},
	{"GET", "/api/v1/stores", true},
	{"POST", "/api/v1/stores", true},
	{"POST", "/api/v1/stores/refresh", true},
	{"DELETE", "/api/v1/stores/x", true},
	{"GET", "/api/v1/store/apps", true},
	{"GET", "/api/v1/store/apps/builtin/whoami", true},
	{"GET", "/api/v1/groups", true},
	{"GET", "/api/v1/users", true},
	{"POST", "/api/v1/users", true},
	{"PATCH", "/api/v1/users/ann", true},
	{"DELETE", "/api/v1/users/ann", true},
	{"POST", "/api/v1/users/ann/password", true},
	{"POST", "/api/v1/users/ann/reset-totp", true},
	{"POST", "/api/v1/users/ann/revoke", true},
	{"PUT", "/api/v1/settings/totp-required", true},
	{"GET", "/api/v1/hosts", true},
	{"GET", "/api/v1/nodes", true},
}

func changes(method string) bool { return method != "GET" }

// TestAPIv1Refusals: signed out, every endpoint answers 401; a member gets
// 403 from every admin endpoint; a state change without the session's CSRF
// token (or with another session's) is refused with 403 and changes
// nothing.
func TestAPIv1Refusals(t *testing.T) {
	e := newEnv(t)
	anon := newEnvSharing(e)
	for _, ep := range v1Endpoints {
		r := anon.do(ep.method, ep.path, nil)
		if r.status != 401 || !strings.Contains(r.body, `"error"`) {
			t.Errorf("signed out: %s %s = %d %s", ep.method, ep.path, r.status, r.body)
		}
	}
	e.signIn()
	if _, err := e.a.CreateUser(auth.NewUser{Name: "cid", Password: "cid-password-1", Groups: []string{"family"}}); err != nil {
		t.Fatal(err)
	}
	m := newEnvSharing(e)
	m.signInAs("cid", "cid-password-1")
	var me struct {
		User  string `json:"user"`
		Admin bool   `json:"admin"`
		CSRF  string `json:"csrf"`
	}
	r := m.do("GET", "/api/v1/me", nil)
	if err := json.Unmarshal([]byte(r.body), &me); err != nil || r.status != 200 || me.User != "cid" || me.Admin || me.CSRF == "" {
		t.Fatalf("member's /me: %d %s", r.status, r.body)
	}
	for _, ep := range v1Endpoints {
		r := m.do(ep.method, ep.path, nil, "X-CSRF-Token", me.CSRF)
		if ep.admin && r.status != 403 {
			t.Errorf("member: %s %s = %d %s", ep.method, ep.path, r.status, r.body)
		}
		if !ep.admin && r.status == 403 {
			t.Errorf("member refused %s %s: %s", ep.method, ep.path, r.body)
		}
	}

	// Nor do the store and management pages show to a member, nor their
	// controls on the home page.
	for _, page := range []string{"/store", "/store/new", "/store/builtin/whoami", "/apps/vault", "/admin", "/nodes"} {
		if r := m.do("GET", page, nil); r.status != 403 {
			t.Errorf("member on %s: %d", page, r.status)
		}
	}
	if r := m.do("GET", "/", nil); r.status != 200 || strings.Contains(r.body, "/store") || strings.Contains(r.body, "Manage") || strings.Contains(r.body, "/admin") {
		t.Errorf("member's home page shows admin controls:\n%s", r.body)
	}

	var adminMe struct{ CSRF string }
	json.Unmarshal([]byte(e.do("GET", "/api/v1/me", nil).body), &adminMe)
	for _, ep := range v1Endpoints {
		if !changes(ep.method) {
			continue
		}
		for _, tok := range []string{"", me.CSRF, "forged"} {
			r := e.do(ep.method, ep.path, nil, "X-CSRF-Token", tok)
			if r.status != 403 || !strings.Contains(r.body, "expired") {
				t.Errorf("admin without a valid CSRF token (%q): %s %s = %d %s", tok, ep.method, ep.path, r.status, r.body)
			}
		}
	}
	// Nothing happened: ann is still there with her second factor, and
	// two-factor sign-in is still required.
	if u, err := e.a.GetUser("ann"); err != nil || !u.TOTPEnabled {
		t.Errorf("after refused changes ann is %+v, %v", u, err)
	}
	if st, _ := e.a.Settings(); !st.TOTPRequired {
		t.Error("a refused change relaxed two-factor sign-in")
	}
	// And from another origin, even with the right token.
	if r := e.do("POST", "/api/v1/users", nil, "X-CSRF-Token", adminMe.CSRF, "Origin", "https://evil.example"); r.status != 403 {
		t.Errorf("cross-origin with the token: %d", r.status)
	}
	// Without the platform, its endpoints say so.
	if r := e.do("GET", "/api/v1/stores", nil); r.status != 503 {
		t.Errorf("no platform: %d %s", r.status, r.body)
	}
}

// TestAPIv1UsersAndGroups: everything `stackhub user …` does, through the
// API, with its validation errors.
func TestAPIv1UsersAndGroups(t *testing.T) {
	e := newEnv(t)
	e.signIn()
	var me struct{ CSRF string }
	json.Unmarshal([]byte(e.do("GET", "/api/v1/me", nil).body), &me)
	tok := me.CSRF
	j := func(method, path, body string) resp {
		t.Helper()
		return e.doJSON(method, path, body, tok)
	}
	if r := j("POST", "/api/v1/users", `{"name":"ben","password":"ben-password-1","groups":["family","ops"]}`); r.status != 201 {
		t.Fatalf("add: %d %s", r.status, r.body)
	}
	for _, bad := range []struct{ body, want string }{
		{`{"name":"ben","password":"ben-password-2"}`, "409"},
		{`{"name":"Bad Name!","password":"long-enough-pw"}`, "400"},
		{`{"name":"dan","password":"short"}`, "400"},
		{`{"name":"dan","password":"dan-password-1","role":"king"}`, "400"},
		{`not json`, "400"},
	} {
		if r := j("POST", "/api/v1/users", bad.body); strconv.Itoa(r.status) != bad.want {
			t.Errorf("add %s: %d %s, want %s", bad.body, r.status, r.body, bad.want)
		}
	}
	if r := j("PATCH", "/api/v1/users/ben", `{"role":"admin","groups":["family"],"disabled":true}`); r.status != 200 || !strings.Contains(r.body, `"disabled":true`) {
		t.Errorf("change: %d %s", r.status, r.body)
	}
	if r := j("PATCH", "/api/v1/users/nobody", `{"disabled":true}`); r.status != 404 {
		t.Errorf("change of nobody: %d %s", r.status, r.body)
	}
	if r := j("POST", "/api/v1/users/ben/password", `{"password":"x"}`); r.status != 400 {
		t.Errorf("weak password: %d %s", r.status, r.body)
	}
	if r := j("POST", "/api/v1/users/ben/password", `{"password":"ben-password-9"}`); r.status != 204 {
		t.Errorf("password: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/api/v1/groups", nil); r.status != 200 || !strings.Contains(r.body, `{"name":"family","members":["ben"]}`) {
		t.Errorf("groups: %d %s", r.status, r.body)
	}
	if r := j("PUT", "/api/v1/settings/totp-required", `{}`); r.status != 400 {
		t.Errorf("totp-required without a value: %d %s", r.status, r.body)
	}
	if r := j("PUT", "/api/v1/settings/totp-required", `{"required":false}`); r.status != 204 {
		t.Errorf("totp-required: %d %s", r.status, r.body)
	}
	if st, _ := e.a.Settings(); st.TOTPRequired {
		t.Error("TOTP still required")
	}
	if r := j("POST", "/api/v1/users/ben/revoke", ``); r.status != 204 {
		t.Errorf("revoke: %d %s", r.status, r.body)
	}
	if r := j("DELETE", "/api/v1/users/ben", ``); r.status != 204 {
		t.Errorf("remove: %d %s", r.status, r.body)
	}
	if _, err := e.a.GetUser("ben"); err == nil {
		t.Error("ben still exists")
	}
}

// doJSON sends a JSON body with the CSRF token.
func (e *env) doJSON(method, path, body, token string) resp {
	e.t.Helper()
	return e.doBody(method, path, "application/json", body, "X-CSRF-Token", token)
}

// doBody sends a raw body of type ctype.
func (e *env) doBody(method, path, ctype, body string, hdr ...string) resp {
	e.t.Helper()
	req := httptest.NewRequest(method, "https://my."+domain+path, strings.NewReader(body))
	req.Header.Set("Content-Type", ctype)
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
	return resp{r.StatusCode, r.Header, string(b)}
}

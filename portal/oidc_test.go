package portal

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stackhub/stackhub/internal/kv"
	"github.com/stackhub/stackhub/internal/oidcprovider"
	"github.com/stackhub/stackhub/internal/registry"
)

const issuer = "https://my." + domain + ":8443"

// withOIDC mounts a provider on the test portal and registers a client
// for the vault app.
func withOIDC(e *env) (*oidcprovider.Provider, oidcprovider.Credentials) {
	e.t.Helper()
	db, err := kv.Open(e.t.TempDir())
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { db.Close() })
	prov, err := oidcprovider.New(db, oidcprovider.Options{
		Issuer: issuer, Users: e.a,
		Policy: func(app string) (registry.Policy, bool) {
			en, ok := e.reg.Lookup(app + "." + domain)
			return en.Policy, ok
		},
		LoginURL: func(id string) string { return issuer + OIDCLoginPath + "?id=" + url.QueryEscape(id) },
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.p.MountOIDC(prov)
	cr, err := prov.RegisterClient("vault", []string{"https://vault." + domain + ":8443/cb"})
	if err != nil {
		e.t.Fatal(err)
	}
	return prov, cr
}

const pkceVerifier = "a-verifier-of-at-least-forty-three-characters-0123456789"

func authorizePath(cr oidcprovider.Credentials, state string) string {
	sum := sha256.Sum256([]byte(pkceVerifier))
	q := url.Values{"client_id": {cr.ClientID}, "redirect_uri": {cr.RedirectURIs[0]}, "response_type": {"code"},
		"scope": {"openid email"}, "state": {state}, "code_challenge_method": {"S256"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}}
	return "/oidc/authorize?" + q.Encode()
}

func pathOf(t *testing.T, loc string) string {
	t.Helper()
	u, err := url.Parse(loc)
	if err != nil || (u.Host != "" && u.Host != "my."+domain+":8443") {
		t.Fatalf("redirect to %q, want the portal", loc)
	}
	return u.RequestURI()
}

func TestOIDCSignInReusesPortalSession(t *testing.T) {
	e := newEnv(t)
	_, cr := withOIDC(e)

	if r := e.do("GET", "/.well-known/openid-configuration", nil); r.status != 200 || !strings.Contains(r.body, `"issuer":"`+issuer+`"`) {
		t.Fatalf("discovery: %d %s", r.status, r.body)
	}
	// Signed out: the authorize endpoint leads to the portal's sign-in,
	// which will come back to the pending request.
	r := e.do("GET", authorizePath(cr, "s1"), nil)
	login := pathOf(t, r.header.Get("Location"))
	if r.status != 302 || !strings.HasPrefix(login, OIDCLoginPath+"?id=") {
		t.Fatalf("authorize: %d %q", r.status, login)
	}
	r = e.do("GET", login, nil)
	if want := "/login?rd=" + url.QueryEscape(login); r.status != 302 || r.header.Get("Location") != want {
		t.Fatalf("signed out: %d %q, want %q", r.status, r.header.Get("Location"), want)
	}
	e.signIn()
	// The sign-in page sends a signed-in browser straight back.
	if r = e.do("GET", "/login?rd="+url.QueryEscape(login), nil); r.status != 302 || r.header.Get("Location") != login {
		t.Fatalf("login page when signed in: %d %q", r.status, r.header.Get("Location"))
	}
	// Signed in: no form, straight to the app with a code.
	r = e.do("GET", login, nil)
	r = e.do("GET", pathOf(t, r.header.Get("Location")), nil)
	cb, _ := url.Parse(r.header.Get("Location"))
	if r.status != 302 || !strings.HasPrefix(cb.String(), cr.RedirectURIs[0]+"?") || cb.Query().Get("state") != "s1" || cb.Query().Get("code") == "" {
		t.Fatalf("callback: %d %q", r.status, cb)
	}
	// The app exchanges the code at the token endpoint, through the portal.
	form := url.Values{"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")},
		"redirect_uri": {cr.RedirectURIs[0]}, "code_verifier": {pkceVerifier}}
	basic := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(cr.ClientID) + ":" + url.QueryEscape(cr.ClientSecret)))
	r = e.do("POST", "/oidc/token", form, "Authorization", "Basic "+basic)
	var tok struct {
		IDToken     string `json:"id_token"`
		AccessToken string `json:"access_token"`
	}
	if r.status != 200 || json.Unmarshal([]byte(r.body), &tok) != nil || tok.IDToken == "" {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	r = e.do("GET", "/oidc/userinfo", nil, "Authorization", "Bearer "+tok.AccessToken)
	if r.status != 200 || !strings.Contains(r.body, `"sub":"ann"`) {
		t.Fatalf("userinfo: %d %s", r.status, r.body)
	}
}

func TestOIDCPolicyRefusalReturnsToApp(t *testing.T) {
	e := newEnv(t)
	_, cr := withOIDC(e)
	e.signIn()
	e.reg.Put(registry.Entry{App: "vault", Host: "vault." + domain, Upstream: "10.0.0.2:80",
		Policy: registry.Policy{Access: registry.Restricted, Users: []string{"someone-else"}}})
	r := e.do("GET", authorizePath(cr, "s2"), nil)
	r = e.do("GET", pathOf(t, r.header.Get("Location")), nil)
	cb, _ := url.Parse(r.header.Get("Location"))
	if r.status != http.StatusFound || !strings.HasPrefix(cb.String(), cr.RedirectURIs[0]+"?") ||
		cb.Query().Get("error") != "access_denied" || cb.Query().Get("code") != "" || cb.Query().Get("state") != "s2" {
		t.Fatalf("refused user: %d %q, want the app's redirect URI with error=access_denied", r.status, cb)
	}
}

func TestOIDCPromptNoneSignedOut(t *testing.T) {
	e := newEnv(t)
	_, cr := withOIDC(e)
	r := e.do("GET", authorizePath(cr, "s3")+"&prompt=none", nil)
	r = e.do("GET", pathOf(t, r.header.Get("Location")), nil)
	cb, _ := url.Parse(r.header.Get("Location"))
	if cb.Query().Get("error") != "login_required" || cb.Query().Get("code") != "" {
		t.Fatalf("prompt=none signed out: %d %q", r.status, cb)
	}
}

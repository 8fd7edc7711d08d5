package oidcprovider

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/stackhub/stackhub/internal/auth"
	"github.com/stackhub/stackhub/internal/kv"
	"github.com/stackhub/stackhub/internal/registry"
)

// env is a provider on an httptest server with a real auth.Service and a
// policy table the test edits.
type env struct {
	t        *testing.T
	p        *Provider
	srv      *httptest.Server
	users    *auth.Service
	mu       sync.Mutex
	policies map[string]registry.Policy
	creds    Credentials
	redirect string
}

const loginPage = "https://portal.invalid/oidc/login?id="

func newEnv(t *testing.T) *env {
	t.Helper()
	db, err := kv.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	users, err := auth.New(db, auth.Options{Argon2: auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []auth.NewUser{
		{Name: "alice", Email: "alice@example.com", Role: auth.RoleAdmin, Groups: []string{"family"}, Password: "correct horse battery"},
		{Name: "bob", Email: "bob@example.com", Groups: []string{"guests"}, Password: "correct horse battery"},
	} {
		if _, err := users.CreateUser(u); err != nil {
			t.Fatal(err)
		}
	}
	e := &env{t: t, users: users, policies: map[string]registry.Policy{"wiki": {Access: registry.Private}}}
	mux := http.NewServeMux()
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	e.p, err = New(db, Options{
		Issuer: e.srv.URL,
		Users:  users,
		Policy: func(app string) (registry.Policy, bool) {
			e.mu.Lock()
			defer e.mu.Unlock()
			p, ok := e.policies[app]
			return p, ok
		},
		LoginURL:      func(id string) string { return loginPage + url.QueryEscape(id) },
		AllowInsecure: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/", e.p.Handler())
	// As the platform wires it: disabling or removing a user revokes tokens.
	users.OnUserRevoked(func(u string) {
		if err := e.p.RevokeUser(u); err != nil {
			t.Error(err)
		}
	})
	e.redirect = "https://wiki.home.example/oauth/callback"
	e.creds, err = e.p.RegisterClient("wiki", []string{e.redirect})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) setPolicy(app string, p registry.Policy) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.policies[app] = p
}

func (e *env) oauth2() *oauth2.Config {
	return &oauth2.Config{
		ClientID: e.creds.ClientID, ClientSecret: e.creds.ClientSecret,
		Endpoint:    oauth2.Endpoint{AuthURL: e.srv.URL + "/oidc/authorize", TokenURL: e.srv.URL + "/oidc/token"},
		RedirectURL: e.redirect,
		Scopes:      []string{"openid", "email", "profile", "groups", "offline_access"},
	}
}

var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// startAuth sends the authorize request and returns the pending request id
// the provider hands to the portal's sign-in page.
func (e *env) startAuth(authURL string) string {
	e.t.Helper()
	resp, err := noFollow.Get(authURL)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, loginPage) {
		e.t.Fatalf("authorize: %d to %q, want a redirect to the portal sign-in", resp.StatusCode, loc)
	}
	u, _ := url.Parse(loc)
	return u.Query().Get("id")
}

func (e *env) identity(name string) auth.Identity {
	u, err := e.users.GetUser(name)
	if err != nil {
		e.t.Fatal(err)
	}
	return auth.Identity{User: u.Name, Email: u.Email, Role: u.Role, Groups: u.Groups}
}

// code signs user in through the flow and returns the code the app gets.
func (e *env) code(user, verifier string) string {
	e.t.Helper()
	id := e.startAuth(e.oauth2().AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier), gooidc.Nonce("n0nce")))
	back, err := e.p.Authorize(id, e.identity(user), []string{"pwd", "otp"})
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := noFollow.Get(back)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), e.redirect+"?") {
		e.t.Fatalf("callback: %d to %q, want the app's redirect URI", resp.StatusCode, resp.Header.Get("Location"))
	}
	if loc.Query().Get("state") != "st4te" || loc.Query().Get("code") == "" {
		e.t.Fatalf("callback query %v: want state and code", loc.Query())
	}
	return loc.Query().Get("code")
}

func (e *env) exchange(code, verifier string) (*oauth2.Token, error) {
	return e.oauth2().Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
}

func (e *env) userinfo(tok *oauth2.Token) (int, map[string]any) {
	req, _ := http.NewRequest("GET", e.srv.URL+"/oidc/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	body, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(body, &m)
	return resp.StatusCode, m
}

func verifier() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestDiscovery(t *testing.T) {
	e := newEnv(t)
	p, err := gooidc.NewProvider(context.Background(), e.srv.URL)
	if err != nil {
		t.Fatalf("go-oidc discovery: %v", err)
	}
	var d struct {
		Issuer        string   `json:"issuer"`
		Auth          string   `json:"authorization_endpoint"`
		Token         string   `json:"token_endpoint"`
		JWKS          string   `json:"jwks_uri"`
		Grants        []string `json:"grant_types_supported"`
		Methods       []string `json:"code_challenge_methods_supported"`
		Scopes        []string `json:"scopes_supported"`
		Claims        []string `json:"claims_supported"`
		ResponseTypes []string `json:"response_types_supported"`
	}
	if err := p.Claims(&d); err != nil {
		t.Fatal(err)
	}
	if d.Issuer != e.srv.URL || d.Auth != e.srv.URL+"/oidc/authorize" || d.Token != e.srv.URL+"/oidc/token" || d.JWKS != e.srv.URL+"/oidc/keys" {
		t.Errorf("endpoints: %+v", d)
	}
	for _, want := range [][2]any{{d.Grants, "authorization_code"}, {d.Grants, "refresh_token"}, {d.Methods, "S256"},
		{d.Scopes, "groups"}, {d.Scopes, "email"}, {d.Claims, "groups"}, {d.Claims, "email"}, {d.ResponseTypes, "code"}} {
		if !contains(want[0].([]string), want[1].(string)) {
			t.Errorf("discovery lacks %q in %v", want[1], want[0])
		}
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func TestCodeFlowWithPKCE(t *testing.T) {
	e := newEnv(t)
	v := verifier()
	tok, err := e.exchange(e.code("alice", v), v)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	p, err := gooidc.NewProvider(context.Background(), e.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	idt, err := p.Verifier(&gooidc.Config{ClientID: e.creds.ClientID}).Verify(context.Background(), raw)
	if err != nil {
		t.Fatalf("ID token does not verify against the JWKS: %v", err)
	}
	var c struct {
		Sub, Email, Nonce string
		Username          string   `json:"preferred_username"`
		Groups            []string `json:"groups"`
		Verified          bool     `json:"email_verified"`
	}
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	if c.Sub != "alice" || c.Email != "alice@example.com" || !c.Verified || c.Nonce != "n0nce" || c.Username != "alice" ||
		!contains(c.Groups, "family") || !contains(c.Groups, "admins") {
		t.Errorf("ID token claims %+v", c)
	}
	if tok.RefreshToken == "" {
		t.Error("no refresh token for offline_access")
	}
	code, info := e.userinfo(tok)
	if code != 200 || info["email"] != "alice@example.com" || info["sub"] != "alice" {
		t.Errorf("userinfo: %d %v", code, info)
	}
}

func TestWrongVerifierRefused(t *testing.T) {
	e := newEnv(t)
	v := verifier()
	c := e.code("alice", v)
	if _, err := e.exchange(c, verifier()); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("exchange with another verifier: %v, want invalid_grant", err)
	}
	if _, err := e.exchange(c, ""); err == nil {
		t.Fatal("exchange without a verifier succeeded")
	}
	if n := len(storedKeys(t, e, prefixAccess)); n != 0 {
		t.Fatalf("%d access tokens stored after refused exchanges", n)
	}
}

func TestUnregisteredRedirectRefused(t *testing.T) {
	e := newEnv(t)
	for _, bad := range []string{"https://evil.example/cb", e.redirect + "/../x", e.redirect + "x", "https://wiki.home.example/other"} {
		cfg := e.oauth2()
		cfg.RedirectURL = bad
		resp, err := noFollow.Get(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier())))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		if resp.StatusCode == http.StatusFound && (strings.HasPrefix(loc, loginPage) || strings.HasPrefix(loc, "https://evil")) {
			t.Errorf("redirect_uri %q: sent to %q", bad, loc)
		}
		if resp.StatusCode < 400 {
			t.Errorf("redirect_uri %q: status %d, want an error page", bad, resp.StatusCode)
		}
	}
	if n := len(storedKeys(t, e, prefixAuthRequest)); n != 0 {
		t.Fatalf("%d sign-in requests stored for refused redirect URIs", n)
	}
}

func TestCodeReuseRefused(t *testing.T) {
	e := newEnv(t)
	v := verifier()
	c := e.code("alice", v)
	if _, err := e.exchange(c, v); err != nil {
		t.Fatal(err)
	}
	if _, err := e.exchange(c, v); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("second exchange of one code: %v, want invalid_grant", err)
	}
	if n := len(storedKeys(t, e, prefixAccess)); n != 1 {
		t.Fatalf("%d access tokens after one good and one replayed exchange, want 1", n)
	}
}

func TestWrongClientSecretRefused(t *testing.T) {
	e := newEnv(t)
	v := verifier()
	c := e.code("alice", v)
	cfg := e.oauth2()
	cfg.ClientSecret = "guess"
	if _, err := cfg.Exchange(context.Background(), c, oauth2.VerifierOption(v)); err == nil {
		t.Fatal("exchange with a wrong client secret succeeded")
	}
	if n := len(storedKeys(t, e, prefixAccess)); n != 0 {
		t.Fatalf("%d access tokens after a wrong secret", n)
	}
}

func TestRefreshRotates(t *testing.T) {
	e := newEnv(t)
	v := verifier()
	tok, err := e.exchange(e.code("alice", v), v)
	if err != nil {
		t.Fatal(err)
	}
	old := tok.RefreshToken
	tok.Expiry = tok.Expiry.Add(-24 * 3600e9) // force the refresh
	fresh, err := e.oauth2().TokenSource(context.Background(), tok).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken == "" || fresh.RefreshToken == old {
		t.Fatalf("refresh did not issue new tokens")
	}
	if code, _ := e.userinfo(fresh); code != 200 {
		t.Errorf("userinfo with the refreshed token: %d", code)
	}
	if code, _ := e.userinfo(tok); code == 200 {
		t.Errorf("the access token of the rotated refresh token still works")
	}
	// The old refresh token was rotated away: it works no more.
	stale := &oauth2.Token{RefreshToken: old}
	if _, err := e.oauth2().TokenSource(context.Background(), stale).Token(); err == nil {
		t.Fatal("a rotated refresh token was accepted again")
	}
}

func TestDisabledUserTokensRevoked(t *testing.T) {
	e := newEnv(t)
	v := verifier()
	tok, err := e.exchange(e.code("bob", v), v)
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := e.userinfo(tok); code != 200 {
		t.Fatalf("userinfo before: %d", code)
	}
	yes := true
	if _, err := e.users.UpdateUser("bob", auth.UserUpdate{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	// Refused at once by the per-use check, before any clean-up ran …
	if code, info := e.userinfo(tok); code == 200 {
		t.Fatalf("userinfo of a disabled user: %d %v", code, info)
	}
	tok.Expiry = tok.Expiry.Add(-24 * 3600e9)
	if _, err := e.oauth2().TokenSource(context.Background(), tok).Token(); err == nil {
		t.Fatal("refresh for a disabled user succeeded")
	}
	// … and the disable hook deleted them, so re-enabling does not bring
	// them back.
	if n := len(storedKeys(t, e, prefixRefresh)) + len(storedKeys(t, e, prefixAccess)); n != 0 {
		t.Fatalf("%d tokens left after the user was disabled", n)
	}
	no := false
	if _, err := e.users.UpdateUser("bob", auth.UserUpdate{Disabled: &no}); err != nil {
		t.Fatal(err)
	}
	if code, _ := e.userinfo(tok); code == 200 {
		t.Fatal("a revoked access token works after the user was enabled again")
	}
	if _, err := e.oauth2().TokenSource(context.Background(), tok).Token(); err == nil {
		t.Fatal("a revoked refresh token works after the user was enabled again")
	}
}

func TestPolicyLimitsTokens(t *testing.T) {
	e := newEnv(t)
	e.setPolicy("wiki", registry.Policy{Access: registry.Restricted, Groups: []string{"family"}})
	// bob (guests) is refused at the sign-in step …
	id := e.startAuth(e.oauth2().AuthCodeURL("s", oauth2.S256ChallengeOption(verifier())))
	if _, err := e.p.Authorize(id, e.identity("bob"), []string{"pwd"}); err != ErrNotAllowed {
		t.Fatalf("Authorize bob: %v, want ErrNotAllowed", err)
	}
	deny, err := e.p.Deny(id, false)
	if err != nil || !strings.Contains(deny, "error=access_denied") || !strings.HasPrefix(deny, e.redirect) {
		t.Fatalf("Deny: %q %v", deny, err)
	}
	// … alice (family) gets tokens …
	v := verifier()
	tok, err := e.exchange(e.code("alice", v), v)
	if err != nil {
		t.Fatal(err)
	}
	// … until the policy changes: then neither userinfo nor refresh works.
	e.setPolicy("wiki", registry.Policy{Access: registry.Restricted, Users: []string{"carol"}})
	if code, _ := e.userinfo(tok); code == 200 {
		t.Error("userinfo after the policy excluded the user")
	}
	tok.Expiry = tok.Expiry.Add(-24 * 3600e9)
	if _, err := e.oauth2().TokenSource(context.Background(), tok).Token(); err == nil {
		t.Error("refresh after the policy excluded the user")
	}
	// A code issued before the policy changed is not exchanged after.
	e.setPolicy("wiki", registry.Policy{Access: registry.Private})
	v2 := verifier()
	c := e.code("alice", v2)
	e.setPolicy("wiki", registry.Policy{Access: registry.Restricted, Users: []string{"carol"}})
	if _, err := e.exchange(c, v2); err == nil {
		t.Error("code exchanged after the policy excluded the user")
	}
}

func TestRemoveClient(t *testing.T) {
	e := newEnv(t)
	v := verifier()
	tok, err := e.exchange(e.code("alice", v), v)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.p.RemoveClient("wiki"); err != nil {
		t.Fatal(err)
	}
	if e.p.HasClient("wiki") {
		t.Fatal("client still registered")
	}
	if code, _ := e.userinfo(tok); code == 200 {
		t.Error("access token of a removed client still works")
	}
	resp, err := noFollow.Get(e.oauth2().AuthCodeURL("s", oauth2.S256ChallengeOption(v)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if strings.HasPrefix(resp.Header.Get("Location"), loginPage) {
		t.Error("authorize for a removed client reached the sign-in")
	}
	if n := len(storedKeys(t, e, prefixRefresh)) + len(storedKeys(t, e, prefixAccess)); n != 0 {
		t.Fatalf("%d tokens left after RemoveClient", n)
	}
}

func TestRevocationEndpoint(t *testing.T) {
	e := newEnv(t)
	v := verifier()
	tok, err := e.exchange(e.code("alice", v), v)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}}
	req, _ := http.NewRequest("POST", e.srv.URL+"/oidc/revoke", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(e.creds.ClientID), url.QueryEscape(e.creds.ClientSecret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	tok.Expiry = tok.Expiry.Add(-24 * 3600e9)
	if _, err := e.oauth2().TokenSource(context.Background(), tok).Token(); err == nil {
		t.Fatal("revoked refresh token accepted")
	}
}

func TestKeysSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	db, err := kv.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, err := loadKeys(db)
	if err != nil {
		t.Fatal(err)
	}
	b, err := loadKeys(db)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if a.id != b.id || !a.priv.Equal(b.priv) || a.crypto != b.crypto {
		t.Fatal("keys changed between two loads")
	}
}

func storedKeys(t *testing.T, e *env, prefix string) []string {
	ks, err := e.p.db.Keys(prefix)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func TestPruneRemovesOnlyExpiredRecords(t *testing.T) {
	e := newEnv(t)
	v := verifier()
	tok, err := e.exchange(e.code("alice", v), v)
	if err != nil {
		t.Fatal(err)
	}
	pending := e.startAuth(e.oauth2().AuthCodeURL("s", oauth2.S256ChallengeOption(verifier())))
	// Now: nothing is expired, nothing goes.
	if err := e.p.prune(time.Now()); err != nil {
		t.Fatal(err)
	}
	if code, _ := e.userinfo(tok); code != 200 {
		t.Fatal("prune removed a live access token")
	}
	if _, err := e.p.PendingRequest(pending); err != nil {
		t.Fatal("prune removed a live sign-in request")
	}
	// A month and a day later everything has expired and is removed.
	if err := e.p.prune(time.Now().Add(refreshTTL + 24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{prefixAuthRequest, prefixCode, prefixAccess, prefixRefresh} {
		if n := len(storedKeys(t, e, prefix)); n != 0 {
			t.Errorf("%d records left under %s", n, prefix)
		}
	}
}

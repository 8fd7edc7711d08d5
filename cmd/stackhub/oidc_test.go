package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// TestOIDCSingleSignOn runs a real OpenID Connect client (golang.org/x/oauth2
// with github.com/coreos/go-oidc/v3) against the real binary:
//
//   - installing an app that declares x-stackhub.oidc registers its client
//     and the app's container receives issuer, client id, secret and
//     redirect URI;
//   - the client discovers the provider at https://my.<domain>, sends the
//     browser (an HTTP client with a cookie jar) to authorize; a user
//     signed in to the portal gets a code at the app's redirect URI with no
//     second password or code; the client exchanges it with PKCE, verifies
//     the ID token against the JWKS and reads email and groups;
//   - the app's access policy keeps other users out (error=access_denied);
//   - disabling a user ends their tokens; removing the app ends its client.
//
// Why the client runs in the test and not in the app's container: the test
// instance listens on 127.0.0.1 only (tests never listen elsewhere), which
// a container cannot reach. The container side is checked where it
// matters: it receives exactly the settings the client here uses, read from
// its own environment through the gate.
func TestOIDCSingleSignOn(t *testing.T) {
	in := newInstance(t, "localhost")
	in.start()
	in.mustCLI("apps", "install", "testdata/ssoapp")
	in.mustCLI("user", "add", "erin", "--admin", "--email", "erin@example.com", "--groups", "family", "--password", "erin-password-1")
	in.mustCLI("user", "add", "bob", "--email", "bob@example.com", "--password", "bob-password-1")

	// The app's container got its settings.
	erin := in.newBrowserish()
	envURL := in.url("ssoapp", "/file?path=/proc/self/environ")
	erin.open("erin", "erin-password-1", "", envURL)
	env := map[string]string{}
	for _, kv := range strings.Split(erin.get(envURL).body, "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	issuer := in.portal("")
	redirect := in.url("ssoapp", "/oauth/callback")
	if env["SSO"] != "true" || env["ISSUER"] != issuer || env["CLIENT_ID"] != "stackhub-ssoapp" || env["CLIENT_SECRET"] == "" || env["REDIRECT_URI"] != redirect {
		t.Fatalf("app settings: %v", env)
	}

	ctx := gooidc.ClientContext(context.Background(), in.client(in.rootCAs()))
	provider, err := gooidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	cfg := oauth2.Config{ClientID: env["CLIENT_ID"], ClientSecret: env["CLIENT_SECRET"], RedirectURL: env["REDIRECT_URI"],
		Endpoint: provider.Endpoint(), Scopes: []string{gooidc.ScopeOpenID, "email", "profile", "groups", gooidc.ScopeOfflineAccess}}
	verifier := provider.Verifier(&gooidc.Config{ClientID: cfg.ClientID})

	// signIn runs the browser's part of the flow and returns the query the
	// app's redirect URI receives.
	signIn := func(b *browserish, state string, pkce string) url.Values {
		t.Helper()
		_, visited := b.follow(cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(pkce), gooidc.Nonce("n-"+state)))
		for _, v := range visited {
			if strings.HasPrefix(v, redirect+"?") {
				u, _ := url.Parse(v)
				return u.Query()
			}
		}
		t.Fatalf("the flow never reached the app's redirect URI: %v", visited)
		return nil
	}

	// erin is signed in to the portal: straight back with a code.
	pkce := oauth2.GenerateVerifier()
	q := signIn(erin, "s1", pkce)
	if q.Get("state") != "s1" || q.Get("code") == "" {
		t.Fatalf("callback query %v", q)
	}
	tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(pkce))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	var claims struct {
		Email  string   `json:"email"`
		Nonce  string   `json:"nonce"`
		Groups []string `json:"groups"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if idt.Subject != "erin" || claims.Email != "erin@example.com" || claims.Nonce != "n-s1" || !hasString(claims.Groups, "family") || !hasString(claims.Groups, "admins") {
		t.Fatalf("ID token: sub %q claims %+v", idt.Subject, claims)
	}
	if info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err != nil || info.Email != "erin@example.com" {
		t.Fatalf("userinfo: %+v %v", info, err)
	}
	// A code works once.
	if _, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(pkce)); err == nil {
		t.Fatal("a code was exchanged twice")
	}

	// bob signs in to the portal through the flow (password and TOTP), then
	// gets tokens; the access policy keeps him out once it names only erin.
	bob := in.newBrowserish()
	pkceB := oauth2.GenerateVerifier()
	bob.login("bob", "bob-password-1", "", issuer+"/")
	qb := signIn(bob, "s2", pkceB)
	tokB, err := cfg.Exchange(ctx, qb.Get("code"), oauth2.VerifierOption(pkceB))
	if err != nil {
		t.Fatalf("bob's exchange: %v", err)
	}
	in.mustCLI("access", "set", "ssoapp", "--access", "restricted", "--users", "erin")
	if q := signIn(bob, "s3", oauth2.GenerateVerifier()); q.Get("error") != "access_denied" || q.Get("code") != "" {
		t.Fatalf("bob under a policy naming only erin: %v", q)
	}
	if _, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tokB)); err == nil {
		t.Fatal("bob's access token still works after the policy excluded him")
	}
	in.mustCLI("access", "set", "ssoapp", "--access", "private")

	// Disabling bob ends his tokens: refresh and userinfo are refused.
	if _, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tokB)); err != nil {
		t.Fatalf("bob's token under the private policy again: %v", err)
	}
	in.mustCLI("user", "set", "bob", "--disable")
	if _, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tokB)); err == nil {
		t.Fatal("a disabled user's access token still works")
	}
	tokB.Expiry = tokB.Expiry.AddDate(0, 0, -1)
	if _, err := cfg.TokenSource(ctx, tokB).Token(); err == nil {
		t.Fatal("a disabled user's refresh token still works")
	}
	in.mustCLI("user", "set", "bob", "--enable")
	if _, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tokB)); err == nil {
		t.Fatal("a revoked token came back when the user was enabled again")
	}

	// erin's refresh token works until the app is removed with its client.
	tok.Expiry = tok.Expiry.AddDate(0, 0, -1)
	fresh, err := cfg.TokenSource(ctx, tok).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	in.mustCLI("apps", "remove", "ssoapp")
	if _, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(fresh)); err == nil {
		t.Fatal("a token of a removed app's client still works")
	}
	fresh.Expiry = fresh.Expiry.AddDate(0, 0, -1)
	if _, err := cfg.TokenSource(ctx, fresh).Token(); err == nil {
		t.Fatal("a removed app's client still refreshes tokens")
	}
	b := make([]byte, 8)
	rand.Read(b)
	_, visited := erin.follow(cfg.AuthCodeURL(base64.RawURLEncoding.EncodeToString(b)))
	for _, v := range visited {
		if strings.HasPrefix(v, redirect) || strings.Contains(v, "/oidc/login") {
			t.Fatalf("authorize for a removed client went on to %s", v)
		}
	}
}

func hasString(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

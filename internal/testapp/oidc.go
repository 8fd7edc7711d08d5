package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// OIDC client mode (OIDC_CLIENT=1): a relying party built on
// golang.org/x/oauth2 and github.com/coreos/go-oidc/v3, configured the way
// StackHub configures an app that declares x-stackhub.oidc:
//
//	ISSUER, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI   what StackHub filled in
//	OIDC_CA      base64 PEM of the CA to trust (StackHub's local CA)
//	OIDC_DIAL    host:port every connection goes to (the test instance)
//	LISTEN       address to serve on
//
// Routes: /login redirects to the provider (state, nonce and PKCE kept in
// memory); /oauth/callback exchanges the code, verifies the ID token and
// answers its claims as JSON; /userinfo?token= asks the provider's
// userinfo endpoint with the access token of an earlier callback.
func serveOIDCClient() error {
	hc, err := oidcHTTPClient()
	if err != nil {
		return err
	}
	ctx := gooidc.ClientContext(context.Background(), hc)
	var (
		mu       sync.Mutex
		provider *gooidc.Provider
		pending  = map[string][2]string{} // state → nonce, PKCE verifier
		tokens   = map[string]*oauth2.Token{}
	)
	setup := func() (*gooidc.Provider, *oauth2.Config, error) {
		mu.Lock()
		defer mu.Unlock()
		if provider == nil {
			p, err := gooidc.NewProvider(ctx, os.Getenv("ISSUER"))
			if err != nil {
				return nil, nil, err
			}
			provider = p
		}
		return provider, &oauth2.Config{ClientID: os.Getenv("CLIENT_ID"), ClientSecret: os.Getenv("CLIENT_SECRET"),
			RedirectURL: os.Getenv("REDIRECT_URI"), Endpoint: provider.Endpoint(),
			Scopes: []string{gooidc.ScopeOpenID, "email", "profile", "groups"}}, nil
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		_, cfg, err := setup()
		if err != nil {
			http.Error(w, "discovery: "+err.Error(), 502)
			return
		}
		state, nonce, verifier := oauth2.GenerateVerifier(), oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
		mu.Lock()
		pending[state] = [2]string{nonce, verifier}
		mu.Unlock()
		http.Redirect(w, r, cfg.AuthCodeURL(state, gooidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), http.StatusFound)
	})
	mux.HandleFunc("/oauth/callback", func(w http.ResponseWriter, r *http.Request) {
		provider, cfg, err := setup()
		if err != nil {
			http.Error(w, "discovery: "+err.Error(), 502)
			return
		}
		q := r.URL.Query()
		mu.Lock()
		p, ok := pending[q.Get("state")]
		delete(pending, q.Get("state"))
		mu.Unlock()
		if !ok {
			http.Error(w, "unknown state", 400)
			return
		}
		if e := q.Get("error"); e != "" {
			http.Error(w, "provider said "+e, 403)
			return
		}
		tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(p[1]))
		if err != nil {
			http.Error(w, "exchange: "+err.Error(), 401)
			return
		}
		raw, _ := tok.Extra("id_token").(string)
		idt, err := provider.Verifier(&gooidc.Config{ClientID: cfg.ClientID}).Verify(ctx, raw)
		if err != nil || idt.Nonce != p[0] {
			http.Error(w, fmt.Sprintf("id token: %v (nonce match %v)", err, idt != nil && idt.Nonce == p[0]), 401)
			return
		}
		var claims map[string]any
		idt.Claims(&claims)
		handle := oauth2.GenerateVerifier()
		mu.Lock()
		tokens[handle] = tok
		mu.Unlock()
		claims["token_handle"] = handle
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(claims)
	})
	mux.HandleFunc("/userinfo", func(w http.ResponseWriter, r *http.Request) {
		provider, _, err := setup()
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		mu.Lock()
		tok := tokens[r.URL.Query().Get("token")]
		mu.Unlock()
		if tok == nil {
			http.Error(w, "unknown token", 404)
			return
		}
		info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			http.Error(w, "userinfo: "+err.Error(), 401)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(info)
	})
	srv := &http.Server{Addr: envOr("LISTEN", ":"+envOr("PORT", "80")), Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return srv.ListenAndServe()
}

// oidcHTTPClient trusts OIDC_CA and sends every connection to OIDC_DIAL
// (when set), as DNS for the StackHub domain would.
func oidcHTTPClient() (*http.Client, error) {
	tr := &http.Transport{TLSClientConfig: &tls.Config{}}
	if ca := os.Getenv("OIDC_CA"); ca != "" {
		pem, err := base64.StdEncoding.DecodeString(ca)
		if err != nil {
			return nil, fmt.Errorf("OIDC_CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("OIDC_CA holds no certificate")
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	if to := os.Getenv("OIDC_DIAL"); to != "" {
		d := &net.Dialer{Timeout: 5 * time.Second}
		tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, to)
		}
	}
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}, nil
}

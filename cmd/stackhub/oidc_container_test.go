package main

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stackhub/stackhub/internal/dockertest"
)

// TestOIDCClientInAContainer: a real OpenID Connect client (the test app's
// OIDC client mode: golang.org/x/oauth2 + github.com/coreos/go-oidc/v3) runs
// in a container of an app that declares x-stackhub.oidc, configured only
// by what StackHub filled in at install. A user signed in to the portal
// follows the client's sign-in link; the client gets the code, exchanges
// it with PKCE over TLS with the instance's local CA, verifies the ID token
// and shows the claims. Disabling the user makes the client's token
// useless.
//
// How the container reaches StackHub: the instance listens on 127.0.0.1
// only, so the client service uses the host's network (an approved hazard)
// and sends its connections for https://my.<domain> to the instance's port
// (OIDC_DIAL), trusting the local CA (OIDC_CA). The browser's side is an
// HTTP client with the portal session cookie; the app's redirect URI is on
// the app's host, whose request the test hands to the client as the app's
// own route would.
func TestOIDCClientInAContainer(t *testing.T) {
	in := newInstance(t, "localhost")
	dockertest.TestImage(t, in.docker, "stackhub-testapp-oidc:dev")
	in.start()
	ca, err := os.ReadFile(filepath.Join(in.data, "caddy", "pki", "authorities", "local", "root.crt"))
	if err != nil {
		// The local CA is created at the first certificate: ask for one.
		in.newBrowserish().get(in.portal("/login"))
		if ca, err = os.ReadFile(filepath.Join(in.data, "caddy", "pki", "authorities", "local", "root.crt")); err != nil {
			t.Fatal(err)
		}
	}
	clientAddr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	in.mustCLI("apps", "install", "testdata/oidcclient", "--approve-hazards",
		"--set", "CA="+base64.StdEncoding.EncodeToString(ca),
		"--set", "DIAL=127.0.0.1:"+strconv.Itoa(in.httpsPort),
		"--set", "LISTEN="+clientAddr)
	in.mustCLI("user", "add", "erin", "--admin", "--email", "erin@example.com", "--groups", "family", "--password", "erin-password-1")
	in.mustCLI("user", "add", "bob", "--email", "bob@example.com", "--password", "bob-password-1")

	plain := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	call := func(path string) (int, string, string) {
		t.Helper()
		resp, err := plain.Get("http://" + clientAddr + path)
		if err != nil {
			return 0, err.Error(), ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header.Get("Location")
	}
	waitFor(t, 60*time.Second, "the OIDC client container", func() bool { s, _, _ := call("/health"); return s == 200 })

	redirect := in.url("oidcclient", "/oauth/callback")
	// signIn: the client's sign-in link, the browser through the portal,
	// and the app's callback handed to the client.
	signIn := func(b *browserish) map[string]any {
		t.Helper()
		status, body, loc := call("/login")
		if status != 302 || !strings.HasPrefix(loc, in.portal("/oidc/authorize?")) {
			t.Fatalf("client /login: %d %q %s", status, loc, body)
		}
		_, visited := b.follow(loc)
		var q string
		for _, v := range visited {
			if strings.HasPrefix(v, redirect+"?") {
				q = strings.TrimPrefix(v, redirect)
			}
		}
		if q == "" {
			t.Fatalf("the flow never reached the app's redirect URI: %v", visited)
		}
		status, body, _ = call("/oauth/callback" + q)
		if status != 200 {
			t.Fatalf("client callback: %d %s", status, body)
		}
		var claims map[string]any
		if err := json.Unmarshal([]byte(body), &claims); err != nil {
			t.Fatal(err)
		}
		return claims
	}

	erin := in.newBrowserish()
	erin.login("erin", "erin-password-1", "", in.portal("/"))
	claims := signIn(erin)
	groups, _ := json.Marshal(claims["groups"])
	if claims["sub"] != "erin" || claims["email"] != "erin@example.com" || !strings.Contains(string(groups), `"family"`) {
		t.Fatalf("claims the client verified: %v", claims)
	}

	bob := in.newBrowserish()
	bob.login("bob", "bob-password-1", "", in.portal("/"))
	bc := signIn(bob)
	handle, _ := bc["token_handle"].(string)
	if s, body, _ := call("/userinfo?token=" + url.QueryEscape(handle)); s != 200 || !strings.Contains(body, "bob@example.com") {
		t.Fatalf("bob's userinfo through the client: %d %s", s, body)
	}
	in.mustCLI("user", "set", "bob", "--disable")
	if s, body, _ := call("/userinfo?token=" + url.QueryEscape(handle)); s == 200 {
		t.Fatalf("a disabled user's token still works for the client: %s", body)
	}
}

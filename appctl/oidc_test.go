package appctl

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/stackhub/stackhub/stores"
)

// oidcRecorder is an OIDCClients that remembers what it was asked.
type oidcRecorder struct {
	mu         sync.Mutex
	registered map[string][]string
	removed    []string
}

func (r *oidcRecorder) RegisterOIDCClient(app string, uris []string) (string, string, string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.registered == nil {
		r.registered = map[string][]string{}
	}
	r.registered[app] = uris
	return "https://my.test.localhost", "stackhub-" + app, "s3cret-" + app, nil
}

func (r *oidcRecorder) RemoveOIDCClient(app string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removed = append(r.removed, app)
	delete(r.registered, app)
	return nil
}

func ssoApp(t *testing.T) stores.App {
	t.Helper()
	app, err := stores.ReadPath("testdata/sso")
	if err != nil {
		t.Fatal(err)
	}
	if app.OIDC == nil {
		t.Fatal("x-stackhub.oidc was not read")
	}
	return app
}

func TestInstallRegistersOIDCClientAndFillsSettings(t *testing.T) {
	h := newHarness(t)
	rec := &oidcRecorder{}
	h.m.SetOIDC(rec)
	ctx := context.Background()
	app := ssoApp(t)
	if _, err := h.m.Install(ctx, app, InstallOptions{Subdomain: "login"}, nil); err != nil {
		t.Fatal(err)
	}
	want := []string{"https://login.test.localhost/oauth/callback", "https://login.test.localhost/alt"}
	if got := rec.registered["sso"]; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("registered redirect URIs %v, want %v", got, want)
	}
	env := h.get(t, "login.test.localhost", "/file?path=/proc/self/environ")
	for _, kv := range []string{"SSO=true", "ISSUER=https://my.test.localhost", "DISCOVERY=https://my.test.localhost/.well-known/openid-configuration",
		"CLIENT=stackhub-sso", "SECRET=s3cret-sso", "REDIRECT=https://login.test.localhost/oauth/callback"} {
		if !strings.Contains(env, kv+"\x00") {
			t.Errorf("container environment lacks %s", kv)
		}
	}
	st, err := h.m.Status(ctx, "sso")
	if err != nil {
		t.Fatal(err)
	}
	if v := st.Record.Values["OIDC_CLIENT_SECRET"]; v == "s3cret-sso" || v == "" {
		t.Errorf("client secret shown as %q, want it masked", v)
	}
	if err := h.m.Remove(ctx, "sso", false, nil); err != nil {
		t.Fatal(err)
	}
	if len(rec.removed) != 1 || rec.removed[0] != "sso" || len(rec.registered) != 0 {
		t.Fatalf("after remove: removed %v, still registered %v", rec.removed, rec.registered)
	}
}

func TestFailedInstallRemovesOIDCClient(t *testing.T) {
	h := newHarness(t)
	rec := &oidcRecorder{}
	h.m.SetOIDC(rec)
	app := ssoApp(t)
	// A hazard without approval: refused before anything runs.
	app.Compose = []byte(strings.Replace(string(app.Compose), "    pull_policy: never\n", "    pull_policy: never\n    privileged: true\n", 1))
	_, err := h.m.Install(context.Background(), app, InstallOptions{}, nil)
	if !errors.Is(err, ErrHazards) {
		t.Fatalf("install: %v, want a hazard refusal", err)
	}
	if len(rec.registered) != 0 || len(rec.removed) != 1 {
		t.Fatalf("after a refused install: registered %v, removed %v", rec.registered, rec.removed)
	}
	if c, _, _ := h.objects(t, "sso"); c != 0 {
		t.Fatalf("%d containers after a refused install", c)
	}
}

package stores

import (
	"context"
	"strings"
	"testing"
)

// TestBuiltinOIDCApps: the built-in apps that can sign in with OpenID
// Connect through environment variables declare it, and their compose
// files turn single sign-on on only when StackHub filled the settings.
func TestBuiltinOIDCApps(t *testing.T) {
	cat := NewCatalog(Builtin())
	if err := cat.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct{ path, enabledVar, enabledWant, clientVar string }{
		"vaultwarden": {"/identity/connect/oidc-signin", "SSO_ENABLED", "true", "SSO_CLIENT_ID"},
		"miniflux":    {"/oauth2/oidc/callback", "OAUTH2_PROVIDER", "oidc", "OAUTH2_CLIENT_ID"},
		"mealie":      {"/login", "OIDC_AUTH_ENABLED", "true", "OIDC_CLIENT_ID"},
		"grafana":     {"/login/generic_oauth", "GF_AUTH_GENERIC_OAUTH_ENABLED", "true", "GF_AUTH_GENERIC_OAUTH_CLIENT_ID"},
	}
	for id, c := range cases {
		t.Run(id, func(t *testing.T) {
			app, err := cat.Find("builtin/" + id)
			if err != nil {
				t.Fatal(err)
			}
			if app.OIDC == nil || len(app.OIDC.RedirectPaths) != 1 || app.OIDC.RedirectPaths[0] != c.path {
				t.Fatalf("oidc = %+v, want redirect path %s", app.OIDC, c.path)
			}
			env := ExampleEnv(app)
			off, err := LoadProject(context.Background(), app, env)
			if err != nil {
				t.Fatal(err)
			}
			if v := off.Services[app.MainService].Environment[c.enabledVar]; v != nil && *v == c.enabledWant {
				t.Errorf("without a registered client %s=%s: single sign-on would be on with empty settings", c.enabledVar, *v)
			}
			e := app.OIDC.Env
			env[e.Enabled], env[e.Issuer], env[e.ClientID] = "true", "https://my.home.example", "stackhub-"+id
			env[e.ClientSecret], env[e.RedirectURI] = "secret", "https://"+id+".home.example"+c.path
			env[e.Discovery] = "https://my.home.example/.well-known/openid-configuration"
			on, err := LoadProject(context.Background(), app, env)
			if err != nil {
				t.Fatal(err)
			}
			svc := on.Services[app.MainService].Environment
			if v := svc[c.enabledVar]; v == nil || *v != c.enabledWant {
				t.Errorf("with a client, %s = %v, want %s", c.enabledVar, v, c.enabledWant)
			}
			if v := svc[c.clientVar]; v == nil || *v != "stackhub-"+id {
				t.Errorf("%s = %v, want the client id", c.clientVar, v)
			}
		})
	}
}

func TestOIDCBlockChecked(t *testing.T) {
	base := "services:\n  web:\n    image: nginx:1.27.0\n    expose: [\"80\"]\nx-stackhub:\n  id: app\n"
	for name, c := range map[string]struct{ block, err string }{
		"no paths":      {"  oidc: {}\n", "redirect_paths is empty"},
		"relative path": {"  oidc: {redirect_paths: [cb]}\n", "not an absolute path"},
		"other host":    {"  oidc: {redirect_paths: [//evil.example/cb]}\n", "not an absolute path"},
		"bad var":       {"  oidc: {redirect_paths: [/cb], env: {client_id: 'A B'}}\n", "not a variable name"},
		"field clash":   {"  fields: [{key: OIDC_CLIENT_ID}]\n  oidc: {redirect_paths: [/cb]}\n", "used twice"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseNative([]byte(base+c.block), "app")
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("err = %v, want %q", err, c.err)
			}
		})
	}
	app, err := parseNative([]byte(base+"  oidc: {redirect_paths: [/cb], env: {client_id: MY_ID}}\n"), "app")
	if err != nil {
		t.Fatal(err)
	}
	if app.OIDC.Env.ClientID != "MY_ID" || app.OIDC.Env.Issuer != "OIDC_ISSUER" || app.OIDC.Env.ClientSecret != "OIDC_CLIENT_SECRET" {
		t.Fatalf("env = %+v: the named variable, defaults for the others", app.OIDC.Env)
	}
}

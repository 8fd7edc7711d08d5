package stores

import (
	"fmt"
	"strings"
)

// OIDC declares that an app signs users in with OpenID Connect. At install
// StackHub registers a client for it at its own provider
// (https://my.<domain>) and passes the client's settings to the compose
// file as the variables named in Env.
type OIDC struct {
	// RedirectPaths are the app's callback paths ("/oauth/callback"); the
	// redirect URIs registered are https://<app host><path>.
	RedirectPaths []string `json:"redirect_paths" yaml:"redirect_paths"`
	// Env names the compose variables that receive each value.
	Env OIDCEnv `json:"env" yaml:"env"`
}

// OIDCEnv are compose variable names. Empty ones get the defaults
// (DefaultOIDCEnv).
type OIDCEnv struct {
	Enabled      string `json:"enabled,omitempty" yaml:"enabled"`             // "true" once a client is registered
	Issuer       string `json:"issuer,omitempty" yaml:"issuer"`               // https://my.<domain>
	Discovery    string `json:"discovery,omitempty" yaml:"discovery"`         // <issuer>/.well-known/openid-configuration
	ClientID     string `json:"client_id,omitempty" yaml:"client_id"`         // the client id
	ClientSecret string `json:"client_secret,omitempty" yaml:"client_secret"` // the client secret (masked like a secret field)
	RedirectURI  string `json:"redirect_uri,omitempty" yaml:"redirect_uri"`   // the first redirect URI
}

// DefaultOIDCEnv are the variable names used when x-stackhub.oidc.env
// leaves one out.
var DefaultOIDCEnv = OIDCEnv{
	Enabled: "OIDC_ENABLED", Issuer: "OIDC_ISSUER", Discovery: "OIDC_DISCOVERY_URL", ClientID: "OIDC_CLIENT_ID",
	ClientSecret: "OIDC_CLIENT_SECRET", RedirectURI: "OIDC_REDIRECT_URI",
}

// withDefaults fills empty names from DefaultOIDCEnv.
func (e OIDCEnv) withDefaults() OIDCEnv {
	pick := func(v, d string) string {
		if v == "" {
			return d
		}
		return v
	}
	d := DefaultOIDCEnv
	return OIDCEnv{Enabled: pick(e.Enabled, d.Enabled), Issuer: pick(e.Issuer, d.Issuer), Discovery: pick(e.Discovery, d.Discovery),
		ClientID: pick(e.ClientID, d.ClientID), ClientSecret: pick(e.ClientSecret, d.ClientSecret),
		RedirectURI: pick(e.RedirectURI, d.RedirectURI)}
}

// Names returns the variable names, in a fixed order.
func (e OIDCEnv) Names() []string {
	return []string{e.Enabled, e.Issuer, e.Discovery, e.ClientID, e.ClientSecret, e.RedirectURI}
}

// checkOIDC validates an x-stackhub.oidc block and fills its defaults. The
// variables must not clash with the app's fields.
func checkOIDC(o *OIDC, fields []Field) (*OIDC, error) {
	if o == nil {
		return nil, nil
	}
	out := &OIDC{Env: o.Env.withDefaults()}
	if len(o.RedirectPaths) == 0 {
		return nil, fmt.Errorf("x-stackhub.oidc.redirect_paths is empty: name the app's callback path (\"/oauth/callback\")")
	}
	for _, p := range o.RedirectPaths {
		if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "#\\ \t\r\n") || strings.Contains(p, "..") {
			return nil, fmt.Errorf("x-stackhub.oidc.redirect_paths: %q is not an absolute path on the app's host", p)
		}
		out.RedirectPaths = append(out.RedirectPaths, p)
	}
	seen := map[string]bool{}
	for _, f := range fields {
		seen[f.Key] = true
	}
	for _, n := range out.Env.Names() {
		if !validVarName(n) {
			return nil, fmt.Errorf("x-stackhub.oidc.env: %q is not a variable name", n)
		}
		if seen[n] {
			return nil, fmt.Errorf("x-stackhub.oidc.env: %s is used twice (or is also a field)", n)
		}
		seen[n] = true
	}
	return out, nil
}

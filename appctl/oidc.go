package appctl

import (
	"fmt"
	"strings"

	"go.uber.org/zap"

	"github.com/stackhub/stackhub/stores"
)

// OIDCClients registers and removes the OpenID Connect clients of apps
// that declare x-stackhub.oidc (the platform's internal/oidcprovider).
type OIDCClients interface {
	// RegisterClient (re-)registers app's client with these redirect URIs
	// and returns the issuer, client id and a new client secret.
	RegisterOIDCClient(app string, redirectURIs []string) (issuer, clientID, secret string, err error)
	// RemoveOIDCClient removes app's client and its tokens.
	RemoveOIDCClient(app string) error
}

// SetOIDC gives the manager the OIDC provider. Without one, apps that
// declare OIDC install without single sign-on (their variables stay unset).
func (m *Manager) SetOIDC(c OIDCClients) { m.oidc = c }

// oidcInstall registers the client of an app that declares OIDC and adds
// its settings to the install values (the secret is masked like a secret
// field). host is the app's host; redirect URIs are its URL plus each
// declared path.
func (m *Manager) oidcInstall(app stores.App, host string, values map[string]string, secrets []string) ([]string, error) {
	if app.OIDC == nil || m.oidc == nil {
		return secrets, nil
	}
	base := strings.TrimSuffix(m.URL(host), "/")
	var uris []string
	for _, p := range app.OIDC.RedirectPaths {
		uris = append(uris, base+p)
	}
	issuer, id, secret, err := m.oidc.RegisterOIDCClient(app.ID, uris)
	if err != nil {
		return secrets, fmt.Errorf("register single sign-on client: %w", err)
	}
	env := app.OIDC.Env
	values[env.Enabled] = "true"
	values[env.Issuer] = issuer
	values[env.Discovery] = issuer + "/.well-known/openid-configuration"
	values[env.ClientID] = id
	values[env.ClientSecret] = secret
	values[env.RedirectURI] = uris[0]
	return append(secrets, env.ClientSecret), nil
}

// oidcRemove removes an app's client (after a failed install, or with the
// app). An app without one is fine.
func (m *Manager) oidcRemove(id string) {
	if m.oidc == nil {
		return
	}
	if err := m.oidc.RemoveOIDCClient(id); err != nil {
		m.log.Warn("remove single sign-on client", zap.String("app", id), zap.Error(err))
	}
}

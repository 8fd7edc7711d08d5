package platform

import (
	"fmt"

	"go.uber.org/zap"

	"github.com/stackhub/stackhub/internal/auth"
	"github.com/stackhub/stackhub/internal/oidcprovider"
	"github.com/stackhub/stackhub/internal/registry"
)

// PortalURL is the portal's origin, https://my.<domain>[:port]; it is also
// the OpenID Connect issuer.
func (c Config) PortalURL() string {
	u := "https://my." + c.Domain
	if c.HTTPSPort != 0 && c.HTTPSPort != 443 {
		u += fmt.Sprintf(":%d", c.HTTPSPort)
	}
	return u
}

// openOIDC creates the OpenID Connect provider: clients and keys in kv,
// app policies from the registry, sign-in through the portal, and tokens
// revoked when a user is disabled or removed.
func (p *Platform) openOIDC() error {
	issuer := p.Config.PortalURL()
	prov, err := oidcprovider.New(p.DB, oidcprovider.Options{
		Issuer: issuer,
		Users:  p.Auth,
		Policy: func(app string) (registry.Policy, bool) {
			// By app id: the app may live on another subdomain.
			for _, e := range p.Registry.Entries() {
				if e.App == app {
					return e.Policy, true
				}
			}
			return registry.Policy{}, false
		},
		LoginURL: func(id string) string { return issuer + "/oidc/login?id=" + id },
	})
	if err != nil {
		return err
	}
	p.Auth.OnUserRevoked(func(user string) {
		if err := prov.RevokeUser(user); err != nil {
			p.Log.Warn("revoke OIDC tokens", zap.String("user", user), zap.Error(err))
		}
	})
	p.OIDC = prov
	return nil
}

// oidcClients adapts the provider to appctl.OIDCClients.
type oidcClients struct{ *oidcprovider.Provider }

func (c oidcClients) RegisterOIDCClient(app string, uris []string) (string, string, string, error) {
	cr, err := c.RegisterClient(app, uris)
	return cr.Issuer, cr.ClientID, cr.ClientSecret, err
}

func (c oidcClients) RemoveOIDCClient(app string) error { return c.RemoveClient(app) }

// openPasskeys sets up passkey sign-in on the portal: the relying party is
// the portal's host (my.<domain>), so app subdomains cannot use the
// portal's passkeys.
func (p *Platform) openPasskeys() error {
	pk, err := auth.NewPasskeys(p.Auth, auth.PasskeyConfig{
		RPID: "my." + p.Config.Domain, Origin: p.Config.PortalURL(), Name: "StackHub (" + p.Config.Domain + ")",
	})
	if err != nil {
		return err
	}
	p.Passkeys = pk
	return nil
}

package portal

import (
	"errors"
	"net/url"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"

	"github.com/stackhub/stackhub/internal/oidcprovider"
)

// OIDCLoginPath is the portal page the provider's authorize endpoint sends
// the browser to (?id=<pending request>).
const OIDCLoginPath = "/oidc/login"

// MountOIDC serves the OpenID Connect provider on the portal: discovery,
// the protocol endpoints under /oidc/, and the sign-in step that reuses
// the portal session. Call it once, before Serve.
//
//	GET  /.well-known/openid-configuration   discovery
//	GET  /oidc/login?id=<request>            signed in: Authorize and back to
//	                                         the app; signed out: the portal
//	                                         sign-in, then here again
//	*    /oidc/…                             the provider (authorize, token,
//	                                         userinfo, keys, revoke, …)
func (p *Portal) MountOIDC(prov *oidcprovider.Provider) {
	h := adaptor.HTTPHandler(prov.Handler())
	p.app.Get(OIDCLoginPath, func(c *fiber.Ctx) error { return p.oidcLogin(c, prov) })
	p.app.All(oidcprovider.DiscoveryPath, h)
	p.app.All(oidcprovider.PathPrefix+"*", h)
}

func (p *Portal) oidcLogin(c *fiber.Ctx, prov *oidcprovider.Provider) error {
	id := c.Query("id")
	req, err := prov.PendingRequest(id)
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "This sign-in request is unknown or expired: start again from the app.")
	}
	_, who, _, ok := p.session(c)
	if !ok {
		if req.PromptNone() {
			back, err := prov.Deny(id, true)
			if err != nil {
				return err
			}
			return c.Redirect(back, fiber.StatusFound)
		}
		return c.Redirect("/login?rd="+url.QueryEscape(OIDCLoginPath+"?id="+url.QueryEscape(id)), fiber.StatusFound)
	}
	// amr: the portal session does not record which second factor was
	// used, so only the password is claimed.
	back, err := prov.Authorize(id, who, []string{"pwd"})
	if errors.Is(err, oidcprovider.ErrNotAllowed) {
		p.cfg.Logf("portal: %s refused a token for %s by its access policy", who.User, req.App)
		back, err = prov.Deny(id, false)
	}
	if err != nil {
		return err
	}
	return c.Redirect(back, fiber.StatusFound)
}

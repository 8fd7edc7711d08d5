// Return addresses after sign-in, and the hand-over of a signed-in user to
// an app host (tickets).

package portal

import (
	"errors"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/stackhub/stackhub/internal/auth"
)

// isAppHost reports whether host is a published app's.
func (p *Portal) isAppHost(host string) bool {
	_, ok := p.cfg.Registry.Lookup(host)
	return ok
}

// ourHost accepts the portal's and the apps' hosts.
func (p *Portal) ourHost(host string) bool {
	return host == "my."+p.cfg.Domain || p.isAppHost(host)
}

// cleanRD validates a return address: "" when it is unsafe or absent.
func (p *Portal) cleanRD(rd string) string {
	if rd == "" {
		return ""
	}
	safe, ok := auth.SafeReturnScheme(rd, "https", p.ourHost)
	if !ok {
		return ""
	}
	return safe
}

// next is where to send a user who just signed in, for return address rd
// (already cleaned): an app URL goes through the ticket hand-over, a portal
// path is followed, anything else is the dashboard.
func (p *Portal) next(rd string) string {
	switch {
	case rd == "":
		return "/"
	case strings.HasPrefix(rd, "/"):
		return rd
	}
	u, err := url.Parse(rd)
	if err != nil || u.Hostname() == "my."+p.cfg.Domain {
		if err == nil && u.Hostname() == "my."+p.cfg.Domain {
			return u.RequestURI()
		}
		return "/"
	}
	return "/auth/app?rd=" + url.QueryEscape(rd)
}

// authApp hands a signed-in user over to an app: it issues a ticket for the
// app host and sends the browser to the app's callback.
func (p *Portal) authApp(c *fiber.Ctx) error {
	raw := c.Query("rd")
	rd := p.cleanRD(raw)
	var u *url.URL
	if rd != "" && !strings.HasPrefix(rd, "/") {
		u, _ = url.Parse(rd)
	}
	if u == nil || !p.isAppHost(strings.ToLower(u.Hostname())) {
		p.cfg.Logf("portal: refused return address %q from %s", raw, clientIP(c))
		return fiber.NewError(fiber.StatusBadRequest, auth.PublicMessage(auth.ErrBadReturn))
	}
	_, _, tok, ok := p.session(c)
	if !ok {
		return c.Redirect("/login?rd="+url.QueryEscape(rd), fiber.StatusFound)
	}
	bind := auth.ReturnBinding(u)
	if bind == "" {
		// A link without the app host's binding (the dashboard's): the
		// app's gate gives this browser its nonce and sends it back here.
		u.Fragment = ""
		return c.Redirect(u.String(), fiber.StatusFound)
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	host := strings.ToLower(u.Hostname())
	ticket, err := p.cfg.Auth.IssueTicket(tok, host, path, bind)
	if err != nil {
		if errors.Is(err, auth.ErrNoSession) {
			return c.Redirect("/login?rd="+url.QueryEscape(rd), fiber.StatusFound)
		}
		return err
	}
	return c.Redirect("https://"+p.hostPort(host)+"/.stackhub/callback?ticket="+url.QueryEscape(ticket), fiber.StatusFound)
}

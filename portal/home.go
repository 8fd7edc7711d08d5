// The dashboard: the apps the signed-in user may open.

package portal

import (
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/stackhub/stackhub/internal/auth"
	"github.com/stackhub/stackhub/internal/registry"
)

func (p *Portal) appViews(id auth.Identity, all bool) []appView {
	var out []appView
	for _, e := range p.cfg.Registry.Entries() {
		if !all && !auth.Allowed(id, e.Policy, "/") {
			continue
		}
		u := "https://" + p.hostPort(e.Host) + "/"
		access := string(e.Policy.Access)
		if access == "" {
			access = string(registry.Private)
		}
		out = append(out, appView{
			App: e.App, Host: e.Host, Link: "/auth/app?rd=" + url.QueryEscape(u), Running: e.Upstream != "",
			Access: access, Users: strings.Join(e.Policy.Users, ", "), Groups: strings.Join(e.Policy.Groups, ", "),
			PublicPaths: strings.Join(e.Policy.PublicPaths, ", "),
		})
	}
	return out
}

func (p *Portal) dashboard(c *fiber.Ctx) error {
	s, id, _ := sessionOf(c)
	return p.render(c, "dashboard", view{Title: "Apps", User: id, CSRF: s.CSRF, Apps: p.appViews(id, false)})
}

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
		if e.Alias {
			continue // a custom domain of an app listed under its own host
		}
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
	var cards []AppCard
	if p.cfg.Platform != nil {
		var err error
		if cards, err = p.cards(c.Context(), id); err != nil {
			return err
		}
	} else {
		for _, a := range p.appViews(id, false) {
			status := "running"
			if !a.Running {
				status = "stopped"
			}
			cards = append(cards, AppCard{ID: a.App, Name: a.App, Host: a.Host, Link: a.Link, Icon: iconPath("local", a.App), Status: status})
		}
	}
	return p.render(c, "dashboard", view{Title: "Apps", Nav: "apps", User: id, CSRF: s.CSRF, Cards: cards})
}

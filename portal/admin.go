// Administration pages: users and app access (admins).

package portal

import (
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/stackhub/stackhub/internal/auth"
	"github.com/stackhub/stackhub/internal/registry"
)

func (p *Portal) adminPage(c *fiber.Ctx) error {
	s, id, _ := sessionOf(c)
	users, err := p.cfg.Auth.Users()
	if err != nil {
		return err
	}
	v := view{Title: "Admin", Nav: "admin", User: id, CSRF: s.CSRF, Users: users, Apps: p.appViews(id, true), Error: c.Query("error"), Hosts: p.hosts()}
	if p.cfg.Platform != nil {
		v.Stores = p.plat().Catalog.Status()
	}
	return p.render(c, "admin", v)
}

func (p *Portal) adminBack(c *fiber.Ctx, err error) error {
	if err != nil {
		return c.Redirect("/admin?error="+url.QueryEscape(errorText(p.localizer(c), err, message(err))), fiber.StatusSeeOther)
	}
	return c.Redirect("/admin", fiber.StatusSeeOther)
}

func (p *Portal) adminAddUser(c *fiber.Ctx) error {
	role := auth.RoleMember
	if c.FormValue("admin") != "" {
		role = auth.RoleAdmin
	}
	_, err := p.cfg.Auth.CreateUser(auth.NewUser{Name: c.FormValue("username"), Email: c.FormValue("email"),
		Role: role, Groups: SplitList(c.FormValue("groups")), Password: c.FormValue("password")})
	return p.adminBack(c, err)
}

func (p *Portal) adminDeleteUser(c *fiber.Ctx) error {
	return p.adminBack(c, p.cfg.Auth.DeleteUser(c.Params("name")))
}

func (p *Portal) adminResetTOTP(c *fiber.Ctx) error {
	return p.adminBack(c, p.cfg.Auth.ResetTOTP(c.Params("name")))
}

func (p *Portal) adminPolicy(c *fiber.Ctx) error {
	pol := registry.Policy{Access: registry.Access(c.FormValue("access")), Users: SplitList(c.FormValue("users")),
		Groups: SplitList(c.FormValue("groups")), PublicPaths: SplitList(c.FormValue("public_paths"))}
	return p.adminBack(c, SetPolicy(p.cfg.Policies, c.Params("app"), pol))
}

// First run: the first admin, created with the setup token.

package portal

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/stackhub/stackhub/internal/auth"
)

func (p *Portal) setupPage(c *fiber.Ctx) error {
	need, err := p.cfg.Auth.NeedsSetup()
	if err != nil {
		return err
	}
	if !need {
		return c.Redirect("/login", fiber.StatusFound)
	}
	return p.render(c, "setup", view{Title: "Set up StackHub", CSRF: p.preToken(c)})
}

func (p *Portal) setup(c *fiber.Ctx) error {
	_, err := p.cfg.Auth.CreateFirstAdmin(strings.TrimSpace(c.FormValue("token")), auth.NewUser{
		Name: c.FormValue("username"), Email: c.FormValue("email"), Role: auth.RoleAdmin, Password: c.FormValue("password"),
	})
	if err != nil {
		if errors.Is(err, auth.ErrSetupDone) {
			return c.Redirect("/login", fiber.StatusSeeOther)
		}
		p.cfg.Logf("portal: first-run setup from %s failed: %v", clientIP(c), err)
		return p.render(c.Status(fiber.StatusBadRequest), "setup", view{Title: "Set up StackHub", CSRF: p.preToken(c), Error: auth.PublicMessage(err)})
	}
	p.cfg.Logf("portal: first admin %q created from %s", c.FormValue("username"), clientIP(c))
	return c.Redirect("/login", fiber.StatusSeeOther)
}

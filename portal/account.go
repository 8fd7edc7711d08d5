// The own account: sessions, signing one or all of them out.

package portal

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/stackhub/stackhub/internal/auth"
)

func (p *Portal) account(c *fiber.Ctx) error {
	s, id, _ := sessionOf(c)
	list, err := p.cfg.Auth.Sessions(id.User)
	if err != nil {
		return err
	}
	// Next carries the current session's ID, to mark "this browser".
	return p.render(c, "account", view{Title: "Account", Nav: "account", User: id, CSRF: s.CSRF, Sessions: list, Next: s.ID})
}

func (p *Portal) revokeSession(c *fiber.Ctx) error {
	_, id, _ := sessionOf(c)
	if err := p.cfg.Auth.RevokeSession(id.User, c.Params("id")); err != nil && !errors.Is(err, auth.ErrNoSession) {
		return err
	}
	return c.Redirect("/account", fiber.StatusSeeOther)
}

func (p *Portal) signOutAll(c *fiber.Ctx) error {
	_, id, _ := sessionOf(c)
	if err := p.cfg.Auth.RevokeUserSessions(id.User); err != nil {
		return err
	}
	p.clearCookie(c, SessionCookie)
	return c.Redirect("/login", fiber.StatusSeeOther)
}

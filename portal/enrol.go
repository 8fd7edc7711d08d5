// TOTP enrolment at the first sign-in: QR code, manual key, confirmation.

package portal

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

func (p *Portal) enrolPage(c *fiber.Ctx) error {
	rd := p.cleanRD(c.Query("rd"))
	tok, ok := p.challenge(c)
	if !ok {
		return p.restart(c, rd)
	}
	e, err := p.cfg.Auth.LoginEnrolment(tok)
	if err != nil {
		p.clearCookie(c, LoginCookie)
		return p.render(c.Status(fiber.StatusBadRequest), "login", view{Title: "Sign in", CSRF: p.preToken(c), RD: rd, Error: p.publicMessage(c, err)})
	}
	return p.render(c, "enrol", view{Title: "Set up two-factor sign-in", CSRF: p.preToken(c), RD: rd, Enrolment: e})
}

func (p *Portal) enrolQR(c *fiber.Ctx) error {
	tok, ok := p.challenge(c)
	if !ok {
		return fiber.ErrNotFound
	}
	e, err := p.cfg.Auth.LoginEnrolment(tok)
	if err != nil {
		return fiber.ErrNotFound
	}
	png, err := e.QRCode(200)
	if err != nil {
		return err
	}
	c.Type("png")
	return c.Send(png)
}

func (p *Portal) enrol(c *fiber.Ctx) error {
	rd := p.cleanRD(c.FormValue("rd"))
	tok, ok := p.challenge(c)
	if !ok {
		return p.restart(c, rd)
	}
	s, codes, err := p.cfg.Auth.LoginConfirmEnrolment(tok, strings.TrimSpace(c.FormValue("code")), clientIP(c))
	if err != nil {
		p.cfg.Logf("portal: enrolment code from %s refused: %v", clientIP(c), err)
		e, eerr := p.cfg.Auth.LoginEnrolment(tok)
		if eerr != nil {
			p.clearCookie(c, LoginCookie)
			return p.render(c.Status(fiber.StatusBadRequest), "login", view{Title: "Sign in", CSRF: p.preToken(c), RD: rd, Error: p.publicMessage(c, err)})
		}
		return p.render(c.Status(refusalStatus(c, err)), "enrol", view{Title: "Set up two-factor sign-in", CSRF: p.preToken(c), RD: rd, Enrolment: e, Error: p.publicMessage(c, err)})
	}
	p.startSession(c, s)
	return p.render(c, "recovery", view{Title: "Recovery codes", Codes: codes, Next: p.next(rd)})
}

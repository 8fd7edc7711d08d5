// Sign-in: password, then the TOTP or recovery code; sign-out.

package portal

import (
	"errors"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/stackhub/stackhub/internal/auth"
)

func (p *Portal) loginPage(c *fiber.Ctx) error {
	if need, _ := p.cfg.Auth.NeedsSetup(); need {
		return c.Redirect("/setup", fiber.StatusFound)
	}
	rd := p.cleanRD(c.Query("rd"))
	if _, _, _, ok := p.session(c); ok {
		// Already signed in here (e.g. the app's cookie was lost in a
		// restart): straight on, no form.
		return c.Redirect(p.next(rd), fiber.StatusFound)
	}
	v := view{Title: "Sign in", CSRF: p.preToken(c), RD: rd}
	if c.Query("rd") != "" && rd == "" {
		v.Error = "The address you came from is not one of this StackHub's: after signing in you will see the dashboard."
	}
	return p.render(c, "login", v)
}

func (p *Portal) login(c *fiber.Ctx) error {
	rd := p.cleanRD(c.FormValue("rd"))
	ch, err := p.cfg.Auth.Login(c.FormValue("username"), c.FormValue("password"), clientIP(c))
	if err != nil {
		status := refusalStatus(c, err)
		p.cfg.Logf("portal: sign-in of %q from %s refused: %v", c.FormValue("username"), clientIP(c), err)
		return p.render(c.Status(status), "login", view{Title: "Sign in", CSRF: p.preToken(c), RD: rd, Error: p.publicMessage(c, err)})
	}
	switch ch.Next {
	case auth.NextDone:
		p.startSession(c, *ch.Session)
		return c.Redirect(p.next(rd), fiber.StatusSeeOther)
	case auth.NextEnrol:
		p.setCookie(c, LoginCookie, ch.Token, "Strict", ch.Expires)
		return c.Redirect("/login/enrol?rd="+url.QueryEscape(rd), fiber.StatusSeeOther)
	default:
		p.setCookie(c, LoginCookie, ch.Token, "Strict", ch.Expires)
		return c.Redirect("/login/code?rd="+url.QueryEscape(rd), fiber.StatusSeeOther)
	}
}

func (p *Portal) startSession(c *fiber.Ctx, s auth.NewSession) {
	p.clearCookie(c, LoginCookie)
	p.setCookie(c, SessionCookie, s.Token, "Lax", s.Session.Expires)
	if err := p.cfg.Auth.NoteSessionClient(s.Token, deviceOf(c.Get(fiber.HeaderUserAgent)), clientIP(c)); err != nil {
		p.cfg.Logf("portal: note the device of a session of %s: %v", s.Session.User, err)
	}
}

// challenge returns the pending sign-in's token from its cookie.
func (p *Portal) challenge(c *fiber.Ctx) (string, bool) {
	t := c.Cookies(LoginCookie)
	return t, t != ""
}

func (p *Portal) restart(c *fiber.Ctx, rd string) error {
	return c.Redirect("/login?rd="+url.QueryEscape(rd), fiber.StatusSeeOther)
}

func (p *Portal) codePage(c *fiber.Ctx) error {
	rd := p.cleanRD(c.Query("rd"))
	if _, ok := p.challenge(c); !ok {
		return p.restart(c, rd)
	}
	return p.render(c, "code", view{Title: "Two-factor code", CSRF: p.preToken(c), RD: rd})
}

func (p *Portal) code(c *fiber.Ctx) error {
	rd := p.cleanRD(c.FormValue("rd"))
	tok, ok := p.challenge(c)
	if !ok {
		return p.restart(c, rd)
	}
	var s auth.NewSession
	var err error
	if rc := strings.TrimSpace(c.FormValue("recovery")); rc != "" {
		s, err = p.cfg.Auth.LoginRecovery(tok, rc, clientIP(c))
	} else {
		s, err = p.cfg.Auth.LoginTOTP(tok, strings.TrimSpace(c.FormValue("code")), clientIP(c))
	}
	if err != nil {
		p.cfg.Logf("portal: second factor from %s refused: %v", clientIP(c), err)
		if errors.Is(err, auth.ErrChallenge) || errors.Is(err, auth.ErrWrongStep) {
			p.clearCookie(c, LoginCookie)
		}
		status := refusalStatus(c, err)
		return p.render(c.Status(status), "code", view{Title: "Two-factor code", CSRF: p.preToken(c), RD: rd, Error: p.publicMessage(c, err)})
	}
	p.startSession(c, s)
	return c.Redirect(p.next(rd), fiber.StatusSeeOther)
}

func (p *Portal) logout(c *fiber.Ctx) error {
	_, _, tok := sessionOf(c)
	if err := p.cfg.Auth.Logout(tok); err != nil {
		return err
	}
	p.clearCookie(c, SessionCookie)
	return c.Redirect("/login", fiber.StatusSeeOther)
}

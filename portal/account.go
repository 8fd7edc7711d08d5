// The own account: sessions (device and address), signing one or all of
// them out, password, e-mail, a new authenticator, new recovery codes.

package portal

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/stackhub/stackhub/internal/auth"
)

func (p *Portal) account(c *fiber.Ctx) error {
	return p.renderAccount(c, "", "")
}

// renderAccount shows the account page with an error or a confirmation.
func (p *Portal) renderAccount(c *fiber.Ctx, errMsg, msg string) error {
	s, id, _ := sessionOf(c)
	list, err := p.cfg.Auth.Sessions(id.User)
	if err != nil {
		return err
	}
	u, err := p.cfg.Auth.GetUser(id.User)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if errMsg != "" {
		status = fiber.StatusBadRequest
	}
	// Next carries the current session's ID, to mark "this browser".
	return p.render(c.Status(status), "account", view{Title: "Account", Nav: "account", User: id, CSRF: s.CSRF,
		Sessions: list, Next: s.ID, Users: []auth.User{u}, Error: errMsg, Message: msg})
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

// changePassword needs the current password; this browser stays signed
// in, every other session ends.
func (p *Portal) changePassword(c *fiber.Ctx) error {
	s, id, _ := sessionOf(c)
	if c.FormValue("new") != c.FormValue("repeat") {
		return p.renderAccount(c, "The two new passwords differ: type the same one twice.", "")
	}
	err := p.cfg.Auth.ChangePassword(id.User, c.FormValue("current"), c.FormValue("new"), s.ID, clientIP(c))
	if err != nil {
		return p.renderAccount(c, auth.PublicMessage(err), "")
	}
	return p.renderAccount(c, "", "Password changed. Your other sessions are signed out.")
}

func (p *Portal) changeEmail(c *fiber.Ctx) error {
	_, id, _ := sessionOf(c)
	email := strings.TrimSpace(c.FormValue("email"))
	if _, err := p.cfg.Auth.UpdateUser(id.User, auth.UserUpdate{Email: &email}); err != nil {
		return p.renderAccount(c, auth.PublicMessage(err), "")
	}
	return p.renderAccount(c, "", "E-mail saved.")
}

// newRecoveryCodes replaces the recovery codes (password asked) and shows
// the new ones once.
func (p *Portal) newRecoveryCodes(c *fiber.Ctx) error {
	s, id, _ := sessionOf(c)
	codes, err := p.cfg.Auth.RegenerateRecoveryCodesWithPassword(id.User, c.FormValue("current"), clientIP(c))
	if err != nil {
		return p.renderAccount(c, auth.PublicMessage(err), "")
	}
	return p.render(c, "recovery", view{Title: "Recovery codes", User: id, CSRF: s.CSRF, Codes: codes, Next: "/account"})
}

// reenrolPage shows the new authenticator's QR code and key.
func (p *Portal) reenrolPage(c *fiber.Ctx) error {
	s, id, _ := sessionOf(c)
	e, err := p.cfg.Auth.BeginTOTPReenrolment(id.User)
	if err != nil {
		return err
	}
	return p.render(c, "reenrol", view{Title: "New authenticator", Nav: "account", User: id, CSRF: s.CSRF, Enrolment: e})
}

func (p *Portal) reenrolQR(c *fiber.Ctx) error {
	_, id, _ := sessionOf(c)
	e, err := p.cfg.Auth.BeginTOTPReenrolment(id.User)
	if err != nil {
		return err
	}
	png, err := e.QRCode(200)
	if err != nil {
		return err
	}
	c.Type("png")
	c.Set("Cache-Control", "no-store")
	return c.Send(png)
}

// reenrol confirms the new authenticator (password and a code of it) and
// shows the new recovery codes.
func (p *Portal) reenrol(c *fiber.Ctx) error {
	s, id, _ := sessionOf(c)
	codes, err := p.cfg.Auth.ConfirmTOTPReenrolment(id.User, c.FormValue("current"), c.FormValue("code"), clientIP(c))
	if err != nil {
		e, berr := p.cfg.Auth.BeginTOTPReenrolment(id.User)
		if berr != nil {
			return berr
		}
		return p.render(c.Status(fiber.StatusBadRequest), "reenrol", view{Title: "New authenticator", Nav: "account", User: id, CSRF: s.CSRF, Enrolment: e, Error: auth.PublicMessage(err)})
	}
	return p.render(c, "recovery", view{Title: "Recovery codes", User: id, CSRF: s.CSRF, Codes: codes, Next: "/account"})
}

// deviceOf is a short summary of a User-Agent: browser and system.
func deviceOf(ua string) string {
	browser := ""
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"HeadlessChrome/", "Chromium (headless)"},
		{"Chrome/", "Chrome"}, {"Safari/", "Safari"}, {"curl/", "curl"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	system := ""
	for _, s := range []struct{ token, name string }{
		{"Android", "Android"}, {"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, s.token) {
			system = s.name
			break
		}
	}
	switch {
	case browser != "" && system != "":
		return browser + ", " + system
	case browser != "" || system != "":
		return browser + system
	case ua == "":
		return ""
	}
	if len(ua) > 40 {
		ua = ua[:40] + "…"
	}
	return ua
}

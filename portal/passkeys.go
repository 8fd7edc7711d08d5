package portal

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/stackhub/stackhub/internal/auth"
)

// MountPasskeys adds the passkey pages (WebAuthn; the ceremonies are
// internal/auth's Passkeys). Call it once, before Serve.
//
//	GET  /login/passkey?rd=          sign in with a passkey (no password, no code)
//	POST /login/passkey/begin        → {"options": …, "token": …}   (pre-session CSRF)
//	POST /login/passkey/finish       token, credential (JSON), rd → {"next": URL}
//	GET  /account/passkeys           your passkeys; add or remove one
//	POST /account/passkeys/begin     → {"options": …, "token": …}   (session CSRF)
//	POST /account/passkeys/finish    token, name, credential (JSON)
//	POST /account/passkeys/:id/delete
//	POST /account/passkeys/require   admins: passkeys required for admins (on/off)
func (p *Portal) MountPasskeys(pk *auth.Passkeys) {
	a := p.app
	a.Get("/login/passkey", p.passkeyLoginPage)
	a.Post("/login/passkey/begin", p.preCSRF, func(c *fiber.Ctx) error { return p.passkeyLoginBegin(c, pk) })
	a.Post("/login/passkey/finish", p.preCSRF, func(c *fiber.Ctx) error { return p.passkeyLoginFinish(c, pk) })
	a.Get("/account/passkeys", p.signedIn, func(c *fiber.Ctx) error { return p.passkeysPage(c, pk, "") })
	a.Post("/account/passkeys/begin", p.signedIn, p.csrf, func(c *fiber.Ctx) error { return p.passkeyAddBegin(c, pk) })
	a.Post("/account/passkeys/finish", p.signedIn, p.csrf, func(c *fiber.Ctx) error { return p.passkeyAddFinish(c, pk) })
	a.Post("/account/passkeys/:id/delete", p.signedIn, p.csrf, func(c *fiber.Ctx) error { return p.passkeyDelete(c, pk) })
	a.Post("/account/passkeys/require", p.signedIn, p.admin, p.csrf, func(c *fiber.Ctx) error { return p.passkeyRequire(c, pk) })
}

// passkeyView is the data of the passkey pages.
type passkeyView struct {
	view
	Passkeys []auth.PasskeyInfo
	Required bool
}

func (p *Portal) renderPasskeys(c *fiber.Ctx, name string, v passkeyView) error {
	p.localize(c, &v.view)
	var b strings.Builder
	if err := pagesFor(v.Lang).ExecuteTemplate(&b, name, v); err != nil {
		return err
	}
	c.Type("html", "utf-8")
	return c.SendString(b.String())
}

func (p *Portal) passkeyLoginPage(c *fiber.Ctx) error {
	rd := p.cleanRD(c.Query("rd"))
	if _, _, _, ok := p.session(c); ok {
		return c.Redirect(p.next(rd), fiber.StatusFound)
	}
	return p.renderPasskeys(c, "passkey-login", passkeyView{view: view{Title: "Sign in with a passkey", CSRF: p.preToken(c), RD: rd}})
}

type ceremonyJSON struct {
	Options json.RawMessage `json:"options"`
	Token   string          `json:"token"`
}

func (p *Portal) passkeyLoginBegin(c *fiber.Ctx, pk *auth.Passkeys) error {
	opts, tok, err := pk.BeginLogin()
	if err != nil {
		return err
	}
	return c.JSON(ceremonyJSON{Options: opts, Token: tok})
}

func (p *Portal) passkeyLoginFinish(c *fiber.Ctx, pk *auth.Passkeys) error {
	rd := p.cleanRD(c.FormValue("rd"))
	ns, who, err := pk.FinishLogin(c.FormValue("token"), []byte(c.FormValue("credential")), clientIP(c))
	if err != nil {
		p.cfg.Logf("portal: passkey sign-in from %s refused: %v", clientIP(c), err)
		return fiber.NewError(refusalStatus(c, err), p.publicMessage(c, err))
	}
	p.cfg.Logf("portal: %s signed in with a passkey from %s", who, clientIP(c))
	p.startSession(c, ns)
	return c.JSON(fiber.Map{"next": p.next(rd)})
}

func (p *Portal) passkeysPage(c *fiber.Ctx, pk *auth.Passkeys, msg string) error {
	s, id, _ := sessionOf(c)
	list, err := pk.List(id.User)
	if err != nil {
		return err
	}
	req, _ := p.cfg.Auth.PasskeysRequiredForAdmins()
	return p.renderPasskeys(c, "passkeys", passkeyView{
		view:     view{Title: "Passkeys", User: id, CSRF: s.CSRF, Message: msg},
		Passkeys: list, Required: req,
	})
}

func (p *Portal) passkeyAddBegin(c *fiber.Ctx, pk *auth.Passkeys) error {
	_, id, _ := sessionOf(c)
	opts, tok, err := pk.BeginRegistration(id.User)
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, p.publicMessage(c, err))
	}
	return c.JSON(ceremonyJSON{Options: opts, Token: tok})
}

func (p *Portal) passkeyAddFinish(c *fiber.Ctx, pk *auth.Passkeys) error {
	_, id, _ := sessionOf(c)
	info, err := pk.FinishRegistration(id.User, c.FormValue("token"), c.FormValue("name"), []byte(c.FormValue("credential")))
	if err != nil {
		p.cfg.Logf("portal: passkey registration of %s refused: %v", id.User, err)
		return fiber.NewError(fiber.StatusBadRequest, p.publicMessage(c, err))
	}
	p.cfg.Logf("portal: %s added passkey %q", id.User, info.Name)
	return c.JSON(info)
}

func (p *Portal) passkeyDelete(c *fiber.Ctx, pk *auth.Passkeys) error {
	_, id, _ := sessionOf(c)
	if err := pk.Remove(id.User, c.Params("id")); err != nil {
		if errors.Is(err, auth.ErrPasskeyNotFound) {
			return fiber.NewError(fiber.StatusNotFound, p.publicMessage(c, err))
		}
		return err
	}
	return c.Redirect("/account/passkeys", fiber.StatusSeeOther)
}

func (p *Portal) passkeyRequire(c *fiber.Ctx, pk *auth.Passkeys) error {
	on := c.FormValue("required") == "on"
	if err := p.cfg.Auth.SetPasskeysRequiredForAdmins(on); err != nil {
		return err
	}
	_, id, _ := sessionOf(c)
	p.cfg.Logf("portal: %s set passkeys required for admins: %v", id.User, on)
	return c.Redirect("/account/passkeys", fiber.StatusSeeOther)
}

// Middleware of every route: security headers, error pages, CSRF checks,
// sessions, client addresses and cookies.

package portal

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/stackhub/stackhub/internal/auth"
)

// headers sets the security headers of every answer.
func (p *Portal) headers(c *fiber.Ctx) error {
	c.Set("Content-Security-Policy", p.csp)
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("X-Frame-Options", "DENY")
	// same-origin, not no-referrer: with no-referrer browsers send
	// "Origin: null" on the portal's own form posts. Cross-origin requests
	// (the hand-over to an app, with the ticket in its URL) get no referrer.
	c.Set("Referrer-Policy", "same-origin")
	c.Set("Cross-Origin-Opener-Policy", "same-origin")
	c.Set("Cache-Control", "no-store")
	return c.Next()
}

// errorHandler renders errors as a page (or JSON under /api).
func (p *Portal) errorHandler(c *fiber.Ctx, err error) error {
	code := fiber.StatusInternalServerError
	msg := message(err)
	var fe *fiber.Error
	var se *statusError
	switch {
	case errors.As(err, &fe):
		code, msg = fe.Code, fe.Message
	case errors.As(err, &se): // an operation's error (opError): its text is for the user
		code, msg = se.code, se.Error()
	default:
		p.cfg.Logf("portal: %s %s: %v", c.Method(), c.Path(), err)
	}
	// In the request's language: the catalog message of an error that
	// carries one (appctl's errors, with the app's names in), else the
	// catalog's text of msg.
	msg = errorText(p.localizer(c), err, msg)
	if strings.HasPrefix(c.Path(), "/api/") {
		return c.Status(code).JSON(fiber.Map{"error": msg})
	}
	return p.render(c.Status(code), "message", view{Title: httpTitle(code), Message: msg})
}

func httpTitle(code int) string {
	switch code {
	case 400:
		return "Bad request"
	case 403:
		return "Not allowed"
	case 404:
		return "Not found"
	case 429:
		return "Too many attempts"
	}
	return "Something went wrong"
}

// stackhub_portal handler sets it on every request (replacing any value a
// client sent).
const ClientIPHeader = "X-Stackhub-Client-Ip"

// clientIP is the client address Caddy resolved (see Trust in the package
// documentation): ClientIPHeader, else the last X-Forwarded-For entry.
func clientIP(c *fiber.Ctx) string {
	if ip := strings.TrimSpace(c.Get(ClientIPHeader)); ip != "" {
		return ip
	}
	xff := c.Get(fiber.HeaderXForwardedFor)
	if i := strings.LastIndexByte(xff, ','); i >= 0 {
		xff = xff[i+1:]
	}
	if ip := strings.TrimSpace(xff); ip != "" {
		return ip
	}
	return "local"
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (p *Portal) setCookie(c *fiber.Ctx, name, value, sameSite string, expires time.Time) {
	c.Cookie(&fiber.Cookie{Name: name, Value: value, Path: "/", Expires: expires,
		Secure: true, HTTPOnly: true, SameSite: sameSite})
}

func (p *Portal) clearCookie(c *fiber.Ctx, name string) {
	c.Cookie(&fiber.Cookie{Name: name, Value: "", Path: "/", Expires: time.Unix(1, 0), MaxAge: -1,
		Secure: true, HTTPOnly: true, SameSite: "Lax"})
}

// sameOrigin refuses state-changing requests whose Origin header names
// another origin (browsers send it on every cross-origin POST). A missing
// header passes: the CSRF token is the check that always applies.
func (p *Portal) sameOrigin(c *fiber.Ctx) bool {
	o := c.Get(fiber.HeaderOrigin)
	return o == "" || o == p.origin
}

// preCSRF checks the double-submit token of the forms shown before sign-in.
func (p *Portal) preCSRF(c *fiber.Ctx) error {
	cookie, form := c.Cookies(CSRFCookie), c.FormValue("csrf")
	if !p.sameOrigin(c) || cookie == "" || subtle.ConstantTimeCompare([]byte(cookie), []byte(form)) != 1 {
		p.cfg.Logf("portal: refused %s %s from %s: origin %q, CSRF cookie present %v, form token present %v",
			c.Method(), c.Path(), clientIP(c), c.Get(fiber.HeaderOrigin), cookie != "", form != "")
		return fiber.NewError(fiber.StatusForbidden, "This form has expired or did not come from StackHub: reload the page and try again.")
	}
	return c.Next()
}

// preToken returns the pre-session CSRF token, setting its cookie if needed.
func (p *Portal) preToken(c *fiber.Ctx) string {
	if t := c.Cookies(CSRFCookie); len(t) >= 32 {
		return t
	}
	t := randomToken()
	p.setCookie(c, CSRFCookie, t, "Strict", time.Time{})
	return t
}

// Locals keys.
const (
	localSession  = "stackhub.session"
	localIdentity = "stackhub.identity"
	localToken    = "stackhub.token"
)

// session returns the request's portal session, if any.
func (p *Portal) session(c *fiber.Ctx) (auth.Session, auth.Identity, string, bool) {
	tok := c.Cookies(SessionCookie)
	if tok == "" {
		return auth.Session{}, auth.Identity{}, "", false
	}
	s, id, err := p.cfg.Auth.CheckSession(tok)
	if err != nil {
		return auth.Session{}, auth.Identity{}, "", false
	}
	return s, id, tok, true
}

// signedIn requires a portal session: pages redirect to the sign-in, the
// API answers 401.
func (p *Portal) signedIn(c *fiber.Ctx) error {
	s, id, tok, ok := p.session(c)
	if !ok {
		if strings.HasPrefix(c.Path(), "/api/") || c.Method() != fiber.MethodGet {
			return fiber.NewError(fiber.StatusUnauthorized, auth.PublicMessage(auth.ErrNoSession))
		}
		if need, _ := p.cfg.Auth.NeedsSetup(); need {
			return c.Redirect("/setup", fiber.StatusFound)
		}
		return c.Redirect("/login", fiber.StatusFound)
	}
	c.Locals(localSession, s)
	c.Locals(localIdentity, id)
	c.Locals(localToken, tok)
	return c.Next()
}

func sessionOf(c *fiber.Ctx) (auth.Session, auth.Identity, string) {
	s, _ := c.Locals(localSession).(auth.Session)
	id, _ := c.Locals(localIdentity).(auth.Identity)
	tok, _ := c.Locals(localToken).(string)
	return s, id, tok
}

// csrf checks the session's CSRF token on a state-changing request: the
// form field csrf or the X-CSRF-Token header.
func (p *Portal) csrf(c *fiber.Ctx) error {
	if c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead {
		return c.Next()
	}
	s, _, _ := sessionOf(c)
	got := c.Get("X-CSRF-Token")
	if got == "" {
		got = c.FormValue("csrf")
	}
	if !p.sameOrigin(c) || !s.ValidCSRF(got) {
		p.cfg.Logf("portal: refused %s %s of %s from %s: origin %q, CSRF token present %v",
			c.Method(), c.Path(), s.User, clientIP(c), c.Get(fiber.HeaderOrigin), got != "")
		return fiber.NewError(fiber.StatusForbidden, "This form has expired or did not come from StackHub: reload the page and try again.")
	}
	return c.Next()
}

func (p *Portal) admin(c *fiber.Ctx) error {
	if _, id, _ := sessionOf(c); !id.IsAdmin() {
		return fiber.NewError(fiber.StatusForbidden, "Only admins may do this.")
	}
	return c.Next()
}

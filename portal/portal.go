// Package portal is StackHub's dashboard at https://my.<domain>: sign-in
// (password, then a TOTP code, or TOTP enrolment with a QR code and one-time
// recovery codes at the first sign-in), first-run setup, the list of apps,
// sign-out, the hand-over to apps (tickets) and user and app-access
// administration. It is a fiber app served on a unix socket behind Caddy
// (`reverse_proxy unix/<data>/portal.sock`); pages are html/template with a
// small embedded stylesheet and script, so it works offline and needs no CDN.
//
// The sign-in logic itself is internal/auth; this package owns the HTTP
// details: cookies, forms, CSRF tokens, redirects and security headers.
//
// # Routes
//
//	GET  /                      dashboard (apps the user may open)
//	GET  /setup, POST /setup    first run: create the first admin with the setup token
//	GET  /login, POST /login    user name and password      (?rd=<return URL>)
//	GET  /login/code, POST      TOTP code or recovery code
//	GET  /login/enrol, POST     TOTP enrolment (QR code at /login/enrol/qr.png)
//	POST /logout                sign out of the portal and every app
//	GET  /account, POST …       own sessions: sign one out, or all ("everywhere")
//	GET  /auth/app?rd=<URL>     hand-over: a ticket for the app host, then
//	                            302 to https://<app>/.stackhub/callback?ticket=…
//	GET  /admin, POST /admin/…  users and app access (admins)
//	GET  /admin/apps/<app>/start, POST   start a stopped app (admins; the
//	                            "app stopped" page of the app's host links here)
//	/api/…                      the same as JSON (admins; X-CSRF-Token header)
//
// # Cookies
//
// All cookies are host-only (no Domain), Secure, HttpOnly, Path=/, with the
// __Host- prefix, so no other host of the domain can set or read them:
//
//   - __Host-stackhub-session: the portal session (SameSite=Lax, expires
//     with the session);
//   - __Host-stackhub-login: the pending sign-in between password and code
//     (SameSite=Strict, 10 minutes); alone it grants nothing;
//   - __Host-stackhub-csrf: the anti-CSRF token of the forms shown before
//     a session exists (double submit; SameSite=Strict).
//
// Signed-in forms carry the session's own CSRF token (auth.Session.CSRF);
// every POST, PUT and DELETE is refused without the right one, and also when
// the browser's Origin header names another origin.
//
// # Trust
//
// The portal listens on a unix socket that only Caddy (same user, 0600)
// reaches. It takes the client address for its rate limits from
// X-Stackhub-Client-Ip, which the stackhub_portal handler sets to Caddy's
// resolved client IP (X-Forwarded-For is believed only from the server's
// trusted_proxies), falling back to the last X-Forwarded-For entry, which
// Caddy's reverse proxy sets from the connection. Redirect
// targets are built from the configured domain and port, never from the
// Host or X-Forwarded-* headers.
package portal

import (
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/internal/auth"
	"github.com/stackhub/stackhub/internal/registry"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

var pages = template.Must(template.ParseFS(templateFS, "templates/*.html"))

// Cookie names (see the package documentation).
const (
	SessionCookie = "__Host-stackhub-session"
	LoginCookie   = "__Host-stackhub-login"
	CSRFCookie    = "__Host-stackhub-csrf"
)

// Config is what the portal needs from the platform.
type Config struct {
	Auth     *auth.Service
	Registry *registry.Registry
	// Policies saves the access policies set in the admin pages and API.
	Policies PolicyStore
	// Starter starts stopped apps from the start page (may be nil).
	Starter AppStarter
	// Domain is the base domain: the portal is at my.<Domain>, apps at
	// <app>.<Domain>.
	Domain string
	// HTTPSPort is the port in URLs (443 is left out).
	HTTPSPort int
	// Logf receives noteworthy events (sign-in failures, setup). May be nil.
	Logf func(format string, args ...any)
}

// Portal is the portal's HTTP application.
type Portal struct {
	cfg    Config
	app    *fiber.App
	origin string // https://my.<domain>[:port]
	csp    string
}

// New builds the portal.
func New(cfg Config) *Portal {
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	p := &Portal{cfg: cfg}
	p.origin = "https://" + p.hostPort("my."+cfg.Domain)
	// form-action must allow the app hosts: after the sign-in form, the
	// browser follows redirects to https://<app>/.stackhub/callback, and
	// browsers apply form-action to that chain.
	p.csp = "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; " +
		"frame-ancestors 'none'; form-action 'self' https://" + p.hostPort("*."+cfg.Domain)
	p.app = fiber.New(fiber.Config{
		DisableStartupMessage: true,
		Immutable:             true, // handlers keep strings beyond the request
		ReadTimeout:           30 * time.Second,
		BodyLimit:             1 << 20,
		ErrorHandler:          p.errorHandler,
	})
	p.routes()
	return p
}

// App returns the fiber app (for tests: app.Test).
func (p *Portal) App() *fiber.App { return p.app }

// Serve serves the portal on ln until Shutdown.
func (p *Portal) Serve(ln net.Listener) error { return p.app.Listener(ln) }

// Shutdown stops the server, waiting up to timeout for requests in flight.
func (p *Portal) Shutdown(timeout time.Duration) error { return p.app.ShutdownWithTimeout(timeout) }

func (p *Portal) hostPort(host string) string {
	if p.cfg.HTTPSPort != 0 && p.cfg.HTTPSPort != 443 {
		return host + ":" + strconv.Itoa(p.cfg.HTTPSPort)
	}
	return host
}

func (p *Portal) routes() {
	a := p.app
	a.Use(p.headers)
	static, _ := fs.Sub(assetFS, "assets")
	a.Get("/static/:file", func(c *fiber.Ctx) error {
		name := c.Params("file")
		b, err := fs.ReadFile(static, name)
		if err != nil || strings.Contains(name, "/") {
			return fiber.ErrNotFound
		}
		switch {
		case strings.HasSuffix(name, ".css"):
			c.Type("css", "utf-8")
		case strings.HasSuffix(name, ".js"):
			c.Type("js", "utf-8")
		}
		c.Set("Cache-Control", "public, max-age=3600")
		return c.Send(b)
	})
	a.Get("/favicon.ico", func(c *fiber.Ctx) error { return c.SendStatus(fiber.StatusNoContent) })

	a.Get("/setup", p.setupPage)
	a.Post("/setup", p.preCSRF, p.setup)
	a.Get("/login", p.loginPage)
	a.Post("/login", p.preCSRF, p.login)
	a.Get("/login/code", p.codePage)
	a.Post("/login/code", p.preCSRF, p.code)
	a.Get("/login/enrol", p.enrolPage)
	a.Get("/login/enrol/qr.png", p.enrolQR)
	a.Post("/login/enrol", p.preCSRF, p.enrol)

	a.Get("/", p.signedIn, p.dashboard)
	a.Post("/logout", p.signedIn, p.csrf, p.logout)
	a.Get("/auth/app", p.authApp)

	a.Get("/account", p.signedIn, p.account)
	a.Post("/account/sessions/:id/revoke", p.signedIn, p.csrf, p.revokeSession)
	a.Post("/account/signout-all", p.signedIn, p.csrf, p.signOutAll)

	a.Get("/admin", p.signedIn, p.admin, p.adminPage)
	a.Post("/admin/users", p.signedIn, p.admin, p.csrf, p.adminAddUser)
	a.Post("/admin/users/:name/delete", p.signedIn, p.admin, p.csrf, p.adminDeleteUser)
	a.Post("/admin/users/:name/reset-totp", p.signedIn, p.admin, p.csrf, p.adminResetTOTP)
	a.Post("/admin/apps/:app/policy", p.signedIn, p.admin, p.csrf, p.adminPolicy)
	a.Get("/admin/apps/:app/start", p.signedIn, p.admin, p.appStartPage)
	a.Post("/admin/apps/:app/start", p.signedIn, p.admin, p.csrf, p.appStart)

	api := a.Group("/api", p.signedIn, p.admin, p.csrf)
	p.apiRoutes(api)
}

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
	if errors.As(err, &fe) {
		code, msg = fe.Code, fe.Message
	} else {
		p.cfg.Logf("portal: %s %s: %v", c.Method(), c.Path(), err)
	}
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

// view is the data of every page.
type view struct {
	Title     string
	User      auth.Identity
	CSRF      string
	Error     string
	Warning   string
	Message   string
	RD        string
	Next      string
	Codes     []string
	Enrolment auth.Enrolment
	Apps      []appView
	Users     []auth.User
	Sessions  []auth.Session
}

type appView struct {
	App, Host, Link                    string
	Running                            bool
	Access, Users, Groups, PublicPaths string
}

func (p *Portal) render(c *fiber.Ctx, name string, v view) error {
	if v.Warning == "" {
		if st, err := p.cfg.Auth.Settings(); err == nil && !st.TOTPRequired {
			v.Warning = "Two-factor sign-in is optional on this StackHub (an admin relaxed it): users without TOTP sign in with a password alone."
		}
	}
	var b strings.Builder
	if err := pages.ExecuteTemplate(&b, name, v); err != nil {
		return err
	}
	c.Type("html", "utf-8")
	return c.SendString(b.String())
}

// ClientIPHeader carries Caddy's resolved client address to the portal; the
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

// --- return addresses -------------------------------------------------------

// isAppHost reports whether host is a published app's.
func (p *Portal) isAppHost(host string) bool {
	_, ok := p.cfg.Registry.Lookup(host)
	return ok
}

// ourHost accepts the portal's and the apps' hosts.
func (p *Portal) ourHost(host string) bool {
	return host == "my."+p.cfg.Domain || p.isAppHost(host)
}

// cleanRD validates a return address: "" when it is unsafe or absent.
func (p *Portal) cleanRD(rd string) string {
	if rd == "" {
		return ""
	}
	safe, ok := auth.SafeReturnScheme(rd, "https", p.ourHost)
	if !ok {
		return ""
	}
	return safe
}

// next is where to send a user who just signed in, for return address rd
// (already cleaned): an app URL goes through the ticket hand-over, a portal
// path is followed, anything else is the dashboard.
func (p *Portal) next(rd string) string {
	switch {
	case rd == "":
		return "/"
	case strings.HasPrefix(rd, "/"):
		return rd
	}
	u, err := url.Parse(rd)
	if err != nil || u.Hostname() == "my."+p.cfg.Domain {
		if err == nil && u.Hostname() == "my."+p.cfg.Domain {
			return u.RequestURI()
		}
		return "/"
	}
	return "/auth/app?rd=" + url.QueryEscape(rd)
}

// authApp hands a signed-in user over to an app: it issues a ticket for the
// app host and sends the browser to the app's callback.
func (p *Portal) authApp(c *fiber.Ctx) error {
	raw := c.Query("rd")
	rd := p.cleanRD(raw)
	var u *url.URL
	if rd != "" && !strings.HasPrefix(rd, "/") {
		u, _ = url.Parse(rd)
	}
	if u == nil || !p.isAppHost(strings.ToLower(u.Hostname())) {
		p.cfg.Logf("portal: refused return address %q from %s", raw, clientIP(c))
		return fiber.NewError(fiber.StatusBadRequest, auth.PublicMessage(auth.ErrBadReturn))
	}
	_, _, tok, ok := p.session(c)
	if !ok {
		return c.Redirect("/login?rd="+url.QueryEscape(rd), fiber.StatusFound)
	}
	bind := auth.ReturnBinding(u)
	if bind == "" {
		// A link without the app host's binding (the dashboard's): the
		// app's gate gives this browser its nonce and sends it back here.
		u.Fragment = ""
		return c.Redirect(u.String(), fiber.StatusFound)
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	host := strings.ToLower(u.Hostname())
	ticket, err := p.cfg.Auth.IssueTicket(tok, host, path, bind)
	if err != nil {
		if errors.Is(err, auth.ErrNoSession) {
			return c.Redirect("/login?rd="+url.QueryEscape(rd), fiber.StatusFound)
		}
		return err
	}
	return c.Redirect("https://"+p.hostPort(host)+"/.stackhub/callback?ticket="+url.QueryEscape(ticket), fiber.StatusFound)
}

// --- first run --------------------------------------------------------------

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

// --- sign-in ----------------------------------------------------------------

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
		return p.render(c.Status(status), "login", view{Title: "Sign in", CSRF: p.preToken(c), RD: rd, Error: auth.PublicMessage(err)})
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
		return p.render(c.Status(status), "code", view{Title: "Two-factor code", CSRF: p.preToken(c), RD: rd, Error: auth.PublicMessage(err)})
	}
	p.startSession(c, s)
	return c.Redirect(p.next(rd), fiber.StatusSeeOther)
}

func (p *Portal) enrolPage(c *fiber.Ctx) error {
	rd := p.cleanRD(c.Query("rd"))
	tok, ok := p.challenge(c)
	if !ok {
		return p.restart(c, rd)
	}
	e, err := p.cfg.Auth.LoginEnrolment(tok)
	if err != nil {
		p.clearCookie(c, LoginCookie)
		return p.render(c.Status(fiber.StatusBadRequest), "login", view{Title: "Sign in", CSRF: p.preToken(c), RD: rd, Error: auth.PublicMessage(err)})
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
			return p.render(c.Status(fiber.StatusBadRequest), "login", view{Title: "Sign in", CSRF: p.preToken(c), RD: rd, Error: auth.PublicMessage(err)})
		}
		return p.render(c.Status(refusalStatus(c, err)), "enrol", view{Title: "Set up two-factor sign-in", CSRF: p.preToken(c), RD: rd, Enrolment: e, Error: auth.PublicMessage(err)})
	}
	p.startSession(c, s)
	return p.render(c, "recovery", view{Title: "Recovery codes", Codes: codes, Next: p.next(rd)})
}

func (p *Portal) logout(c *fiber.Ctx) error {
	_, _, tok := sessionOf(c)
	if err := p.cfg.Auth.Logout(tok); err != nil {
		return err
	}
	p.clearCookie(c, SessionCookie)
	return c.Redirect("/login", fiber.StatusSeeOther)
}

// --- dashboard --------------------------------------------------------------

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

// --- own account ------------------------------------------------------------

func (p *Portal) account(c *fiber.Ctx) error {
	s, id, _ := sessionOf(c)
	list, err := p.cfg.Auth.Sessions(id.User)
	if err != nil {
		return err
	}
	// Next carries the current session's ID, to mark "this browser".
	return p.render(c, "account", view{Title: "Account", User: id, CSRF: s.CSRF, Sessions: list, Next: s.ID})
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

// --- administration ---------------------------------------------------------

func (p *Portal) adminPage(c *fiber.Ctx) error {
	s, id, _ := sessionOf(c)
	users, err := p.cfg.Auth.Users()
	if err != nil {
		return err
	}
	return p.render(c, "admin", view{Title: "Admin", User: id, CSRF: s.CSRF, Users: users, Apps: p.appViews(id, true), Error: c.Query("error")})
}

// SplitList splits a comma-separated list of users, groups or paths, as
// forms and the CLI take them, dropping blanks.
func SplitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// message is the text to show for err: auth's public message, or the text
// of an input error of this package.
func message(err error) string {
	var ie InputError
	if errors.As(err, &ie) {
		return string(ie)
	}
	return auth.PublicMessage(err)
}

// InputError is a refused input, with a message for the user.
type InputError string

func (e InputError) Error() string { return string(e) }

func (p *Portal) adminBack(c *fiber.Ctx, err error) error {
	if err != nil {
		return c.Redirect("/admin?error="+url.QueryEscape(message(err)), fiber.StatusSeeOther)
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

// PolicyStore keeps an app's access policy and publishes it to the gate;
// the platform's is appctl.Manager, which saves it with the app's record.
type PolicyStore interface {
	SetPolicy(app string, p registry.Policy) error
}

// SetPolicy validates pol and hands it to store. The gate applies it from
// the next request, and it survives restarts of the app and of StackHub.
func SetPolicy(store PolicyStore, app string, pol registry.Policy) error {
	switch pol.Access {
	case registry.Private, registry.Restricted, registry.Public:
	case "":
		pol.Access = registry.Private
	default:
		return InputError(fmt.Sprintf("access must be private, restricted or public, not %q", pol.Access))
	}
	for i, u := range pol.Users {
		n, err := auth.NormalizeUsername(u)
		if err != nil {
			return err
		}
		pol.Users[i] = n
	}
	for i, g := range pol.Groups {
		n, err := auth.NormalizeUsername(g)
		if err != nil {
			return auth.ErrInvalidGroup
		}
		pol.Groups[i] = n
	}
	for _, pp := range pol.PublicPaths {
		if !strings.HasPrefix(pp, "/") || strings.ContainsAny(pp, " \\%") {
			return InputError(fmt.Sprintf("path exception %q must be a path starting with /", pp))
		}
	}
	if err := store.SetPolicy(app, pol); err != nil {
		if errors.Is(err, appctl.ErrNotInstalled) {
			return InputError(fmt.Sprintf("no app %q is installed", app))
		}
		return err
	}
	return nil
}

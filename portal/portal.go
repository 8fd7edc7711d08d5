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
	"context"
	"embed"
	"html/template"
	"io/fs"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/stackhub/stackhub/dns"
	"github.com/stackhub/stackhub/internal/auth"
	"github.com/stackhub/stackhub/internal/i18n"
	"github.com/stackhub/stackhub/internal/platform"
	"github.com/stackhub/stackhub/internal/registry"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// pages are the templates as parsed; pagesFor gives a language's copy.
var pages = template.Must(template.New("pages").Funcs(templateFuncs(i18n.New("en"))).ParseFS(templateFS, "templates/*.html"))

func cutDot(host string) (string, string, bool) { return strings.Cut(host, ".") }

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
	// Platform runs the apps and stores that the API and the pages beyond
	// sign-in manage; nil (tests of the sign-in alone) makes those answer
	// 503.
	Platform *platform.Platform
	// Certificates lists the certificates in Caddy's storage, for the
	// admin page; may be nil.
	Certificates func() []Certificate
	// DNSRecords returns what the zone server answers now; ok is false
	// when StackHub serves no zone. May be nil.
	DNSRecords func() (records []dns.Record, ok bool)
	// Logf receives noteworthy events (sign-in failures, setup). May be nil.
	Logf func(format string, args ...any)
}

// Portal is the portal's HTTP application.
type Portal struct {
	cfg    Config
	app    *fiber.App
	origin string // https://my.<domain>[:port]
	csp    string
	ops    operations
	// history is the apps' resource use over the last hour.
	history     usageHistory
	stopHistory context.CancelFunc
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
	if cfg.Platform != nil {
		ctx, cancel := context.WithCancel(context.Background())
		p.stopHistory = cancel
		go p.recordUsage(ctx)
	}
	return p
}

// App returns the fiber app (for tests: app.Test).
func (p *Portal) App() *fiber.App { return p.app }

// Serve serves the portal on ln until Shutdown.
func (p *Portal) Serve(ln net.Listener) error { return p.app.Listener(ln) }

// Shutdown stops the server, waiting up to timeout for requests in flight.
func (p *Portal) Shutdown(timeout time.Duration) error {
	if p.stopHistory != nil {
		p.stopHistory()
	}
	return p.app.ShutdownWithTimeout(timeout)
}

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
		case strings.HasSuffix(name, ".svg"):
			c.Set(fiber.HeaderContentType, "image/svg+xml")
		}
		c.Set("Cache-Control", "public, max-age=3600")
		return c.Send(b)
	})
	a.Get("/favicon.ico", func(c *fiber.Ctx) error { return c.SendStatus(fiber.StatusNoContent) })

	a.Get("/prefs", p.setPrefs)
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
	a.Post("/account/password", p.signedIn, p.csrf, p.changePassword)
	a.Post("/account/email", p.signedIn, p.csrf, p.changeEmail)
	a.Post("/account/recovery-codes", p.signedIn, p.csrf, p.newRecoveryCodes)
	a.Get("/account/totp", p.signedIn, p.reenrolPage)
	a.Get("/account/totp/qr.png", p.signedIn, p.reenrolQR)
	a.Post("/account/totp", p.signedIn, p.csrf, p.reenrol)

	a.Get("/admin", p.signedIn, p.admin, p.adminPage)
	a.Post("/admin/users", p.signedIn, p.admin, p.csrf, p.adminAddUser)
	a.Post("/admin/users/:name/delete", p.signedIn, p.admin, p.csrf, p.adminDeleteUser)
	a.Post("/admin/users/:name/reset-totp", p.signedIn, p.admin, p.csrf, p.adminResetTOTP)
	a.Post("/admin/apps/:app/policy", p.signedIn, p.admin, p.csrf, p.adminPolicy)
	a.Get("/admin/apps/:app/start", p.signedIn, p.admin, p.appStartPage)
	a.Post("/admin/apps/:app/start", p.signedIn, p.admin, p.csrf, p.appStart)

	a.Get("/icons/:store/:id", p.signedIn, p.icon)
	a.Get("/store", p.signedIn, p.admin, p.needPlatform, p.storePage)
	a.Get("/store/new", p.signedIn, p.admin, p.needPlatform, p.ownAppPage)
	a.Get("/store/:store/:id", p.signedIn, p.admin, p.needPlatform, p.storeAppPage)
	a.Get("/apps/:id", p.signedIn, p.admin, p.needPlatform, p.appPage)
	a.Get("/nodes", p.signedIn, p.admin, p.needPlatform, p.nodesPage)
	p.v1Routes(a)
	api := a.Group("/api", p.signedIn, p.admin, p.csrf)
	p.apiRoutes(api)
}

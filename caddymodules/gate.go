package caddymodules

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/stackhub/stackhub/internal/auth"
	"github.com/stackhub/stackhub/internal/registry"
)

func init() {
	caddy.RegisterModule(Gate{})
	httpcaddyfile.RegisterHandlerDirective("stackhub_gate", parseGate)
	// Like forward_auth: after rewrites (the policy sees the path the app
	// gets), before the router and the reverse proxy.
	httpcaddyfile.RegisterDirectiveOrder("stackhub_gate", httpcaddyfile.After, "forward_auth")
}

// AppCookie is the app session cookie the gate sets on each app host:
// host-only (the __Host- prefix forbids a Domain attribute and demands
// Secure and Path=/), HttpOnly, SameSite=Lax.
const AppCookie = "__Host-stackhub-app"

// BindCookie holds the random nonce the gate gives a signed-out browser
// on an app host before sending it to sign in; the app-access ticket is
// bound to it (auth.ReturnBinding), so a ticket signs in only the browser
// that asked for it. Same flags as AppCookie.
const BindCookie = "__Host-stackhub-bind"

// Gate is StackHub's access gate in front of every app (DESIGN.md flow 2).
// On each request it:
//
//  1. removes client-sent identity headers: X-Stackhub-User, -Email and
//     -Groups in any letter case and with '_' for '-' (some app servers read
//     x_stackhub_user as the same variable), the client-address and
//     original-URL headers (X-Real-IP, Forwarded, True-Client-IP,
//     X-Client-IP, X-Original-URL, X-Rewrite-URL, …: Caddy's reverse proxy
//     passes them through unchanged) and the '_' spellings of
//     X-Forwarded-For/-Host/-Proto (Caddy's reverse proxy replaces the '-'
//     spellings from the connection); X-Real-IP is then set to Caddy's
//     resolved client address, and the gate's own cookies are cut out of
//     the Cookie header;
//  2. answers /.stackhub/callback?ticket=… : redeems the portal's one-time
//     ticket for this host and this browser (the nonce cookie it set before
//     sending the browser to sign in), sets the app cookie and redirects to
//     the path bound to the ticket; and /.stackhub/logout: a page with a
//     button, and on a same-origin POST with its token, signs out of the
//     portal session and every app of it;
//  3. reads the app's policy from the registry (no reload needed when it
//     changes) and the app cookie (auth.CheckApp: memory only, no disk, no
//     password hashing), and decides with auth.Allowed on the request's
//     path (auth.Decide: a path exception never lets in a path the app
//     could read as another one; those get a 400): allowed requests
//     continue with X-Stackhub-User, -Email and -Groups set by us;
//     signed-out requests to a private path get the nonce cookie (see
//     BindCookie) and a 302 to https://my.<domain>[:port]/login?rd=<this
//     URL>#stackhub-bind=<binding>; signed-in users whom a restricted
//     policy leaves out get a 403 page.
//
// The redirect's return URL is built from the request's host, which the
// registry just matched, the configured HTTPS port and the request URI; no
// X-Forwarded-* header takes part. Hosts not in the registry pass through to
// stackhub_router (its 404 page).
//
// Caddyfile (before stackhub_router; it takes no arguments):
//
//	*.home.example.com {
//		stackhub_gate
//		stackhub_router
//		reverse_proxy {
//			dynamic stackhub
//		}
//	}
type Gate struct {
	auth     *auth.Service
	registry *registry.Registry
	domain   string
	port     string // ":8443", or "" for 443
	login    string // https://my.<domain>[:port]/login?rd=
	hsts     string // Strict-Transport-Security value, or ""
	log      *zap.Logger
}

// CaddyModule returns the Caddy module information.
func (Gate) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "http.handlers.stackhub_gate", New: func() caddy.Module { return new(Gate) }}
}

// Provision takes the platform's accounts and registry.
func (g *Gate) Provision(ctx caddy.Context) error {
	p, err := platformOf(ctx)
	if err != nil {
		return err
	}
	g.auth, g.registry, g.domain = p.Auth, p.Registry, p.Config.Domain
	if p.Config.HTTPSPort != 0 && p.Config.HTTPSPort != 443 {
		g.port = ":" + strconv.Itoa(p.Config.HTTPSPort)
	}
	g.login = "https://my." + g.domain + g.port + "/login?rd="
	g.log = ctx.Logger()
	g.hsts, err = p.Config.HSTSHeader()
	return err
}

func (g *Gate) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	auth.StripClientHeaders(r.Header)
	setHSTS(w, r, g.hsts)
	host := requestHost(r)
	e, ok := g.registry.Lookup(host)
	if !ok {
		return next.ServeHTTP(w, r) // the router answers 404
	}
	switch r.URL.Path {
	case "/.stackhub/callback":
		return g.callback(w, r, host)
	case "/.stackhub/logout":
		return g.logout(w, r, host)
	}
	var id auth.Identity
	if c, err := r.Cookie(AppCookie); err == nil {
		id, _ = g.auth.CheckApp(c.Value, host)
	}
	auth.StripCookie(r.Header, AppCookie)
	auth.StripCookie(r.Header, BindCookie)
	allowed, err := auth.Decide(id, e.Policy, r.URL)
	if err != nil {
		g.log.Info("ambiguous path refused", zap.String("host", host), zap.String("uri", r.RequestURI), zap.String("client", r.RemoteAddr))
		return page(w, r, http.StatusBadRequest, "Bad address", auth.PublicMessage(err), "")
	}
	if allowed {
		if id.SignedIn() {
			auth.SetIdentityHeaders(r.Header, id)
			// The router's own pages (app stopped) need to know who asks;
			// the cookie is gone from the request by now.
			caddyhttp.SetVar(r.Context(), identityVar, id)
		}
		ip, _ := caddyhttp.GetVar(r.Context(), caddyhttp.ClientIPVarKey).(string)
		auth.SetClientIP(r.Header, ip)
		return next.ServeHTTP(w, r)
	}
	if id.SignedIn() {
		return page(w, r, http.StatusForbidden, "Not allowed", "Your account ({{.User}}) may not use {{.App}}.", "Ask an admin to give you access to this app.", "User", id.User, "App", e.App)
	}
	// Signed out: to the portal, with the way back. The URL is ours: the
	// host the registry matched, our port, the request's path and query.
	// The fragment binds the ticket to this browser (see auth.ReturnBinding).
	back := "https://" + host + g.port + r.URL.RequestURI()
	nonce := g.browserNonce(w, r)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", g.login+url.QueryEscape(auth.ReturnWithBinding(back, nonce)))
	w.WriteHeader(http.StatusFound)
	return nil
}

// callback redeems a portal ticket and sets the app cookie.
func (g *Gate) callback(w http.ResponseWriter, r *http.Request, host string) error {
	setPageSecurityHeaders(w.Header())
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		return page(w, r, http.StatusMethodNotAllowed, "Not allowed", "This address only takes the sign-in redirect.", "")
	}
	var nonce string
	if c, err := r.Cookie(BindCookie); err == nil {
		nonce = c.Value
	}
	s, err := g.auth.RedeemTicket(r.URL.Query().Get("ticket"), host, nonce)
	if err != nil {
		g.log.Info("app sign-in ticket refused", zap.String("host", host), zap.String("client", r.RemoteAddr), zap.Error(err))
		return page(w, r, http.StatusBadRequest, "Sign-in link expired", auth.PublicMessage(err), "Open the app again from the portal: {{.Portal}}", "Portal", "https://my."+g.domain+g.port+"/")
	}
	http.SetCookie(w, &http.Cookie{Name: AppCookie, Value: s.Token, Path: "/", Expires: s.Expires,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	// ReturnPath comes from the ticket (checked when it was issued), never
	// from this URL; a path is on this host by construction.
	ret := s.ReturnPath
	if !strings.HasPrefix(ret, "/") || strings.HasPrefix(ret, "//") || strings.HasPrefix(ret, "/\\") {
		ret = "/"
	}
	w.Header().Set("Location", ret)
	w.WriteHeader(http.StatusFound)
	return nil
}

// UnmarshalCaddyfile reads `stackhub_gate` (it takes no arguments).
func (g *Gate) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next()
	if d.NextArg() {
		return d.ArgErr()
	}
	return nil
}

func parseGate(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	g := new(Gate)
	err := g.UnmarshalCaddyfile(h.Dispenser)
	return g, err
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Gate)(nil)
	_ caddyhttp.MiddlewareHandler = (*Gate)(nil)
	_ caddyfile.Unmarshaler       = (*Gate)(nil)
)

package caddymodules

import (
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/stackhub/stackhub/internal/auth"
	"github.com/stackhub/stackhub/internal/pages"
	"github.com/stackhub/stackhub/internal/registry"
	"github.com/stackhub/stackhub/portal"
)

func init() {
	caddy.RegisterModule(Router{})
	httpcaddyfile.RegisterHandlerDirective("stackhub_router", parseRouter)
	httpcaddyfile.RegisterDirectiveOrder("stackhub_router", httpcaddyfile.Before, "reverse_proxy")
}

// upstreamVar is the request variable in which the router hands the app's
// upstream to the `stackhub` dynamic upstream source.
const upstreamVar = "stackhub.upstream"

// identityVar is the request variable in which the gate hands the signed-in
// identity (auth.Identity) to the router, after removing the app cookie
// from the request.
const identityVar = "stackhub.identity"

// Router looks the request's host up in the app registry. A published app
// goes on to the next handler (normally `reverse_proxy { dynamic stackhub }`)
// with its upstream in a request variable; an unknown host gets a 404 page,
// a stopped app a 503 page that says how to start it (internal/pages: in
// the portal's look, with a Start button for admins).
//
// The registry is read on every request, so installing or removing an app
// changes routing at once, with no config reload (DESIGN.md invariant 1).
//
// Caddyfile:
//
//	*.home.example.com {
//		stackhub_router
//		reverse_proxy {
//			dynamic stackhub
//		}
//	}
type Router struct {
	registry *registry.Registry
	auth     *auth.Service
	pages    *pages.Renderer
}

// CaddyModule returns the Caddy module information.
func (Router) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "http.handlers.stackhub_router", New: func() caddy.Module { return new(Router) }}
}

// Provision takes the platform's registry.
func (rt *Router) Provision(ctx caddy.Context) error {
	p, err := platformOf(ctx)
	if err != nil {
		return err
	}
	rt.registry, rt.auth = p.Registry, p.Auth
	rt.pages = pages.New(portal.Stylesheet(), portalOrigin(p.Config.Domain, p.Config.HTTPSPort))
	return nil
}

// portalOrigin is https://my.<domain>[:port].
func portalOrigin(domain string, httpsPort int) string {
	if httpsPort != 0 && httpsPort != 443 {
		return fmt.Sprintf("https://my.%s:%d", domain, httpsPort)
	}
	return "https://my." + domain
}

func (rt Router) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	host := requestHost(r)
	e, ok := rt.registry.Lookup(host)
	switch {
	case !ok:
		return rt.pages.In(pages.Lang(r)).NoApp(w, host)
	case e.Redirect != "":
		// A redirect alias: to the app's main URL, same path and query.
		w.Header().Set("Location", e.Redirect+r.URL.RequestURI())
		w.WriteHeader(http.StatusPermanentRedirect)
		return nil
	case e.Upstream == "":
		// The gate let the request through; who asks decides whether the
		// page offers the Start button (admins only).
		id, _ := caddyhttp.GetVar(r.Context(), identityVar).(auth.Identity)
		return rt.pages.In(pages.Lang(r)).Stopped(w, e.App, id.User, id.IsAdmin())
	}
	caddyhttp.SetVar(r.Context(), upstreamVar, e.Upstream)
	return next.ServeHTTP(w, r)
}

// requestHost is the request's host name without port, lower case.
func requestHost(r *http.Request) string {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.ToLower(strings.TrimSuffix(host, "."))
}

// plainPages renders the gate's messages (not allowed, sign-in link
// expired) in the portal's look.
var plainPages = pages.New(portal.Stylesheet(), "")

// title, what and next are catalog messages (internal/i18n) in r's
// language; args are their placeholders' names and values.
func page(w http.ResponseWriter, r *http.Request, status int, title, what, next string, args ...any) error {
	setPageSecurityHeaders(w.Header()) // pages.Write sets its own, stricter CSP over this one
	return plainPages.In(pages.Lang(r)).Write(w, status, pages.Page{Title: title, What: what, Next: next, Args: args})
}

// UnmarshalCaddyfile reads `stackhub_router` (it takes no arguments).
func (rt *Router) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next()
	if d.NextArg() {
		return d.ArgErr()
	}
	return nil
}

func parseRouter(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	rt := new(Router)
	err := rt.UnmarshalCaddyfile(h.Dispenser)
	return rt, err
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Router)(nil)
	_ caddyhttp.MiddlewareHandler = (*Router)(nil)
	_ caddyfile.Unmarshaler       = (*Router)(nil)
)

package caddymodules

import (
	"fmt"
	"html/template"
	"net"
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/stackhub/stackhub/internal/registry"
)

func init() {
	caddy.RegisterModule(Router{})
	httpcaddyfile.RegisterHandlerDirective("stackhub_router", parseRouter)
	httpcaddyfile.RegisterDirectiveOrder("stackhub_router", httpcaddyfile.Before, "reverse_proxy")
}

// upstreamVar is the request variable in which the router hands the app's
// upstream to the `stackhub` dynamic upstream source.
const upstreamVar = "stackhub.upstream"

// Router looks the request's host up in the app registry. A published app
// goes on to the next handler (normally `reverse_proxy { dynamic stackhub }`)
// with its upstream in a request variable; an unknown host gets a 404 page,
// a stopped app a 503 page that says how to start it.
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
	rt.registry = p.Registry
	return nil
}

func (rt Router) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	host := requestHost(r)
	e, ok := rt.registry.Lookup(host)
	switch {
	case !ok:
		return page(w, http.StatusNotFound, "No app here", fmt.Sprintf("No app is installed at %s.", host), "Install one with `stackhub apps install APP`, or check the address.")
	case e.Redirect != "":
		// A redirect alias: to the app's main URL, same path and query.
		w.Header().Set("Location", e.Redirect+r.URL.RequestURI())
		w.WriteHeader(http.StatusPermanentRedirect)
		return nil
	case e.Upstream == "":
		return page(w, http.StatusServiceUnavailable, "App stopped", fmt.Sprintf("The app %s is stopped.", e.App), fmt.Sprintf("Start it with `stackhub apps start %s`.", e.App))
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

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.Title}} · StackHub</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}h1{font-size:1.4rem}code{background:#f3f3f3;padding:.1rem .3rem}</style>
</head><body><h1>{{.Title}}</h1><p>{{.What}}</p><p>{{.Next}}</p></body></html>
`))

func page(w http.ResponseWriter, status int, title, what, next string) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	return pageTemplate.Execute(w, struct{ Title, What, Next string }{title, what, next})
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

package caddymodules

import (
	"fmt"
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"

	"github.com/stackhub/stackhub/internal/registry"
)

func init() {
	caddy.RegisterModule(Upstreams{})
}

// Upstreams is a dynamic upstream source for Caddy's reverse proxy: the
// upstream of the app published at the request's host. It reads what
// `stackhub_router` found, or looks the host up itself when used alone.
//
// Caddyfile:
//
//	reverse_proxy {
//		dynamic stackhub
//	}
type Upstreams struct {
	registry *registry.Registry
}

// CaddyModule returns the Caddy module information.
func (Upstreams) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "http.reverse_proxy.upstreams.stackhub", New: func() caddy.Module { return new(Upstreams) }}
}

// Provision takes the platform's registry.
func (u *Upstreams) Provision(ctx caddy.Context) error {
	p, err := platformOf(ctx)
	if err != nil {
		return err
	}
	u.registry = p.Registry
	return nil
}

// GetUpstreams returns the app's upstream for r.
func (u Upstreams) GetUpstreams(r *http.Request) ([]*reverseproxy.Upstream, error) {
	if addr, ok := caddyhttp.GetVar(r.Context(), upstreamVar).(string); ok && addr != "" {
		return []*reverseproxy.Upstream{{Dial: addr}}, nil
	}
	e, ok := u.registry.Lookup(requestHost(r))
	if !ok || e.Upstream == "" {
		return nil, fmt.Errorf("no running app at %s", requestHost(r))
	}
	return []*reverseproxy.Upstream{{Dial: e.Upstream}}, nil
}

// UnmarshalCaddyfile reads `dynamic stackhub` (no further arguments).
func (u *Upstreams) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next()
	if d.NextArg() {
		return d.ArgErr()
	}
	return nil
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Upstreams)(nil)
	_ reverseproxy.UpstreamSource = (*Upstreams)(nil)
	_ caddyfile.Unmarshaler       = (*Upstreams)(nil)
)

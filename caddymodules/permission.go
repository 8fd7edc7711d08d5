package caddymodules

import (
	"context"
	"fmt"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddytls"

	"github.com/stackhub/stackhub/internal/platform"
)

func init() {
	caddy.RegisterModule(Permission{})
}

// Permission allows on-demand certificates only for the platform's own
// hosts: installed apps (from the registry), the portal and the apex.
// Without it, anyone pointing a name at the box could make it request
// certificates at will.
//
// Caddyfile:
//
//	{
//		on_demand_tls {
//			permission stackhub
//		}
//	}
type Permission struct {
	platform *platform.Platform
}

// CaddyModule returns the Caddy module information.
func (Permission) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "tls.permission.stackhub", New: func() caddy.Module { return new(Permission) }}
}

// Provision takes the platform.
func (p *Permission) Provision(ctx caddy.Context) error {
	pl, err := platformOf(ctx)
	if err != nil {
		return err
	}
	p.platform = pl
	return nil
}

// CertificateAllowed allows the platform's hosts.
func (p Permission) CertificateAllowed(ctx context.Context, name string) error {
	if p.platform.Allowed(name) {
		return nil
	}
	return fmt.Errorf("%s is not an app of this StackHub: %w", name, caddytls.ErrPermissionDenied)
}

// UnmarshalCaddyfile reads `permission stackhub` (no further arguments).
func (p *Permission) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next()
	if d.NextArg() {
		return d.ArgErr()
	}
	return nil
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Permission)(nil)
	_ caddytls.OnDemandPermission = (*Permission)(nil)
	_ caddyfile.Unmarshaler       = (*Permission)(nil)
)

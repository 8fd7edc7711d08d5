package caddymodules

import (
	"net/http"

	"github.com/caddyserver/caddy/v2"

	"github.com/stackhub/stackhub/internal/adminapi"
	"github.com/stackhub/stackhub/internal/platform"
)

func init() {
	caddy.RegisterModule(AdminAPI{})
}

// AdminAPI serves StackHub's management API under /stackhub/ on Caddy's
// admin endpoint; the `stackhub apps …` commands call it. It inherits the
// admin endpoint's protection (loopback or a unix socket by default).
type AdminAPI struct{}

// CaddyModule returns the Caddy module information.
func (AdminAPI) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "admin.api.stackhub", New: func() caddy.Module { return new(AdminAPI) }}
}

var adminHandler = adminapi.Handler(func() *platform.Platform { return current.Load() })

// Routes returns the API's route.
func (AdminAPI) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{{
		Pattern: "/stackhub/",
		Handler: caddy.AdminHandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			adminHandler.ServeHTTP(w, r)
			return nil
		}),
	}}
}

// Interface guards
var _ caddy.AdminRouter = (*AdminAPI)(nil)

package caddymodules

import (
	"errors"
	"io"
	"net/http"
	"sync/atomic"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/stackhub/stackhub/declare"
	"github.com/stackhub/stackhub/internal/adminapi"
	"github.com/stackhub/stackhub/internal/platform"
)

// A validation run (`stackhub validate`) provisions the config and cleans
// it up without starting it. Caddy does not tell modules which run is
// which, so the validate command is wrapped to say so (wrapValidate).
//
// In a validation run the stackhub app opens no platform: a StackHub may be
// running on the same data folder (that is when users validate, before a
// reload), and badger's lock keeps a second opener off it. Instead:
//   - the running StackHub, found at the config's admin endpoint, checks
//     the declared apps against its catalog and installed apps
//     (POST /stackhub/declared/check), exactly as a reload would;
//   - when none answers, they are checked against the data folder read
//     read-only (platform.OpenForCheck).
//
// Either way nothing is locked for long, nothing listens (portal socket,
// DNS) and Docker is not touched.

// validating is set, with the admin endpoint to ask, during a validation run.
var validating atomic.Pointer[validationRun]

type validationRun struct {
	admin string // the admin endpoint of a StackHub that may be running
}

// wrapValidate marks runs of Caddy's validate command as validation runs,
// and gives it --address for a StackHub whose admin endpoint the config
// does not name.
func wrapValidate(root *cobra.Command) {
	for _, c := range root.Commands() {
		if c.Name() != "validate" || c.RunE == nil {
			continue
		}
		run := c.RunE
		c.Flags().String("address", "", "the admin endpoint of a running StackHub that checks the declared apps (default: the config's)")
		c.RunE = func(cmd *cobra.Command, args []string) error {
			addr, _ := cmd.Flags().GetString("address")
			config, _ := cmd.Flags().GetString("config")
			adapter, _ := cmd.Flags().GetString("adapter")
			if a, err := caddycmd.DetermineAdminAPIAddress(addr, nil, config, adapter); err == nil {
				addr = a
			}
			if addr == "" {
				addr = caddy.DefaultAdminListen
			}
			validating.Store(&validationRun{admin: addr})
			return run(cmd, args)
		}
	}
}

// provisionForValidation is Provision in a validation run.
func (a *App) provisionForValidation(ctx caddy.Context, cfg platform.Config, v *validationRun) error {
	if err := a.checkPlaceholders(); err != nil {
		return err
	}
	err := a.checkWithRunning(v.admin, cfg.DataDir)
	if !errors.Is(err, adminapi.ErrNotChecked) {
		if err != nil {
			return err
		}
		// The running StackHub checked the declarations; the other
		// modules get a platform that holds nothing.
		p, err := platform.OpenForCheck(cfg, false, a.log)
		if err != nil {
			return err
		}
		a.platform, a.checkOnly = p, true
		return a.provisionDNS(ctx)
	}
	p, err := platform.OpenForCheck(cfg, true, a.log)
	if err != nil {
		return err
	}
	a.platform, a.checkOnly = p, true
	if err := a.provisionDeclared(); err != nil {
		return err
	}
	return a.provisionDNS(ctx)
}

// checkWithRunning asks the StackHub at the admin endpoint to check the
// declared apps (adminapi.Client.CheckDeclared), and logs who checked them.
func (a *App) checkWithRunning(admin, dataDir string) error {
	c := adminapi.Client{Do: func(method, uri string, body io.Reader) (*http.Response, error) {
		return adminRequest(admin, method, uri, body)
	}}
	err := c.CheckDeclared(adminapi.DeclaredCheck{Data: dataDir, Apps: a.Apps})
	switch {
	case err == nil:
		a.log.Info("the running StackHub checked the declared apps", zap.String("admin", admin), zap.Int("apps", len(a.Apps)))
	case errors.Is(err, adminapi.ErrNotChecked):
		a.log.Info("no StackHub checks the declared apps at the admin endpoint; checking them against the data folder",
			zap.String("admin", admin), zap.Error(err))
	}
	return err
}

// checkPlaceholders expands every declared value with Caddy's replacer, so
// that a placeholder that cannot be replaced fails here.
func (a *App) checkPlaceholders() error {
	repl := caddy.NewReplacer()
	return declare.CheckValues(a.Apps, func(v string) (string, error) { return repl.ReplaceOrErr(v, true, false) })
}

// Package caddymodules is StackHub's glue to Caddy: the `stackhub` app, the
// app router handler, the dynamic upstream source, the on-demand TLS
// permission, the admin API routes, Caddyfile options and CLI commands.
// The logic behind them lives in plain packages (appctl, stores, dns,
// internal/...), testable without Caddy.
package caddymodules

import (
	"fmt"
	"reflect"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"go.uber.org/zap"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/declare"
	"github.com/stackhub/stackhub/internal/platform"
)

func init() {
	caddy.RegisterModule(App{})
	httpcaddyfile.RegisterGlobalOption("stackhub", parseGlobalOption)
}

// App is the `stackhub` Caddy app: it holds the platform (state, Docker,
// registry, stores) that StackHub's handlers and admin routes use.
//
// The platform outlives config reloads: Caddy provisions a new config
// before it stops the old one, and the state database allows one opener,
// so both configs share one platform from a pool keyed by data folder.
//
// Caddyfile (global options):
//
//	{
//		stackhub {
//			domain      home.example.com     # apps at <app>.home.example.com
//			data        /var/lib/stackhub    # state and app folders
//			docker_host unix:///var/run/docker.sock
//			https_port  443                  # the port in app URLs
//			instance    default              # label of this StackHub's Docker objects
//			network     stackhub             # app networks: <network>-<app>
//			subnets     10.213.0.0/16        # range of the app networks' subnets
//			store casaos https://github.com/IceWhaleTech/CasaOS-AppStore/archive/refs/heads/main.zip casaos
//			store mine   /srv/my-apps              # a folder of native apps
//			store_refresh 6h                       # how often stores are fetched again
//		}
//	}
type App struct {
	platform.Config
	// DNS, when set, serves the platform's zone (see DNSConfig).
	DNS *DNSConfig `json:"dns,omitempty"`
	// Apps are the apps declared in the config (app_declared.go), and Prune
	// what becomes of apps no longer declared ("": stopped and kept).
	Apps  []declare.App `json:"apps,omitempty"`
	Prune string        `json:"prune,omitempty"`

	desired []appctl.Desired
	// checkOnly: the platform is a validation run's (validate.go), not the pool's.
	checkOnly bool
	ctx       caddy.Context
	platform  *platform.Platform
	key       string
	log       *zap.Logger
}

// platforms shares one Platform per data folder across config reloads.
var platforms = caddy.NewUsagePool()

// current is the platform of the running config, for the admin API (whose
// routes are provisioned apart from apps).
var current atomic.Pointer[platform.Platform]

type pooledPlatform struct{ *platform.Platform }

func (p pooledPlatform) Destruct() error {
	current.CompareAndSwap(p.Platform, nil)
	return p.Close()
}

// CaddyModule returns the Caddy module information.
func (App) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "stackhub", New: func() caddy.Module { return new(App) }}
}

// Provision opens the platform, or takes the one a previous config opened.
func (a *App) Provision(ctx caddy.Context) error {
	a.log = ctx.Logger()
	a.ctx = ctx
	cfg := a.Config
	if err := cfg.Normalize(); err != nil {
		return err
	}
	if v := validating.Load(); v != nil {
		return a.provisionForValidation(ctx, cfg, v)
	}
	a.key = cfg.DataDir
	val, loaded, err := platforms.LoadOrNew(a.key, func() (caddy.Destructor, error) {
		p, err := platform.Open(ctx, cfg, a.log)
		if err != nil {
			return nil, err
		}
		return pooledPlatform{p}, nil
	})
	if err != nil {
		return err
	}
	a.platform = val.(pooledPlatform).Platform
	if loaded && !reflect.DeepEqual(a.platform.Config, cfg) {
		a.log.Warn("stackhub settings changed; restart StackHub to apply them (the running platform keeps its settings)",
			zap.Any("running", a.platform.Config), zap.Any("configured", cfg))
	}
	if err := a.provisionDeclared(); err != nil {
		return err
	}
	return a.provisionDNS(ctx)
}

// Validate is a no-op: Provision checked the settings.
func (a *App) Validate() error { return nil }

// Start brings installed apps back and publishes the platform to the admin API.
func (a *App) Start() error {
	if err := a.startDNS(); err != nil {
		return err
	}
	a.platform.Start()
	current.Store(a.platform)
	a.startDeclared()
	a.log.Info("StackHub ready", zap.String("domain", a.platform.Config.Domain), zap.String("data", a.platform.Config.DataDir))
	return nil
}

// Stop closes this config's DNS sockets (a next config's stay open); apps
// keep running and the platform lives on for the next config; Cleanup
// releases it.
func (a *App) Stop() error { return a.stopDNS() }

// Cleanup releases this config's hold on the platform.
func (a *App) Cleanup() error {
	if a.checkOnly {
		return a.platform.CloseCheck()
	}
	if a.key == "" {
		return nil
	}
	_, err := platforms.Delete(a.key)
	return err
}

// Platform returns the app's platform (nil before Provision).
func (a *App) Platform() *platform.Platform { return a.platform }

// platformOf returns the stackhub app's platform for a module being provisioned.
func platformOf(ctx caddy.Context) (*platform.Platform, error) {
	v, err := ctx.App("stackhub")
	if err != nil {
		return nil, fmt.Errorf("stackhub app: %w", err)
	}
	return v.(*App).platform, nil
}

// UnmarshalCaddyfile reads the stackhub global option block.
func (a *App) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the option name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		key := d.Val()
		if key == "dns" {
			a.DNS = new(DNSConfig)
			if err := a.DNS.unmarshal(d); err != nil {
				return err
			}
			continue
		}
		if key == "app" {
			app, err := unmarshalDeclaredApp(d)
			if err != nil {
				return err
			}
			a.Apps = append(a.Apps, app)
			continue
		}
		if key == "prune" {
			mode, err := unmarshalPrune(d)
			if err != nil {
				return err
			}
			a.Prune = mode
			continue
		}
		if key == "store" {
			args := d.RemainingArgs()
			if len(args) < 2 || len(args) > 3 {
				return d.Errf("store takes a name, a location (URL or folder) and optionally a format: store NAME LOCATION [casaos|runtipi|umbrel|native]")
			}
			sc := platform.StoreConfig{Name: args[0], Location: args[1]}
			if len(args) == 3 {
				sc.Format = args[2]
			}
			a.Stores = append(a.Stores, sc)
			continue
		}
		if !d.NextArg() {
			return d.ArgErr()
		}
		val := d.Val()
		switch key {
		case "domain":
			a.Domain = val
		case "data":
			a.DataDir = val
		case "docker_host":
			a.DockerHost = val
		case "https_port":
			n, err := strconv.Atoi(val)
			if err != nil || n <= 0 || n > 65535 {
				return d.Errf("https_port %q is not a port number", val)
			}
			a.HTTPSPort = n
		case "instance":
			a.Instance = val
		case "network":
			a.Network = val
		case "subnets":
			if _, err := platform.ParseSubnets(val); err != nil {
				return d.Err(err.Error())
			}
			a.Subnets = val
		case "project_prefix":
			a.ProjectPrefix = val
		case "resolver":
			a.Resolver = val
		case "store_refresh":
			if _, err := time.ParseDuration(val); err != nil {
				return d.Errf("store_refresh %q: %v", val, err)
			}
			a.StoreRefresh = val
		case "password_hashes":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 || n > 64 {
				return d.Errf("password_hashes %q: a number from 1 to 64 (each hash takes 19 MiB)", val)
			}
			a.PasswordHashes = n
		case "hsts":
			a.HSTS = val
			if _, err := a.Config.HSTSHeader(); err != nil {
				return d.Err(err.Error())
			}
		default:
			return d.Errf("unknown stackhub option %q (known: domain, data, docker_host, https_port, instance, network, subnets, project_prefix, store, store_refresh, hsts, password_hashes, resolver, dns, app, prune)", key)
		}
		if d.NextArg() {
			return d.ArgErr()
		}
	}
	return nil
}

func parseGlobalOption(d *caddyfile.Dispenser, _ any) (any, error) {
	app := new(App)
	if err := app.UnmarshalCaddyfile(d); err != nil {
		return nil, err
	}
	return httpcaddyfile.App{Name: "stackhub", Value: caddyconfig.JSON(app, nil)}, nil
}

// Interface guards
var (
	_ caddy.App             = (*App)(nil)
	_ caddy.Provisioner     = (*App)(nil)
	_ caddy.Validator       = (*App)(nil)
	_ caddy.CleanerUpper    = (*App)(nil)
	_ caddyfile.Unmarshaler = (*App)(nil)
)

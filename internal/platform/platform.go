// Package platform assembles StackHub from its parts: the state database,
// the registry of published apps, the store catalog and the app manager.
//
// One Platform serves one data folder for the life of the process. Badger
// locks its folder, and Caddy provisions a new config before it stops the
// old one, so the Caddy glue shares a Platform across config reloads instead
// of opening a second one (DESIGN.md, "One Platform per process").
package platform

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"go.uber.org/zap"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/dns"
	"github.com/stackhub/stackhub/internal/auth"
	"github.com/stackhub/stackhub/internal/kv"
	"github.com/stackhub/stackhub/internal/registry"
	"github.com/stackhub/stackhub/stores"
)

// Config is the platform's configuration (the Caddyfile's stackhub block).
type Config struct {
	// Domain is the base domain; apps are served at <app>.<Domain>.
	Domain string `json:"domain,omitempty"`
	// DataDir holds the state database and every app's folder.
	DataDir string `json:"data,omitempty"`
	// DockerHost is the Docker Engine's address; empty: DOCKER_HOST or the
	// default socket.
	DockerHost string `json:"docker_host,omitempty"`
	// HTTPSPort is the port apps are served on, for the URLs shown to users.
	HTTPSPort int `json:"https_port,omitempty"`
	// Instance labels this StackHub's Docker objects; default: derived from
	// the data folder, so two StackHubs on one engine never mix.
	Instance string `json:"instance,omitempty"`
	// Network is the platform network's name; default "stackhub-<instance>",
	// or "stackhub" for the default instance.
	Network string `json:"network,omitempty"`
	// ProjectPrefix starts app project names; default "stackhub-".
	ProjectPrefix string `json:"project_prefix,omitempty"`
}

// DefaultDataDir is where StackHub keeps its data when not told otherwise.
func DefaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "stackhub")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "stackhub")
	}
	return "stackhub-data"
}

// Normalize fills in defaults and checks the configuration.
func (c *Config) Normalize() error {
	c.Domain = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(c.Domain), "."))
	if c.Domain == "" {
		return errors.New("stackhub: no base domain: set `domain` in the stackhub block (e.g. `domain home.example.com`, or `localhost` to try it out)")
	}
	if strings.ContainsAny(c.Domain, "/: *") {
		return fmt.Errorf("stackhub: base domain %q is not a domain name", c.Domain)
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir()
	}
	abs, err := filepath.Abs(c.DataDir)
	if err != nil {
		return fmt.Errorf("stackhub: data folder %s: %w", c.DataDir, err)
	}
	c.DataDir = abs
	if c.Instance == "" {
		if abs == DefaultDataDir() {
			c.Instance = "default"
		} else {
			sum := sha256.Sum256([]byte(abs))
			c.Instance = "i" + hex.EncodeToString(sum[:5])
		}
	}
	if c.Network == "" {
		c.Network = "stackhub"
		if c.Instance != "default" {
			c.Network = "stackhub-" + c.Instance
		}
	}
	if c.ProjectPrefix == "" {
		c.ProjectPrefix = "stackhub-"
		if c.Instance != "default" {
			c.ProjectPrefix = c.Instance + "-"
		}
	}
	return nil
}

// Platform is a running StackHub's state and services.
type Platform struct {
	Config   Config
	DB       *kv.DB
	Registry *registry.Registry
	Catalog  *stores.Catalog
	Apps     *appctl.Manager
	// Auth holds users, sessions and TOTP; the portal and the gate use it.
	Auth *auth.Service
	// ACME holds the DNS-01 challenge records: the dns.providers.stackhub
	// module writes them and the zone serves them. It lives here so that
	// a challenge in flight survives a config reload.
	ACME *dns.ACMEStore
	Log  *zap.Logger

	startOnce sync.Once
	stop      context.CancelFunc
}

// Open opens the state, connects to Docker and loads the built-in store.
func Open(ctx context.Context, cfg Config, log *zap.Logger) (*Platform, error) {
	if err := cfg.Normalize(); err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("stackhub: create data folder: %w", err)
	}
	db, err := kv.Open(filepath.Join(cfg.DataDir, "state"))
	if err != nil {
		return nil, fmt.Errorf("stackhub: %w", err)
	}
	p := &Platform{Config: cfg, DB: db, Registry: registry.New(), ACME: dns.NewACMEStore(), Log: log}
	p.Auth, err = auth.New(db, auth.Options{Issuer: "StackHub (" + cfg.Domain + ")"})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("stackhub: accounts: %w", err)
	}
	p.Catalog = stores.NewCatalog(stores.Builtin())
	if err := p.Catalog.Refresh(ctx); err != nil {
		log.Warn("load stores", zap.Error(err))
	}
	p.Apps, err = appctl.New(ctx, appctl.Config{
		DataDir: cfg.DataDir, Domain: cfg.Domain, HTTPSPort: cfg.HTTPSPort,
		Instance: cfg.Instance, ProjectPrefix: cfg.ProjectPrefix, Network: cfg.Network,
		DockerHost: cfg.DockerHost, Logger: log.Named("apps"),
	}, db, p.Registry)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("stackhub: %w", err)
	}
	return p, nil
}

// Start brings installed apps back (in the background) and follows Docker's
// events. Calling it again (a config reload) does nothing.
func (p *Platform) Start() {
	p.startOnce.Do(func() {
		p.Log.Info("reconciling apps with Docker", zap.String("data", p.Config.DataDir), zap.String("domain", p.Config.Domain))
		p.Apps.Run()
		ctx, cancel := context.WithCancel(context.Background())
		p.stop = cancel
		go p.Auth.Run(ctx, func(format string, args ...any) { p.Log.Sugar().Infof(format, args...) })
	})
}

// Close stops background work and closes the state database.
func (p *Platform) Close() error {
	if p.stop != nil {
		p.stop()
	}
	p.Apps.Close()
	return p.DB.Close()
}

// Resolve finds an app by reference in the catalog.
func (p *Platform) Resolve(ref string) (stores.App, error) {
	return p.Catalog.Find(ref)
}

// Hosts are the names the platform itself serves besides apps: the apex
// and the portal.
func (p *Platform) Hosts() []string {
	return []string{p.Config.Domain, "my." + p.Config.Domain}
}

// Allowed reports whether host is one of the platform's: an app's or its own.
// It is the one question behind routing, DNS answers and on-demand TLS.
func (p *Platform) Allowed(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if _, ok := p.Registry.Lookup(host); ok {
		return true
	}
	for _, h := range p.Hosts() {
		if host == h {
			return true
		}
	}
	return false
}

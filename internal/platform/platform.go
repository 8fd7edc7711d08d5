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
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/declare"
	"github.com/stackhub/stackhub/dns"
	"github.com/stackhub/stackhub/internal/auth"
	"github.com/stackhub/stackhub/internal/kv"
	"github.com/stackhub/stackhub/internal/oidcprovider"
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
	// Network starts the name of each app's network to the proxy
	// (<Network>-<app>); default "stackhub-<instance>", or "stackhub" for the
	// default instance.
	Network string `json:"network,omitempty"`
	// Subnets is the IPv4 range StackHub cuts its app networks' subnets
	// from (a /28 per app's proxy network, a /26 per network of its own);
	// default appctl.DefaultSubnets, 10.213.0.0/16.
	Subnets string `json:"subnets,omitempty"`
	// ProjectPrefix starts app project names; default "stackhub-".
	ProjectPrefix string `json:"project_prefix,omitempty"`
	// Stores are the app stores besides the built-in one.
	Stores []StoreConfig `json:"stores,omitempty"`
	// StoreRefresh is how often stores are refreshed ("6h" by default).
	StoreRefresh string `json:"store_refresh,omitempty"`
	// HSTS: "" (auto), "off", "on" or a max-age duration; see HSTSHeader.
	HSTS string `json:"hsts,omitempty"`
	// PasswordHashes bounds the password hashes computed at once (each
	// takes 19 MiB); default auth.DefaultMaxHashes (2).
	PasswordHashes int `json:"password_hashes,omitempty"`
	// Resolver is the DNS server ("host:port") asked when a custom domain
	// is checked; empty: the system's resolver.
	Resolver string `json:"resolver,omitempty"`
}

// StoreConfig is one app store, from the Caddyfile or added at run time.
type StoreConfig struct {
	Name string `json:"name"`
	// Location is the http(s) URL of a zip or tar.gz archive, or a folder.
	Location string `json:"location"`
	// Format is casaos, runtipi, umbrel or native; empty: detected.
	Format string `json:"format,omitempty"`
}

// storeKey is where a store added at run time is kept in kv.
func storeKey(name string) string { return "stores/" + name }

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
	// OIDC is the OpenID Connect provider at the portal (internal/oidcprovider).
	OIDC *oidcprovider.Provider
	// Passkeys are the portal's WebAuthn ceremonies.
	Passkeys *auth.Passkeys
	// ACME holds the DNS-01 challenge records: the dns.providers.stackhub
	// module writes them and the zone serves them. It lives here so that
	// a challenge in flight survives a config reload.
	ACME *dns.ACMEStore
	// Declared converges the box to the apps declared in the config.
	Declared *declare.Converger
	Log      *zap.Logger

	startOnce sync.Once
	stop      context.CancelFunc

	storesCancel context.CancelFunc // the background store load (storeindex.go)
	storesDone   chan struct{}
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
	p.Auth, err = auth.New(db, auth.Options{Issuer: "StackHub (" + cfg.Domain + ")", MaxHashes: cfg.PasswordHashes})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("stackhub: accounts: %w", err)
	}
	if err := p.openOIDC(); err != nil {
		db.Close()
		return nil, fmt.Errorf("stackhub: OpenID Connect provider: %w", err)
	}
	if err := p.openPasskeys(); err != nil {
		db.Close()
		return nil, fmt.Errorf("stackhub: passkeys: %w", err)
	}
	p.Catalog = stores.NewCatalog(stores.Builtin())
	for _, sc := range cfg.Stores {
		if err := p.addSource(sc); err != nil {
			db.Close()
			return nil, fmt.Errorf("stackhub: %w", err)
		}
	}
	for _, sc := range p.runtimeStores() {
		if err := p.addSource(sc); err != nil {
			log.Warn("store added at run time cannot be used", zap.String("store", sc.Name), zap.Error(err))
		}
	}
	// A store that cannot be fetched keeps its last good copy; the error
	// shows in `stackhub store list`, and start-up goes on.
	p.loadStores()
	subnets, err := ParseSubnets(cfg.Subnets)
	if err != nil {
		p.stopLoadingStores()
		db.Close()
		return nil, fmt.Errorf("stackhub: %w", err)
	}
	p.Apps, err = appctl.New(ctx, appctl.Config{
		DataDir: cfg.DataDir, Domain: cfg.Domain, HTTPSPort: cfg.HTTPSPort,
		Instance: cfg.Instance, ProjectPrefix: cfg.ProjectPrefix, Network: cfg.Network, Subnets: subnets,
		DockerHost: cfg.DockerHost, Logger: log.Named("apps"),
		Swarm: true, // apps run as stacks on a swarm manager (docs/SWARM.md)
	}, db, p.Registry)
	if err != nil {
		p.stopLoadingStores()
		db.Close()
		return nil, fmt.Errorf("stackhub: %w", err)
	}
	// `apps list` compares each app with its store's current version.
	p.Apps.SetUpdateSource(func(store, id string) (stores.App, bool) {
		a, err := p.Catalog.Find(store + "/" + id)
		return a, err == nil
	})
	p.Declared = declare.NewConverger(p.Apps, log.Named("declared"))
	p.Apps.SetOIDC(oidcClients{p.OIDC})
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
		go p.refreshStores(ctx)
		go p.runSchedules(ctx) // backups and automatic updates: box.go
	})
}

// refreshStores refreshes the stores every StoreRefresh until ctx ends.
func (p *Platform) refreshStores(ctx context.Context) {
	every, err := time.ParseDuration(p.Config.StoreRefresh)
	if err != nil || every <= 0 {
		every = 6 * time.Hour
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := p.Catalog.Refresh(ctx); err != nil {
				p.Log.Warn("refresh stores", zap.Error(err))
			}
			p.logUpdates(ctx) // box.go
		}
	}
}

func (p *Platform) addSource(sc StoreConfig) error {
	format, err := stores.ParseFormat(sc.Format)
	if err != nil {
		return fmt.Errorf("store %s: %w", sc.Name, err)
	}
	if sc.Name == "builtin" || sc.Name == "local" {
		return fmt.Errorf("store name %q is taken by StackHub itself: choose another", sc.Name)
	}
	src, err := stores.NewSource(sc.Name, sc.Location, format, filepath.Join(p.Config.DataDir, "stores"))
	if err != nil {
		return err
	}
	p.Catalog.Add(src)
	return nil
}

func (p *Platform) runtimeStores() []StoreConfig {
	keys, _ := p.DB.Keys("stores/")
	var out []StoreConfig
	for _, k := range keys {
		var sc StoreConfig
		if err := p.DB.Get(k, &sc); err == nil {
			out = append(out, sc)
		}
	}
	return out
}

// AddStore adds a store at run time, keeps it across restarts and loads it.
func (p *Platform) AddStore(ctx context.Context, sc StoreConfig) (stores.StoreStatus, error) {
	for _, st := range p.Catalog.Status() {
		if st.Name == sc.Name {
			return stores.StoreStatus{}, fmt.Errorf("there is a store named %s already: remove it first, or choose another name", sc.Name)
		}
	}
	if err := p.addSource(sc); err != nil {
		return stores.StoreStatus{}, err
	}
	if err := p.DB.Put(storeKey(sc.Name), sc); err != nil {
		p.Catalog.Remove(sc.Name)
		return stores.StoreStatus{}, fmt.Errorf("keep store %s: %w", sc.Name, err)
	}
	p.Catalog.RefreshStore(ctx, sc.Name)
	for _, st := range p.Catalog.Status() {
		if st.Name == sc.Name {
			return st, nil
		}
	}
	return stores.StoreStatus{}, fmt.Errorf("store %s vanished while loading", sc.Name)
}

// RemoveStore removes a store added at run time. Installed apps stay.
func (p *Platform) RemoveStore(name string) error {
	var sc StoreConfig
	if err := p.DB.Get(storeKey(name), &sc); err != nil {
		for _, c := range p.Config.Stores {
			if c.Name == name {
				return fmt.Errorf("store %s is set in the Caddyfile: remove it there", name)
			}
		}
		return fmt.Errorf("no store %s was added at run time: `stackhub store list` shows the stores", name)
	}
	if err := p.DB.Delete(storeKey(name)); err != nil {
		return err
	}
	p.Catalog.Remove(name)
	p.DB.Delete(storeIndexKey(name))
	return nil
}

// Close stops background work and closes the state database.
func (p *Platform) Close() error {
	if p.stop != nil {
		p.stop()
	}
	p.stopLoadingStores()
	p.Declared.Close()
	p.Declared.Wait()
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

// ParseSubnets reads the `subnets` option: an IPv4 range of at least a /24
// ("" is the default, appctl.DefaultSubnets).
func ParseSubnets(s string) (netip.Prefix, error) {
	if s == "" {
		return appctl.DefaultSubnets, nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() || p.Bits() > 24 || p.Bits() < 8 {
		return netip.Prefix{}, fmt.Errorf("subnets %q: give an IPv4 range from /8 to /24, e.g. 10.213.0.0/16, that no network of your LAN, VPN or Docker uses", s)
	}
	return p.Masked(), nil
}

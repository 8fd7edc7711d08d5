package appctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/compose/v5/pkg/api"
	"github.com/moby/moby/client"
	"go.uber.org/zap"

	"github.com/stackhub/stackhub/internal/i18n"
	"github.com/stackhub/stackhub/internal/kv"
	"github.com/stackhub/stackhub/internal/registry"
	"github.com/stackhub/stackhub/stores"
	"github.com/stackhub/stackhub/swarm"
)

// Config is what a Manager needs to know about the platform.
type Config struct {
	// DataDir holds apps/<id>/ for every app.
	DataDir string
	// Domain is the base domain: apps are served at <app>.<Domain>.
	Domain string
	// HTTPSPort is the port apps are served on, for the URLs shown to users
	// (0 or 443: the default port, left out of URLs).
	HTTPSPort int
	// Instance tells this StackHub's Docker objects from another's on the
	// same engine (it is the value of the dev.stackhub.instance label).
	Instance string
	// ProjectPrefix starts every app's compose project name ("stackhub-").
	ProjectPrefix string
	// Network names the networks the proxy reaches main services on: each
	// app has its own, <Network>-<app> (network.go).
	Network string
	// Subnets is the range the subnets of app networks are cut from
	// (subnets.go); default DefaultSubnets.
	Subnets netip.Prefix
	// DockerHost is the engine's address; empty means DOCKER_HOST or the
	// default socket.
	DockerHost string
	// WaitTimeout bounds the wait for an app's services to become healthy.
	WaitTimeout time.Duration
	// TZ, PUID and PGID are passed to apps (install variables).
	TZ, PUID, PGID string
	Logger         *zap.Logger
	// Swarm runs new apps as Swarm stacks when the engine is a swarm
	// manager at start (swarm.go); without it, apps are Compose projects
	// whatever the engine is. The platform sets it.
	Swarm bool
	// RelayBinary is a static relay program for apps on a swarm; empty
	// means StackHub's own executable (swarm.go).
	RelayBinary string
}

func (c *Config) setDefaults() {
	if c.Instance == "" {
		c.Instance = "default"
	}
	if c.ProjectPrefix == "" {
		c.ProjectPrefix = "stackhub-"
	}
	if c.Network == "" {
		c.Network = "stackhub"
	}
	if !c.Subnets.IsValid() {
		c.Subnets = DefaultSubnets
	}
	if c.WaitTimeout == 0 {
		c.WaitTimeout = 3 * time.Minute
	}
	if c.TZ == "" {
		c.TZ = hostTimeZone()
	}
	// PUID and PGID are the owner of the apps' data: StackHub's own user
	// when it does not run as root (it creates the data folders), else the
	// first regular user's ids.
	if c.PUID == "" {
		c.PUID = "1000"
		if uid := os.Getuid(); uid > 0 {
			c.PUID = strconv.Itoa(uid)
		}
	}
	if c.PGID == "" {
		c.PGID = "1000"
		if gid := os.Getgid(); gid > 0 && os.Getuid() > 0 {
			c.PGID = strconv.Itoa(gid)
		}
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
}

func hostTimeZone() string {
	if tz := os.Getenv("TZ"); tz != "" {
		return tz
	}
	if b, err := os.ReadFile("/etc/timezone"); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b))
	}
	if target, err := os.Readlink("/etc/localtime"); err == nil {
		if i := strings.Index(target, "zoneinfo/"); i >= 0 {
			return target[i+len("zoneinfo/"):]
		}
	}
	return "UTC"
}

// Manager installs and runs apps. It is safe for concurrent use; operations
// on one app are serialised.
type Manager struct {
	cfg    Config
	db     *kv.DB
	engine Engine
	reg    *registry.Registry
	log    *zap.Logger

	locksMu sync.Mutex
	locks   map[string]*sync.Mutex

	orphansMu sync.Mutex
	orphans   []string

	stop context.CancelFunc
	done sync.WaitGroup

	ext  extensions  // backups and updates (updates.go)
	oidc OIDCClients // single sign-on clients (oidc.go); may be nil
	sw   swarmState  // apps on a Docker Swarm (swarm.go)
}

// New connects to the Docker Engine. Call Reconcile (or Run) to bring apps
// back after a restart.
func New(ctx context.Context, cfg Config, db *kv.DB, reg *registry.Registry) (*Manager, error) {
	cfg.setDefaults()
	engine, err := Connect(ctx, cfg.DockerHost)
	if err != nil {
		return nil, err
	}
	m := &Manager{cfg: cfg, db: db, engine: engine, reg: reg, log: cfg.Logger, locks: map[string]*sync.Mutex{}}
	m.guardBridges()   // firewall.go
	m.detectSwarm(ctx) // swarm.go
	return m, nil
}

// Engine returns the Compose engine the manager drives.
func (m *Manager) Engine() Engine { return m.engine }

// Config returns the manager's configuration, defaults filled in.
func (m *Manager) Config() Config { return m.cfg }

func (m *Manager) lock(id string) func() {
	m.locksMu.Lock()
	l, ok := m.locks[id]
	if !ok {
		l = &sync.Mutex{}
		m.locks[id] = l
	}
	m.locksMu.Unlock()
	l.Lock()
	return l.Unlock
}

func (m *Manager) tryLock(id string) (func(), bool) {
	m.locksMu.Lock()
	l, ok := m.locks[id]
	if !ok {
		l = &sync.Mutex{}
		m.locks[id] = l
	}
	m.locksMu.Unlock()
	if !l.TryLock() {
		return nil, false
	}
	return l.Unlock, true
}

func (m *Manager) appDir(id string) string { return filepath.Join(m.cfg.DataDir, "apps", id) }

// URL is the address users open an app at.
func (m *Manager) URL(host string) string {
	u := url.URL{Scheme: "https", Host: host, Path: "/"}
	if m.cfg.HTTPSPort != 0 && m.cfg.HTTPSPort != 443 {
		u.Host = net.JoinHostPort(host, strconv.Itoa(m.cfg.HTTPSPort))
	}
	return u.String()
}

// Errors a user can act on. The admin API maps them to status codes.
var (
	ErrNotInstalled     = errors.New("not installed")
	ErrAlreadyInstalled = errors.New("already installed")
	ErrTaken            = errors.New("subdomain taken")
	ErrHazards          = errors.New("needs approval")
	ErrInvalid          = errors.New("invalid app")
)

// reservedLabels are subdomains the platform uses itself.
var reservedLabels = map[string]bool{"my": true, "ns1": true, "ns2": true, "www": false}

// InstallOptions are a user's choices at install.
type InstallOptions struct {
	// Values answer the app's form (--set KEY=VALUE).
	Values map[string]string
	// Subdomain overrides the app id as the first label of its host.
	Subdomain string
	// ApproveHazards is the admin's explicit approval of settings that
	// reach beyond the app (privileged, host network, docker.sock …).
	ApproveHazards bool
	// ApproveHazardNames approves only the hazards of these names
	// (stores.Hazard.Name: "privileged", "host-path" …).
	ApproveHazardNames []string
	// PublishPorts keeps the app's non-web port publications open to the
	// LAN; by default they are bound to 127.0.0.1.
	PublishPorts bool
	// Policy is the app's access policy; nil means private.
	Policy *registry.Policy
	// Placement pins the app to a node or by constraints, on a swarm.
	Placement swarm.Placement
}

func (m *Manager) stamp(id string, progress func(Event)) func(Event) {
	return func(e Event) {
		if e.Time.IsZero() {
			e.Time = time.Now()
		}
		if e.App == "" {
			e.App = id
			m.eventOnDone(id, e) // events.go; once, where the event arose
		}
		if progress != nil {
			progress(e)
		}
	}
}

// Install installs app and waits until it is healthy and published.
func (m *Manager) Install(ctx context.Context, app stores.App, opts InstallOptions, progress func(Event)) (Record, error) {
	progress = m.stamp(app.ID, progress)
	if app.Unavailable != "" {
		return Record{}, fmt.Errorf("install %s: %w: %s", app.ID, ErrInvalid, app.Unavailable)
	}
	if !stores.ValidID(app.ID) {
		return Record{}, fmt.Errorf("install %s: %w", app.ID, errorf(ErrInvalid, "invalid app: the app id must be a DNS label (lower case letters, digits, '-')"))
	}
	sub := app.ID
	if opts.Subdomain != "" {
		sub = strings.ToLower(opts.Subdomain)
	}
	if !stores.ValidID(sub) || reservedLabels[sub] {
		return Record{}, fmt.Errorf("install %s: %w", app.ID, errorf(ErrTaken, "subdomain taken: subdomain \"{{.Sub}}\" is reserved or not a DNS label; choose another with --subdomain", "Sub", sub))
	}
	host := sub + "." + m.cfg.Domain
	unlock := m.lock(app.ID)
	defer unlock()

	var old Record
	err := m.db.Get(recordKey(app.ID), &old)
	switch {
	case err == nil && old.State != StateFailed:
		return Record{}, fmt.Errorf("install %s: %w", app.ID, errorf(ErrAlreadyInstalled, "already installed: app {{.App}} is already installed ({{.State}}) at {{.URL}}; `stackhub apps info {{.App}}` shows it, `stackhub apps remove {{.App}}` removes it", "App", app.ID, "State", word(old.State), "URL", old.URL))
	case err != nil && !errors.Is(err, kv.ErrNotFound):
		return Record{}, fmt.Errorf("install %s: %w", app.ID, err)
	}
	if app.NoWebUI {
		host = "" // no web UI: no route, no DNS name, no URL (exposure.go)
	} else if other, ok := m.hostOwner(host); ok && other != app.ID {
		return Record{}, fmt.Errorf("install %s: %w", app.ID, errorf(ErrTaken, "subdomain taken: {{.Host}} is already the address of app {{.Other}}; choose another with --subdomain", "Host", host, "Other", other))
	}
	values, secrets, err := resolveValues(app, opts.Values)
	if err != nil {
		return Record{}, fmt.Errorf("install %s: %w: %w", app.ID, ErrInvalid, err)
	}
	if given, err := m.addRequiredValues(app, values); err != nil {
		return Record{}, fmt.Errorf("install %s: %w", app.ID, err)
	} else {
		secrets = append(secrets, given...)
	}
	if secrets, err = m.oidcInstall(app, host, values, secrets); err != nil {
		return Record{}, fmt.Errorf("install %s: %w", app.ID, err)
	}
	policy := registry.Policy{Access: registry.Private}
	if opts.Policy != nil {
		policy = *opts.Policy
	}
	now := time.Now().UTC()
	rec := Record{
		ID: app.ID, Store: app.Store, Name: app.Name, Version: app.Version,
		Host: host, URL: m.urlOf(host), Project: m.cfg.ProjectPrefix + app.ID, Exposure: Exposure{NoWebUI: app.NoWebUI}, Links: Links{Requires: app.Requires, Exports: app.Exports},
		MainSvc: app.MainService, MainPort: app.MainPort, MainScheme: app.MainScheme,
		Compose: app.Compose, Files: app.Files, Seed: stores.FreshSecrets(app.Seed), Values: values, Secrets: secrets,
		Policy: policy, ApprovedHazards: opts.ApproveHazards, ApprovedHazardNames: opts.ApproveHazardNames, PublishPorts: opts.PublishPorts, Placement: opts.Placement, Stack: m.OnSwarm(),
		State: StateInstalling, Running: true, InstalledAt: now, UpdatedAt: now,
	}

	progress(Event{Phase: PhaseValidate, Status: "checking the compose file"})
	_, existed := os.Stat(m.appDir(app.ID))
	// validate records the checked project in rec; prepareStart checks it
	// against the host's files (project.go).
	p, err := m.validate(ctx, &rec)
	if err == nil {
		rec.Exposure = exposure(p, &rec) // exposure.go
		err = m.prepareStart(ctx, &rec, p)
	}
	if err != nil {
		// Bad input changes nothing: undo the folder we wrote.
		m.removeAppFiles(app.ID, !os.IsNotExist(existed))
		m.oidcRemove(app.ID)
		return Record{}, fmt.Errorf("install %s: %w", app.ID, err)
	}

	// Desired state first: from here on, a crash is recovered by Reconcile.
	if err := m.db.Put(recordKey(app.ID), rec); err != nil {
		return Record{}, fmt.Errorf("install %s: record desired state: %w", app.ID, err)
	}
	failpoint("install-after-record")

	if err := m.converge(ctx, &rec, p, progress); err != nil {
		// The evidence goes with the containers: read it first.
		evidence := m.gatherEvidence(context.WithoutCancel(ctx), &rec)
		// A first install leaves nothing behind; a reinstall over data kept
		// with --keep-data keeps that data.
		m.rollback(context.WithoutCancel(ctx), &rec, os.IsNotExist(existed), progress)
		m.db.Delete(recordKey(app.ID))
		m.oidcRemove(app.ID)
		return Record{}, m.installFailed(&rec, err, evidence)
	}
	m.forgetInstallFailure(app.ID)
	rec.State = StateInstalled
	rec.UpdatedAt = time.Now().UTC()
	if err := m.db.Put(recordKey(app.ID), rec); err != nil {
		return Record{}, fmt.Errorf("install %s: record installed state: %w", app.ID, err)
	}
	progress(say(Event{Phase: PhaseDone, Status: "installed", URL: rec.URL}, "{{.Name}} is ready at {{.URL}}", "Name", rec.Name, "URL", rec.Describe(rec.URL)))
	return rec, nil
}

// hostOwner returns the app that has host, among the recorded apps.
func (m *Manager) hostOwner(host string) (string, bool) {
	recs, _ := m.records()
	for _, r := range recs {
		if r.Host == host && r.State != StateFailed {
			return r.ID, true
		}
	}
	return "", false
}

// HazardError lists the settings of an app that need an admin's approval.
type HazardError struct {
	App     string
	Hazards []stores.Hazard
}

func (e *HazardError) Error() string { return e.Message().English() }

// Message is the error as a catalog message, for the portal.
func (e *HazardError) Message() i18n.Msg {
	var b strings.Builder
	var names []string
	for _, h := range e.Hazards {
		b.WriteString("\n  - " + h.String())
		if !slices.Contains(names, h.Name) {
			names = append(names, h.Name)
		}
	}
	return i18n.M("app {{.App}} asks for settings that reach beyond the app (into the host, another app or StackHub):{{.Hazards}}\ninstall it with --approve {{.Names}} (or --approve-hazards for all) only if you trust it",
		"App", e.App, "Hazards", b.String(), "Names", strings.Join(names, ","))
}

func (e *HazardError) Unwrap() error { return ErrHazards }

// checkHazards refuses a project with hazards the admin did not approve.
func (m *Manager) checkHazards(p *types.Project, rec *Record) error {
	if rec.ApprovedHazards {
		return nil
	}
	found, err := m.allowRequiredBinds(rec, stores.ProjectHazards(p, m.appDir(rec.ID))) // deps.go
	if err != nil {
		return err
	}
	var hz []stores.Hazard
	for _, h := range found {
		if !slices.Contains(rec.ApprovedHazardNames, h.Name) {
			hz = append(hz, h)
		}
	}
	if len(hz) > 0 {
		return &HazardError{App: rec.ID, Hazards: hz}
	}
	return nil
}

// installEnv is the variables an app's compose file is interpolated with.
func (m *Manager) installEnv(rec *Record) map[string]string {
	env := map[string]string{}
	for k, v := range rec.Values {
		env[k] = v
	}
	env["APP_ID"] = rec.ID
	env["APP_DATA_DIR"] = filepath.Join(m.appDir(rec.ID), "data")
	env["APP_DOMAIN"] = rec.Host
	env["APP_URL"] = strings.TrimSuffix(rec.URL, "/")
	env["BASE_DOMAIN"] = m.cfg.Domain
	env["TZ"] = m.cfg.TZ
	env["PUID"] = m.cfg.PUID
	env["PGID"] = m.cfg.PGID
	return env
}

// converge brings the app's containers to the record's desired state and
// publishes it: images, create/start, health, route.
func (m *Manager) converge(ctx context.Context, rec *Record, p *types.Project, progress func(Event)) error {
	if rec.Stack {
		return m.swarmConverge(ctx, rec, p, progress) // swarm.go
	}
	if err := ensureImages(ctx, m.engine.Docker(), p, progress); err != nil {
		return err
	}
	if err := m.engine.Up(ctx, p, m.cfg.WaitTimeout, progress); err != nil {
		return explainUpError(err)
	}
	failpoint("install-after-up")
	if rec.NoWebUI {
		progress(Event{Phase: PhasePublish, Status: "not routed", Resource: rec.MainSvc, Message: rec.Describe("")})
		return nil
	}
	progress(Event{Phase: PhaseWait, Status: "waiting for the web UI to answer", Resource: rec.MainSvc})
	upstream, err := m.waitUpstream(ctx, rec)
	if err != nil {
		return err
	}
	m.publish(rec, upstream)
	progress(say(Event{Phase: PhasePublish, Status: "published", Resource: rec.Host}, "routed to {{.Upstream}}", "Upstream", upstream))
	return nil
}

func explainUpError(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "port is already allocated"), strings.Contains(msg, "address already in use"):
		return i18n.Errorf(err, "a port this app publishes is already in use on the host: stop what uses it, or change the app's ports: {{.Err}}", "Err", err)
	case strings.Contains(msg, "unhealthy"):
		return i18n.Errorf(err, "a service of the app did not become healthy: {{.Err}}", "Err", err)
	}
	return fmt.Errorf("start containers: %w", err)
}

func (m *Manager) publish(rec *Record, upstream string) {
	if rec.NoWebUI {
		return // no web UI, no route
	}
	m.reg.Put(registry.Entry{App: rec.ID, Host: rec.Host, Upstream: upstream, Policy: rec.Policy})
	m.publishDomains(rec, upstream)
}

// waitUpstream waits until the main service accepts connections on the
// app's proxy network and returns its address.
func (m *Manager) waitUpstream(ctx context.Context, rec *Record) (string, error) {
	deadline := time.Now().Add(m.cfg.WaitTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		addr, err := m.upstream(ctx, rec)
		if err == nil {
			conn, derr := net.DialTimeout("tcp", addr, time.Second)
			if derr == nil {
				conn.Close()
				return addr, nil
			}
			err = derr
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	return "", fmt.Errorf("the web UI of service %s did not accept connections on port %d within %s (%v): `stackhub apps logs %s` shows its logs", rec.MainSvc, rec.MainPort, m.cfg.WaitTimeout, lastErr, rec.ID)
}

// upstream is the main service's address on the app's proxy network.
func (m *Manager) upstream(ctx context.Context, rec *Record) (string, error) {
	if rec.HostNetwork {
		return hostNetworkUpstream(rec), nil
	}
	if rec.Stack {
		return swarm.RelayAddr(ctx, m.engine.Docker(), rec.ID, m.cfg.Network) // swarm.go
	}
	list, err := m.engine.Docker().ContainerList(ctx, client.ContainerListOptions{
		Filters: client.Filters{}.Add("label", api.ProjectLabel+"="+rec.Project, api.ServiceLabel+"="+rec.MainSvc),
	})
	if err != nil {
		return "", fmt.Errorf("list containers of %s: %w", rec.ID, err)
	}
	for _, c := range list.Items {
		if c.NetworkSettings == nil {
			continue
		}
		if ep, ok := c.NetworkSettings.Networks[m.proxyNetwork(rec.ID)]; ok && ep != nil && ep.IPAddress.IsValid() {
			return net.JoinHostPort(ep.IPAddress.String(), strconv.Itoa(rec.MainPort)), nil
		}
	}
	return "", fmt.Errorf("service %s of %s is not running on network %s", rec.MainSvc, rec.ID, m.proxyNetwork(rec.ID))
}

// rollback undoes an install that failed: containers and networks go. The
// app's data (volumes, data folder) goes only when fresh, i.e. the install
// created it: otherwise it may hold user data from an earlier install kept
// with --keep-data.
func (m *Manager) rollback(ctx context.Context, rec *Record, fresh bool, progress func(Event)) {
	m.reg.DeleteApp(rec.ID)
	p, err := m.recordedProject(ctx, rec)
	if err != nil {
		p = nil
	}
	if rec.Stack {
		err = m.swarmDown(ctx, rec, fresh) // swarm.go
	} else {
		err = m.engine.Down(ctx, rec.Project, p, fresh, progress)
	}
	if err != nil {
		m.log.Warn("roll back install", zap.String("app", rec.ID), zap.Error(err))
	}
	if err := m.removeAppFiles(rec.ID, !fresh); err != nil {
		m.log.Warn("roll back install", zap.String("app", rec.ID), zap.Error(err))
	}
}

// get reads an app's record.
func (m *Manager) get(id string) (Record, error) {
	var rec Record
	err := m.db.Get(recordKey(id), &rec)
	if errors.Is(err, kv.ErrNotFound) {
		return rec, errorf(ErrNotInstalled, "not installed: no app \"{{.App}}\" is installed; `stackhub apps list` shows the installed apps", "App", id)
	}
	return rec, err
}

func (m *Manager) records() ([]Record, error) {
	keys, err := m.db.Keys("apps/")
	if err != nil {
		return nil, err
	}
	out := make([]Record, 0, len(keys))
	for _, k := range keys {
		var r Record
		if err := m.db.Get(k, &r); err == nil {
			out = append(out, r)
		}
	}
	return out, nil
}

// Remove removes an app: its route first, then its containers and networks,
// and, unless keepData, its volumes and data folder.
func (m *Manager) Remove(ctx context.Context, id string, keepData bool, progress func(Event)) error {
	progress = m.stamp(id, progress)
	unlock := m.lock(id)
	defer unlock()
	rec, err := m.get(id)
	if err != nil {
		return fmt.Errorf("remove %s: %w", id, err)
	}
	if err := m.checkNotRequired(id); err != nil { // deps.go
		return fmt.Errorf("remove %s: %w", id, err)
	}
	rec.State, rec.KeepData, rec.UpdatedAt = StateRemoving, keepData, time.Now().UTC()
	if err := m.db.Put(recordKey(id), rec); err != nil {
		return fmt.Errorf("remove %s: record desired state: %w", id, err)
	}
	if err := m.finishRemove(ctx, &rec, progress); err != nil {
		return fmt.Errorf("remove %s: %w", id, err)
	}
	done := say(Event{Phase: PhaseDone, Status: "removed"}, "removed with its data")
	if keepData {
		done = say(done, "removed; its data was kept in {{.Dir}} and its volumes", "Dir", filepath.Join(m.appDir(id), "data"))
	}
	progress(done)
	return nil
}

func (m *Manager) finishRemove(ctx context.Context, rec *Record, progress func(Event)) error {
	m.reg.DeleteApp(rec.ID)
	p, err := m.recordedProject(ctx, rec)
	if err != nil {
		p = nil // Compose still finds the containers by their labels
	}
	if rec.Stack {
		err = m.swarmDown(ctx, rec, !rec.KeepData) // swarm.go
	} else {
		err = m.engine.Down(ctx, rec.Project, p, !rec.KeepData, progress)
	}
	if err != nil {
		return fmt.Errorf("remove containers: %w", err)
	}
	failpoint("remove-after-down")
	if err := m.removeAppFiles(rec.ID, rec.KeepData); err != nil {
		return err
	}
	m.oidcRemove(rec.ID)
	m.forgetEvents(rec.ID)
	m.releaseSubnets(rec.ID) // subnets.go
	return m.db.Delete(recordKey(rec.ID))
}

// Start starts a stopped app (recreating containers that are missing) and
// publishes it again.
func (m *Manager) Start(ctx context.Context, id string, progress func(Event)) error {
	return m.operate(ctx, "start", id, true, progress, func(rec *Record, p *types.Project, progress func(Event)) error {
		return m.converge(ctx, rec, p, progress)
	})
}

// Stop stops an app's containers. Its address stays reserved and resolves;
// requests get a page saying the app is stopped.
func (m *Manager) Stop(ctx context.Context, id string, progress func(Event)) error {
	return m.operate(ctx, "stop", id, false, progress, func(rec *Record, p *types.Project, progress func(Event)) error {
		m.publish(rec, "")
		if rec.Stack {
			return m.swarmStop(ctx, rec) // swarm.go
		}
		return m.engine.Stop(ctx, rec.Project, p, progress)
	})
}

// Restart restarts an app's containers and routes to their new address.
func (m *Manager) Restart(ctx context.Context, id string, progress func(Event)) error {
	return m.operate(ctx, "restart", id, true, progress, func(rec *Record, p *types.Project, progress func(Event)) error {
		if rec.Stack {
			if err := m.swarmRestart(ctx, rec); err != nil { // swarm.go
				return err
			}
		} else if err := m.engine.Restart(ctx, rec.Project, p, progress); err != nil {
			return err
		}
		// Restart does not recreate missing containers; converge does, and
		// republishes the (possibly new) address.
		return m.converge(ctx, rec, p, progress)
	})
}

// operate runs a start, stop or restart of an installed app under its lock:
// it records the desired run state first, then acts on the app's project.
func (m *Manager) operate(ctx context.Context, verb, id string, running bool, progress func(Event), act func(*Record, *types.Project, func(Event)) error) error {
	progress = m.stamp(id, progress)
	unlock := m.lock(id)
	defer unlock()
	rec, err := m.setRunning(id, running)
	if err != nil {
		return fmt.Errorf("%s %s: %w", verb, id, err)
	}
	// Starting runs the recorded project, checked again against the host's
	// files; stopping needs no project: Compose finds the containers by label.
	var p *types.Project
	if running {
		p, err = m.startProject(ctx, &rec)
	} else {
		p, err = m.recordedProject(ctx, &rec)
	}
	if err != nil && running {
		return fmt.Errorf("%s %s: %w", verb, id, err)
	}
	if err := act(&rec, p, progress); err != nil {
		return fmt.Errorf("%s %s: %w", verb, id, err)
	}
	status := map[string]string{"start": "started", "stop": "stopped", "restart": "restarted"}[verb]
	ev := Event{Phase: PhaseDone, Status: status}
	if running {
		ev.URL = rec.URL
	}
	progress(ev)
	return nil
}

func (m *Manager) setRunning(id string, running bool) (Record, error) {
	rec, err := m.get(id)
	if err != nil {
		return rec, err
	}
	if rec.State != StateInstalled {
		return rec, errorf(nil, "app {{.App}} is {{.State}}, not installed: `stackhub apps info {{.App}}` says more", "App", id, "State", word(rec.State))
	}
	rec.Running, rec.UpdatedAt = running, time.Now().UTC()
	return rec, m.db.Put(recordKey(id), rec)
}

// SetPolicy changes who may reach an app: the record first, so restarts
// keep it, then the route, so the gate applies it from the next request.
func (m *Manager) SetPolicy(id string, pol registry.Policy) error {
	unlock := m.lock(id)
	defer unlock()
	rec, err := m.get(id)
	if err != nil {
		return fmt.Errorf("set access of %s: %w", id, err)
	}
	if err := managedError(rec); err != nil {
		return fmt.Errorf("set access of %s: %w", id, err)
	}
	rec.Policy, rec.UpdatedAt = pol, time.Now().UTC()
	if err := m.db.Put(recordKey(id), rec); err != nil {
		return fmt.Errorf("set access of %s: %w", id, err)
	}
	if e, ok := m.reg.Lookup(rec.Host); ok {
		m.publish(&rec, e.Upstream)
	}
	return nil
}

// Logs writes the app's logs to w, following them when opts.Follow.
func (m *Manager) Logs(ctx context.Context, id string, opts LogOptions, w io.Writer) error {
	rec, err := m.get(id)
	if err != nil {
		return fmt.Errorf("logs %s: %w", id, err)
	}
	if opts.Follow {
		return m.followLogs(ctx, id, opts, w)
	}
	return m.engine.Logs(ctx, rec.Project, opts, w)
}

// Status reports one app.
func (m *Manager) Status(ctx context.Context, id string) (AppStatus, error) {
	rec, err := m.get(id)
	if err != nil {
		return AppStatus{}, err
	}
	return m.status(ctx, rec), nil
}

func (m *Manager) status(ctx context.Context, rec Record) AppStatus {
	st := AppStatus{Record: rec}
	st.Record.Compose, st.Record.Files, st.Record.Validated = nil, nil, nil
	st.Record.Values = redact(rec.Values, rec.Secrets)
	m.decorate(&st)
	cs, err := m.engine.Ps(ctx, rec.Project)
	if err != nil {
		st.Health = "unknown: " + err.Error()
		return st
	}
	running := 0
	for _, c := range cs {
		st.Containers = append(st.Containers, ContainerStatus{Service: c.Service, Name: c.Name, Image: c.Image, State: string(c.State), Health: string(c.Health)})
		if c.State == "running" {
			running++
		}
	}
	sort.Slice(st.Containers, func(i, j int) bool { return st.Containers[i].Service < st.Containers[j].Service })
	switch {
	case rec.State == StateFailed:
		st.Health = "rolled back"
	case len(cs) == 0:
		st.Health = "no containers"
	case running == len(cs):
		st.Health = "running"
	case running == 0:
		st.Health = "stopped"
	default:
		st.Health = fmt.Sprintf("partial (%d of %d running)", running, len(cs))
	}
	return st
}

func redact(values map[string]string, secrets []string) map[string]string {
	out := make(map[string]string, len(values))
	for k, v := range values {
		out[k] = v
	}
	for _, k := range secrets {
		if _, ok := out[k]; ok {
			out[k] = "********"
		}
	}
	return out
}

// List reports every recorded app, by id.
func (m *Manager) List(ctx context.Context) ([]AppStatus, error) {
	recs, err := m.records()
	if err != nil {
		return nil, err
	}
	out := make([]AppStatus, 0, len(recs))
	for _, r := range recs {
		out = append(out, m.status(ctx, r))
	}
	return out, nil
}

// Orphans lists compose projects labelled with this instance that have no
// app record (left by a crash or by hand); they are reported, not removed.
func (m *Manager) Orphans() []string {
	m.orphansMu.Lock()
	defer m.orphansMu.Unlock()
	return append([]string(nil), m.orphans...)
}

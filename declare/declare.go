// Package declare turns the apps declared in the config (`app NAME { … }`
// blocks of the Caddyfile's stackhub options, or the "apps" list of the
// stackhub app in JSON) into the platform's desired state, checks them, and
// converges the box to them on every config load.
//
// Converging installs the declared apps that are missing, brings changed
// ones to their declaration (only that app's containers are recreated, and
// only when their configuration changed), leaves unchanged apps and apps
// installed by hand alone, and stops (never deletes) an app the config
// declared before and no longer does, unless the config asks to prune.
package declare

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/internal/registry"
	"github.com/stackhub/stackhub/stores"
)

// App is one declared app, as the config writes it.
type App struct {
	// Name is the app's id and default subdomain.
	Name string `json:"name"`
	// From names a store app ("builtin/vaultwarden", or "vaultwarden").
	From string `json:"from,omitempty"`
	// Path is a folder or compose file of the admin's own app.
	Path string `json:"path,omitempty"`
	// Subdomain serves the app at <subdomain>.<domain> instead of its name.
	Subdomain string `json:"subdomain,omitempty"`
	// Set are the values the app asks for; Caddy placeholders ({env.X},
	// {file./run/secrets/x}) are replaced when the config loads.
	Set map[string]string `json:"set,omitempty"`
	// Access is private (the default), restricted or public; Users and
	// Groups are who a restricted app admits.
	Access      string   `json:"access,omitempty"`
	Users       []string `json:"users,omitempty"`
	Groups      []string `json:"groups,omitempty"`
	PublicPaths []string `json:"public_paths,omitempty"`
	// Domains are custom domains of the app.
	Domains []appctl.Domain `json:"domains,omitempty"`
	// Approve names the hazards the admin approves for this app.
	Approve []string `json:"approve,omitempty"`
	// Backup is the app's backup schedule. It is recorded and applied by
	// the backup feature once it exists; until then it changes nothing.
	Backup *Backup `json:"backup,omitempty"`

	// File and Line are where the declaration is, for error messages.
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
}

// Backup is a declared backup schedule: `backup daily keep 7`.
type Backup struct {
	// Every is hourly, daily, weekly or off.
	Every string `json:"every"`
	// Keep is how many snapshots to keep (0: the backup feature's default).
	Keep int `json:"keep,omitempty"`
}

// BackupSchedules are the schedules `backup` takes.
var BackupSchedules = []string{"hourly", "daily", "weekly", "off"}

// Prune modes of the stackhub block's `prune` option.
const (
	// PruneOff (the default) stops apps no longer declared and keeps them.
	PruneOff = ""
	// PruneKeepData removes apps no longer declared, keeping their data.
	PruneKeepData = "keep_data"
	// PruneDeleteData removes apps no longer declared with their data.
	PruneDeleteData = "delete_data"
)

// Source says where the declaration is: "Caddyfile:12", or, from a JSON
// config, "app NAME".
func (a App) Source() string {
	if a.File != "" && a.Line > 0 {
		return a.File + ":" + strconv.Itoa(a.Line)
	}
	return "app " + a.Name
}

// Errorf formats an error about the declaration, prefixed with its place.
func (a App) Errorf(format string, args ...any) error {
	return fmt.Errorf("%s: app %s: %w", a.Source(), a.Name, fmt.Errorf(format, args...))
}

// expandValue replaces the placeholders in the value v of key k with
// expand (nil: v as written); the error names the declaration and the key.
func (a App) expandValue(k, v string, expand func(string) (string, error)) (string, error) {
	if expand == nil {
		return v, nil
	}
	out, err := expand(v)
	if err != nil {
		return "", a.Errorf("set %s: %v", k, err)
	}
	return out, nil
}

// CheckValues expands every declared value with expand, so that a
// placeholder that cannot be replaced ({file.…} not readable, unknown)
// fails with the declaration's file and line, even where the rest of the
// declarations are checked elsewhere (`stackhub validate` asking a running
// StackHub, which does not expand them).
func CheckValues(apps []App, expand func(string) (string, error)) error {
	for _, a := range apps {
		for k, v := range a.Set {
			if _, err := a.expandValue(k, v, expand); err != nil {
				return err
			}
		}
	}
	return nil
}

// Lookup finds what a declaration names: a store app, or the admin's own
// app on disk.
type Lookup struct {
	// Find resolves a store reference (the catalog's Find).
	Find func(ref string) (stores.App, error)
	// ReadPath reads an app folder or compose file (stores.ReadPath).
	ReadPath func(path string) (stores.App, error)
	// Expand replaces Caddy placeholders in a value.
	Expand func(string) (string, error)
}

// Desired resolves the declarations into the apps they want. It checks
// what needs no platform state: syntax, the store app or folder, values'
// placeholders, duplicates.
func Desired(apps []App, l Lookup) ([]appctl.Desired, error) {
	seen := map[string]App{}
	var out []appctl.Desired
	for _, a := range apps {
		if prev, ok := seen[a.Name]; ok {
			return nil, a.Errorf("declared twice (also at %s)", prev.Source())
		}
		seen[a.Name] = a
		d, err := a.desired(l)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func (a App) desired(l Lookup) (appctl.Desired, error) {
	if !stores.ValidID(a.Name) {
		return appctl.Desired{}, a.Errorf("the name must be a DNS label (lower case letters, digits, '-')")
	}
	var app stores.App
	var err error
	switch {
	case a.From != "" && a.Path != "":
		return appctl.Desired{}, a.Errorf("give either `from STORE/APP` or `path FOLDER`, not both")
	case a.From != "":
		if app, err = l.Find(a.From); err != nil {
			return appctl.Desired{}, a.Errorf("from %s: %v: `stackhub store search` lists the store apps", a.From, err)
		}
	case a.Path != "":
		if app, err = l.ReadPath(a.Path); err != nil {
			return appctl.Desired{}, a.Errorf("path %s: %v", a.Path, err)
		}
	default:
		return appctl.Desired{}, a.Errorf("say what to install: `from STORE/APP` (a store app) or `path FOLDER` (your own app)")
	}
	app.ID = a.Name
	values := map[string]string{}
	var secretKeys []string
	for k, v := range a.Set {
		if strings.Contains(v, "{env.") || strings.Contains(v, "{file.") {
			secretKeys = append(secretKeys, k)
		}
		if v, err = a.expandValue(k, v, l.Expand); err != nil {
			return appctl.Desired{}, err
		}
		values[k] = v
	}
	pol := registry.Policy{Access: registry.Access(a.Access), Users: a.Users, Groups: a.Groups, PublicPaths: a.PublicPaths}
	switch pol.Access {
	case "":
		pol.Access = registry.Private
	case registry.Private, registry.Public, registry.Restricted:
	default:
		return appctl.Desired{}, a.Errorf("access must be private, restricted or public, not %q", a.Access)
	}
	if pol.Access != registry.Restricted && (len(a.Users) > 0 || len(a.Groups) > 0) {
		return appctl.Desired{}, a.Errorf("users and groups go with `access restricted`")
	}
	for _, p := range a.PublicPaths {
		if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, " \\%") {
			return appctl.Desired{}, a.Errorf("public path %q must be a path starting with /", p)
		}
	}
	var domains []appctl.Domain
	for _, d := range a.Domains {
		n, err := appctl.NormalizeDomain(d.Name)
		if err != nil {
			return appctl.Desired{}, a.Errorf("domain: %v", err)
		}
		domains = append(domains, appctl.Domain{Name: n, Redirect: d.Redirect})
	}
	if a.Backup != nil && !slices.Contains(BackupSchedules, a.Backup.Every) {
		return appctl.Desired{}, a.Errorf("backup %q: write hourly, daily, weekly or off", a.Backup.Every)
	}
	return appctl.Desired{
		App: app,
		Options: appctl.InstallOptions{
			Values: values, Subdomain: a.Subdomain, ApproveHazardNames: a.Approve, Policy: &pol,
		},
		Domains:    domains,
		Source:     a.Source(),
		SecretKeys: secretKeys,
	}, nil
}

// Checker is what Check asks of the platform (appctl.Manager).
type Checker interface {
	CheckDesired(appctl.Desired) error
}

// Check checks the declarations against each other and the platform:
// store values, approvals, clashes of addresses. Each error names the
// declaration's file and line.
func Check(apps []App, desired []appctl.Desired, domain string, m Checker) error {
	hosts := map[string]string{}
	for i, d := range desired {
		a := apps[i]
		sub := d.App.ID
		if d.Options.Subdomain != "" {
			sub = strings.ToLower(d.Options.Subdomain)
		}
		names := []string{sub + "." + domain}
		for _, dom := range d.Domains {
			names = append(names, dom.Name)
		}
		for _, h := range names {
			if other, ok := hosts[h]; ok {
				return a.Errorf("%s is also an address of the app declared at %s: choose another subdomain or domain", h, other)
			}
			hosts[h] = a.Source()
		}
		if err := m.CheckDesired(d); err != nil {
			return a.Errorf("%v", err)
		}
	}
	return nil
}

// Package stores reads app catalogs: StackHub's native format, and the app
// stores of CasaOS, Runtipi and Umbrel, into one model, App.
//
// An App is a compose file written against StackHub's install variables
// (below) plus what a catalog shows about it. Readers of foreign formats
// translate their store's conventions into these variables, so appctl
// installs every app the same way.
//
// Install variables, set by appctl when it loads an app's compose file:
//
//	APP_ID        the app's id, also its subdomain label ("vaultwarden")
//	APP_DATA_DIR  absolute path of the app's data folder on the host
//	APP_DOMAIN    the app's host name ("vaultwarden.home.example.com")
//	APP_URL       the app's URL ("https://vaultwarden.home.example.com")
//	BASE_DOMAIN   the platform's base domain ("home.example.com")
//	TZ, PUID, PGID  the host's time zone and the user/group ids apps run as
//
// plus one variable per form field (Field.Key) with the user's value.
package stores

import (
	"fmt"
	"regexp"
)

// App is one installable app.
type App struct {
	// ID is unique within its store; it is the default subdomain label, so
	// it is a DNS label: lower case letters, digits and '-'.
	ID    string `json:"id"`
	Store string `json:"store"`

	Name        string `json:"name"`
	Tagline     string `json:"tagline,omitempty"`
	Description string `json:"description,omitempty"`
	// Texts are Tagline and Description in other languages, by BCP 47
	// tag (CasaOS stores have zh_cn and others); see Text.
	Texts         map[string]AppText `json:"texts,omitempty"`
	Icon          string             `json:"icon,omitempty"` // URL, or a path inside Files
	Version       string             `json:"version,omitempty"`
	Website       string             `json:"website,omitempty"`
	Source        string             `json:"source,omitempty"`
	Categories    []string           `json:"categories,omitempty"`
	Architectures []string           `json:"architectures,omitempty"`

	// MainService is the compose service that serves the web UI, and
	// MainPort the container port it listens on. The platform routes
	// https://<app>.<domain> there.
	MainService string `json:"main_service"`
	MainPort    int    `json:"main_port"`
	// MainScheme is "http" (default) or "https" for apps that only serve TLS.
	MainScheme string `json:"main_scheme,omitempty"`
	// NoWebUI marks an app without a web UI (a DNS updater, a VPN client, a
	// game server, a database): there is nothing to route, MainPort is 0,
	// and its ports are what users connect to. MainService is still the
	// app's principal service. Readers set it when the store says so
	// (Runtipi no_gui, no x-runtipi is_main) or when the app names no web
	// port at all (CasaOS without port_map).
	NoWebUI bool `json:"no_web_ui,omitempty"`

	// Fields are the values the app asks for at install time.
	Fields []Field `json:"fields,omitempty"`
	// OIDC, when set, says the app signs users in with OpenID Connect:
	// StackHub registers a client at install (see FORMAT.md).
	OIDC *OIDC `json:"oidc,omitempty"`

	// Compose is the compose file (YAML), using the install variables.
	Compose []byte `json:"-"`
	// Files are the other files of the app's folder by slash-separated
	// relative path (config files the compose file bind-mounts, say). They
	// are copied next to the compose file at install.
	Files map[string][]byte `json:"-"`
	// Seed are files to create inside the app's data folder (APP_DATA_DIR)
	// at install, by slash-separated path relative to it, when they do not
	// exist yet; they are never overwritten (they are the app's data from
	// then on). Native apps take them from a seed/ folder; Runtipi apps from
	// their data/ folder; Umbrel apps from their whole folder.
	Seed map[string][]byte `json:"-"`

	// Requires are the apps of the same store to install first, and Exports
	// the variables this app gives the apps requiring it (umbrel_deps.go).
	Requires []string          `json:"requires,omitempty"`
	Exports  map[string]string `json:"exports,omitempty"`

	// Images are the container images of the app's services, as written
	// (sorted, each once).
	Images []string `json:"images,omitempty"`

	// Ports are the host ports the app publishes besides its web UI (which
	// the platform routes), each with what it is for.
	Ports []Port `json:"ports,omitempty"`

	// Hazards are settings that reach beyond the app (into the host,
	// another app or StackHub); installing such an app needs an admin's
	// explicit approval.
	Hazards []Hazard `json:"hazards,omitempty"`
	// Unavailable says why the app cannot be installed; empty when it can.
	Unavailable string `json:"unavailable,omitempty"`
	// Warnings are what a reader could not translate faithfully (an Umbrel
	// hook not run, a variable with no StackHub meaning …). The app may
	// still work; an admin should read them before installing.
	Warnings []string `json:"warnings,omitempty"`
}

// Port is a host port publication of an app other than its web UI.
type Port struct {
	Service string `json:"service" yaml:"service"`
	// Target is the container port.
	Target int `json:"target" yaml:"target"`
	// Published is the host port (or range, or variable) as written.
	Published string `json:"published,omitempty" yaml:"published,omitempty"`
	// Protocol is "tcp" (default) or "udp".
	Protocol    string `json:"protocol,omitempty" yaml:"protocol,omitempty"`
	Description string `json:"description,omitempty" yaml:"description,omitempty"`
}

// FieldType is the kind of value a form field takes.
type FieldType string

// Field types. A form renders each with a fitting input and validates it.
const (
	FieldText     FieldType = "text"
	FieldPassword FieldType = "password"
	FieldNumber   FieldType = "number"
	FieldBool     FieldType = "bool"
	FieldEmail    FieldType = "email"
	FieldURL      FieldType = "url"
	FieldSelect   FieldType = "select"
)

// Field is one value an app asks for at install time, passed to its
// compose file as the variable Key.
type Field struct {
	Key      string    `json:"key" yaml:"key"`
	Label    string    `json:"label" yaml:"label"`
	Type     FieldType `json:"type" yaml:"type"`
	Default  string    `json:"default,omitempty" yaml:"default,omitempty"`
	Required bool      `json:"required,omitempty" yaml:"required,omitempty"`
	// Secret values are never shown again after install.
	Secret bool `json:"secret,omitempty" yaml:"secret,omitempty"`
	// Random fields left empty get a random value of RandomLength characters.
	Random       bool     `json:"random,omitempty" yaml:"random,omitempty"`
	RandomLength int      `json:"random_length,omitempty" yaml:"random_length,omitempty"`
	Options      []string `json:"options,omitempty" yaml:"options,omitempty"`
	Hint         string   `json:"hint,omitempty" yaml:"hint,omitempty"`
}

// Hazard is one setting of an app that reaches beyond the app: into the
// host, another app, or StackHub itself.
type Hazard struct {
	// Name is the hazard's stable short name ("privileged", "host-path",
	// "host-network" …); FORMAT.md lists them.
	Name string `json:"name"`
	// Kind is what declares the setting: "service" (the default), "job",
	// "volume", "network", "secret", "config" or "project".
	Kind string `json:"kind,omitempty"`
	// Service names the service (or volume, network … of Kind).
	Service string `json:"service"`
	// Setting names the compose key and its value: "privileged",
	// "network_mode: host", "volumes: /var/run/docker.sock",
	// "pre_start[0].volumes: /", "driver_opts.device: /" …
	Setting string `json:"setting"`
	// Reason says why it matters, for an admin.
	Reason string `json:"reason"`
}

func (h Hazard) String() string {
	kind := h.Kind
	if kind == "" {
		kind = "service"
	}
	return fmt.Sprintf("%s %q: %s (%s) [%s]", kind, h.Service, h.Setting, h.Reason, h.Name)
}

var appIDPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// ValidID reports whether id can be an app id: a DNS label in lower case.
func ValidID(id string) bool { return appIDPattern.MatchString(id) }

package appctl

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stackhub/stackhub/internal/registry"
)

// Domain is a custom domain of an app: a name of the user's own
// ("photos.example.org", "example.org") that serves the app too, or
// redirects to its main URL.
type Domain struct {
	Name string `json:"name"`
	// Redirect answers 308 to the app's main URL instead of serving it.
	Redirect bool `json:"redirect,omitempty"`
}

// ErrManaged is the refusal to change the settings of an app declared in
// the config by another way than the config.
var ErrManaged = errors.New("managed by the config")

// managedError refuses a settings change on a declared app, saying where
// its settings live.
func managedError(rec Record) error {
	return RefuseManaged(rec, "change its settings")
}

// NormalizeDomain returns name in lower case without a trailing dot, or an
// error when it is not a host name StackHub can serve.
func NormalizeDomain(name string) (string, error) {
	n := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(name), "."))
	if n == "" || len(n) > 253 || !strings.Contains(n, ".") {
		return "", errorf(ErrInvalid, "invalid app: {{.Name}} is not a full domain name (write it like photos.example.org)", "Name", strconv.Quote(name))
	}
	for _, label := range strings.Split(n, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") || strings.Trim(label, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			return "", errorf(ErrInvalid, "invalid app: {{.Name}} is not a domain name: labels of letters, digits and '-'", "Name", strconv.Quote(name))
		}
	}
	return n, nil
}

// publishDomains puts the app's custom domains in the registry beside its
// main host, so routing, DNS, certificates and the gate know them at once
// (DESIGN.md invariant 2). A redirect alias is public: it only answers a
// redirect to the main URL, where the app's policy applies.
func (m *Manager) publishDomains(rec *Record, upstream string) {
	for _, d := range rec.Domains {
		e := registry.Entry{App: rec.ID, Host: d.Name, Upstream: upstream, Policy: rec.Policy, Alias: true}
		if d.Redirect {
			e.Policy = registry.Policy{Access: registry.Public}
			e.Redirect = strings.TrimSuffix(rec.URL, "/")
		}
		m.reg.Put(e)
	}
}

// hostUser returns the app that serves host (as its main host or a custom
// domain), other than except.
func (m *Manager) hostUser(host, except string) (string, bool) {
	recs, _ := m.records()
	for _, r := range recs {
		if r.ID == except || r.State == StateFailed {
			continue
		}
		if r.Host == host || slices.ContainsFunc(r.Domains, func(d Domain) bool { return d.Name == host }) {
			return r.ID, true
		}
	}
	return "", false
}

// checkDomain refuses a custom domain that is another app's, or the
// platform's own.
func (m *Manager) checkDomain(id, name string) error {
	if name == m.cfg.Domain || name == "my."+m.cfg.Domain {
		return errorf(ErrTaken, "subdomain taken: {{.Name}} is StackHub's own address", "Name", name)
	}
	if other, ok := m.hostUser(name, id); ok {
		return errorf(ErrTaken, "subdomain taken: {{.Name}} is already an address of app {{.App}}", "Name", name, "App", other)
	}
	return nil
}

// CheckNewDomain tells whether app id may take the custom domain name,
// without taking it: a valid name, an installed app that is not declared in
// the config, not the app's own address nor anybody else's. It returns the
// name normalized and the app's record (whose Host a DNS check compares
// with), so the CLI and the portal refuse such a name before asking for DNS
// records (internal/platform's AddDomain).
func (m *Manager) CheckNewDomain(id, name string) (string, Record, error) {
	n, err := NormalizeDomain(name)
	if err != nil {
		return "", Record{}, fmt.Errorf("add domain to %s: %w", id, err)
	}
	rec, err := m.get(id)
	if err != nil {
		return "", Record{}, fmt.Errorf("add domain to %s: %w", id, err)
	}
	if rec.Managed != "" {
		return "", Record{}, errorf(ErrManaged, "managed by the config: app {{.App}} is declared in the config ({{.File}}): add `domain {{.Name}}` to its block there and run `stackhub reload`", "App", id, "File", rec.Managed, "Name", n)
	}
	if err := m.domainFree(rec, n); err != nil {
		return "", Record{}, fmt.Errorf("add domain to %s: %w", id, err)
	}
	return n, rec, nil
}

// domainFree refuses name for rec when it is the app's own address, another
// app's, or the platform's.
func (m *Manager) domainFree(rec Record, name string) error {
	if name == rec.Host {
		return errorf(ErrInvalid, "invalid app: {{.Name}} is the app's own address", "Name", name)
	}
	return m.checkDomain(rec.ID, name)
}

// AddDomain gives an installed app a custom domain. The caller checks DNS
// first (internal/platform's AddDomain, with internal/domains); this
// records the name and publishes it.
func (m *Manager) AddDomain(id string, d Domain) (Record, error) {
	name, err := NormalizeDomain(d.Name)
	if err != nil {
		return Record{}, fmt.Errorf("add domain to %s: %w", id, err)
	}
	d.Name = name
	unlock := m.lock(id)
	defer unlock()
	rec, err := m.get(id)
	if err != nil {
		return Record{}, fmt.Errorf("add domain to %s: %w", id, err)
	}
	if err := managedError(rec); err != nil {
		return Record{}, fmt.Errorf("add domain to %s: %w", id, err)
	}
	if err := m.domainFree(rec, name); err != nil {
		return Record{}, fmt.Errorf("add domain to %s: %w", id, err)
	}
	rec.Domains = slices.DeleteFunc(rec.Domains, func(x Domain) bool { return x.Name == name })
	rec.Domains = append(rec.Domains, d)
	rec.UpdatedAt = time.Now().UTC()
	if err := m.db.Put(recordKey(id), rec); err != nil {
		return Record{}, fmt.Errorf("add domain to %s: %w", id, err)
	}
	m.republish(&rec)
	return rec, nil
}

// RemoveDomain takes a custom domain away from an app.
func (m *Manager) RemoveDomain(id, name string) (Record, error) {
	name = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(name), "."))
	unlock := m.lock(id)
	defer unlock()
	rec, err := m.get(id)
	if err != nil {
		return Record{}, fmt.Errorf("remove domain of %s: %w", id, err)
	}
	if err := managedError(rec); err != nil {
		return Record{}, fmt.Errorf("remove domain of %s: %w", id, err)
	}
	n := len(rec.Domains)
	rec.Domains = slices.DeleteFunc(rec.Domains, func(x Domain) bool { return x.Name == name })
	if len(rec.Domains) == n {
		return Record{}, fmt.Errorf("remove domain of %s: %w", id, errorf(ErrNotInstalled, "not installed: {{.Name}} is not a domain of {{.App}}; `stackhub apps domain list {{.App}}` lists them", "Name", name, "App", id))
	}
	rec.UpdatedAt = time.Now().UTC()
	if err := m.db.Put(recordKey(id), rec); err != nil {
		return Record{}, fmt.Errorf("remove domain of %s: %w", id, err)
	}
	m.reg.Delete(name)
	return rec, nil
}

// Domains lists an app's custom domains.
func (m *Manager) Domains(id string) ([]Domain, error) {
	rec, err := m.get(id)
	if err != nil {
		return nil, err
	}
	return rec.Domains, nil
}

// republish publishes the app's hosts again with its current upstream
// (none yet: nothing to do; the app publishes itself when it runs).
func (m *Manager) republish(rec *Record) {
	if e, ok := m.reg.Lookup(rec.Host); ok {
		m.publish(rec, e.Upstream)
	}
}

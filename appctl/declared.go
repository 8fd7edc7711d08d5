package appctl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/stackhub/stackhub/internal/registry"
	"github.com/stackhub/stackhub/stores"
)

// Desired is an app as a declaration in the config wants it (package
// declare builds it from an `app NAME { … }` block).
type Desired struct {
	// App is the app to run, its ID set to the declared name.
	App stores.App
	// Options are the declared values, subdomain, policy and approvals.
	Options InstallOptions
	// Domains are the declared custom domains.
	Domains []Domain
	// Source says where the declaration is ("Caddyfile:12").
	Source string
	// SecretKeys are values read from placeholders ({file.…}, {env.…}):
	// masked like secret fields wherever settings are shown.
	SecretKeys []string
}

// addSecrets adds keys to secrets, each once.
func addSecrets(secrets []string, keys ...string) []string {
	for _, k := range keys {
		if !slices.Contains(secrets, k) {
			secrets = append(secrets, k)
		}
	}
	return secrets
}

func (d Desired) host(domain string) string {
	sub := d.App.ID
	if d.Options.Subdomain != "" {
		sub = strings.ToLower(d.Options.Subdomain)
	}
	return sub + "." + domain
}

func (d Desired) policy() registry.Policy {
	if d.Options.Policy != nil {
		return *d.Options.Policy
	}
	return registry.Policy{Access: registry.Private}
}

// CheckDesired checks a declaration without touching anything: values
// against the app's form, the hazards of the store's check against the
// approvals, the address against reserved names and the other apps.
func (m *Manager) CheckDesired(d Desired) error {
	if d.App.Unavailable != "" {
		return fmt.Errorf("%w: %s", ErrInvalid, d.App.Unavailable)
	}
	if !stores.ValidID(d.App.ID) {
		return fmt.Errorf("%w: the app name must be a DNS label (lower case letters, digits, '-')", ErrInvalid)
	}
	sub := strings.TrimSuffix(d.host(m.cfg.Domain), "."+m.cfg.Domain)
	if !stores.ValidID(sub) || reservedLabels[sub] {
		return fmt.Errorf("%w: subdomain %q is reserved or not a DNS label", ErrTaken, sub)
	}
	if other, ok := m.hostUser(d.host(m.cfg.Domain), d.App.ID); ok {
		return fmt.Errorf("%w: %s is already the address of app %s", ErrTaken, d.host(m.cfg.Domain), other)
	}
	for _, dom := range d.Domains {
		if err := m.checkDomain(d.App.ID, dom.Name); err != nil {
			return err
		}
	}
	values := d.Options.Values
	if rec, err := m.get(d.App.ID); err == nil {
		values = mergeValues(rec.Values, values)
	}
	if _, _, err := resolveValues(d.App, values); err != nil {
		if f := missingField(d.App, values); f != "" {
			return fmt.Errorf("%w: app %s needs a value for %s: add `set %s VALUE` to its block", ErrInvalid, d.App.ID, f, f)
		}
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if !d.Options.ApproveHazards {
		var names []string
		for _, h := range d.App.Hazards {
			if !slices.Contains(d.Options.ApproveHazardNames, h.Name) && !slices.Contains(names, h.Name) {
				names = append(names, h.Name)
			}
		}
		if len(names) > 0 {
			var b strings.Builder
			for _, h := range d.App.Hazards {
				if slices.Contains(names, h.Name) {
					b.WriteString("; " + h.String())
				}
			}
			return fmt.Errorf("%w: app %s asks for settings that reach beyond the app%s: add `approve %s` to its block only if you trust it", ErrHazards, d.App.ID, b.String(), strings.Join(names, " "))
		}
	}
	return nil
}

// missingField names the first required field with no value, default or
// generator.
func missingField(app stores.App, values map[string]string) string {
	for _, f := range app.Fields {
		if f.Required && !f.Random && f.Default == "" && values[f.Key] == "" {
			return f.Key
		}
	}
	return ""
}

// mergeValues is old overlaid with declared: values a declaration does not
// set (generated secrets, defaults) keep what the install chose.
func mergeValues(old, declared map[string]string) map[string]string {
	out := maps.Clone(old)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, declared)
	return out
}

// Records returns every app record (without asking Docker).
func (m *Manager) Records() ([]Record, error) { return m.records() }

// Changes lists what of the installed app rec differs from the declaration
// d; empty when the app is as declared.
func (m *Manager) Changes(rec Record, d Desired) []string {
	var out []string
	if rec.State != StateInstalled {
		out = append(out, "state "+string(rec.State))
	}
	if !rec.Running {
		out = append(out, "stopped")
	}
	if rec.Host != d.host(m.cfg.Domain) {
		out = append(out, "subdomain")
	}
	keys := slices.Sorted(maps.Keys(d.Options.Values))
	for _, k := range keys {
		if rec.Values[k] != d.Options.Values[k] {
			out = append(out, "value "+k)
		}
	}
	if !reflect.DeepEqual(normPolicy(rec.Policy), normPolicy(d.policy())) {
		out = append(out, "access")
	}
	if !sameDomains(rec.Domains, d.Domains) {
		out = append(out, "domains")
	}
	if rec.Version != d.App.Version {
		out = append(out, "version")
	} else if !bytes.Equal(rec.Compose, d.App.Compose) || !sameFiles(rec.Files, d.App.Files) {
		out = append(out, "app files")
	}
	if rec.ApprovedHazards != d.Options.ApproveHazards || !slices.Equal(sortedCopy(rec.ApprovedHazardNames), sortedCopy(d.Options.ApproveHazardNames)) {
		out = append(out, "approvals")
	}
	return out
}

func normPolicy(p registry.Policy) registry.Policy {
	if p.Access == "" {
		p.Access = registry.Private
	}
	p.Users, p.Groups, p.PublicPaths = sortedCopy(p.Users), sortedCopy(p.Groups), sortedCopy(p.PublicPaths)
	return p
}

func sortedCopy(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	out := slices.Clone(s)
	sort.Strings(out)
	return out
}

func sameDomains(a, b []Domain) bool {
	if len(a) != len(b) {
		return false
	}
	key := func(ds []Domain) []string {
		out := make([]string, len(ds))
		for i, d := range ds {
			out[i] = fmt.Sprintf("%s %v", d.Name, d.Redirect)
		}
		sort.Strings(out)
		return out
	}
	return slices.Equal(key(a), key(b))
}

func sameFiles(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !bytes.Equal(v, w) {
			return false
		}
	}
	return true
}

// SetManaged records where an app is declared ("" to release it to the
// CLI and portal), with a note for `apps list`.
func (m *Manager) SetManaged(id, source, note string) error {
	unlock := m.lock(id)
	defer unlock()
	rec, err := m.get(id)
	if err != nil {
		return err
	}
	rec.Managed, rec.Note = source, note
	return m.db.Put(recordKey(id), rec)
}

// ApplyDeclared installs a declared app that is missing, or brings an
// installed one to its declaration: the record first, then its project
// (Compose recreates only the containers whose configuration changed; a
// change of access or domains alone recreates none). If the changed app
// cannot run, the previous record and project are put back.
func (m *Manager) ApplyDeclared(ctx context.Context, d Desired, progress func(Event)) (Record, error) {
	id := d.App.ID
	old, err := m.get(id)
	if errors.Is(err, ErrNotInstalled) || (err == nil && old.State == StateFailed) {
		opts := d.Options
		rec, err := m.Install(ctx, d.App, opts, progress)
		if err != nil {
			return rec, err
		}
		unlock := m.lock(id)
		rec, err = m.get(id)
		if err == nil {
			rec.Managed, rec.Domains = d.Source, d.Domains
			rec.Secrets = addSecrets(rec.Secrets, d.SecretKeys...)
			if err = m.db.Put(recordKey(id), rec); err == nil {
				m.republish(&rec)
			}
		}
		unlock()
		return rec, err
	}
	if err != nil {
		return Record{}, err
	}
	progress = m.stamp(id, progress)
	unlock := m.lock(id)
	defer unlock()
	if old, err = m.get(id); err != nil {
		return Record{}, err
	}
	if old.State != StateInstalled {
		return Record{}, fmt.Errorf("update %s: app is %s: wait for it to finish, or remove it", id, old.State)
	}
	platform := platformValues(d.App.Fields, old.Values, d.Options.Values)
	formValues := map[string]string{}
	for k, v := range old.Values {
		if _, ok := platform[k]; !ok {
			formValues[k] = v
		}
	}
	values, secrets, err := resolveValues(d.App, mergeValues(formValues, d.Options.Values))
	if err != nil {
		return Record{}, fmt.Errorf("update %s: %w: %w", id, ErrInvalid, err)
	}
	values = withValues(values, platform)
	secrets = addSecrets(addSecrets(secrets, old.Secrets...), d.SecretKeys...)
	app := d.App
	rec := old
	rec.Store, rec.Name, rec.Version = app.Store, app.Name, app.Version
	rec.Host = d.host(m.cfg.Domain)
	rec.URL = m.URL(rec.Host)
	rec.MainSvc, rec.MainPort, rec.MainScheme = app.MainService, app.MainPort, app.MainScheme
	rec.Compose, rec.Files, rec.Seed = app.Compose, app.Files, app.Seed
	rec.Values, rec.Secrets = values, secrets
	rec.Policy = d.policy()
	rec.ApprovedHazards, rec.ApprovedHazardNames = d.Options.ApproveHazards, d.Options.ApproveHazardNames
	rec.Domains, rec.Managed = d.Domains, d.Source
	rec.Running, rec.Note, rec.Error = true, "", ""
	rec.UpdatedAt = time.Now().UTC()

	progress(Event{Phase: PhaseValidate, Status: "checking the compose file"})
	// Checked and recorded as an install is (project.go).
	p, err := m.revalidate(ctx, &rec)
	if err != nil {
		m.putSourceBack(&old) // the running app's source
		return Record{}, fmt.Errorf("update %s: %w", id, err)
	}
	if err := m.db.Put(recordKey(id), rec); err != nil {
		m.putSourceBack(&old)
		return Record{}, fmt.Errorf("update %s: record desired state: %w", id, err)
	}
	if old.Host != rec.Host || !sameDomains(old.Domains, rec.Domains) {
		m.reg.DeleteApp(id) // converge publishes the new names
	}
	if err := m.converge(ctx, &rec, p, progress); err != nil {
		m.log.Warn("declared change failed; putting the app back as it was")
		m.putSourceBack(&old)
		if op, perr := m.startProject(ctx, &old); perr == nil {
			m.db.Put(recordKey(id), old)
			m.reg.DeleteApp(id)
			if cerr := m.converge(context.WithoutCancel(ctx), &old, op, progress); cerr != nil {
				m.log.Warn("put the app back")
			}
		}
		return Record{}, fmt.Errorf("update %s: %w", id, err)
	}
	progress(say(Event{Phase: PhaseDone, Status: "updated", URL: rec.URL}, "{{.Name}} is as declared at {{.URL}}", "Name", rec.Name, "URL", rec.URL))
	return rec, nil
}

// StopUndeclared stops an app that the config declared before and no
// longer does, and releases it to the CLI and portal; its data stays.
func (m *Manager) StopUndeclared(ctx context.Context, id, note string, progress func(Event)) error {
	rec, err := m.get(id)
	if err != nil {
		return err
	}
	if rec.Running && rec.State == StateInstalled {
		if err := m.Stop(ctx, id, progress); err != nil {
			return err
		}
	}
	return m.SetManaged(id, "", note)
}

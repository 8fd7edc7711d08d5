package appctl

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/stackhub/stackhub/internal/kv"
	"github.com/stackhub/stackhub/stores"
)

// Links are an app's ties to other apps, kept in its record: the apps it
// requires (installed first), and the values it gives the apps requiring
// it (stores.App.Exports, in its own install variables).
type Links struct {
	Requires []string          `json:"requires,omitempty"`
	Exports  map[string]string `json:"exports,omitempty"`
}

// ErrNeedsApps is the error of an install whose required apps are missing;
// ErrRequired of the removal of an app others require.
var (
	ErrNeedsApps = errors.New("needs other apps")
	ErrRequired  = errors.New("required by other apps")
)

// NeedsAppsError lists the apps an app requires that are not installed.
type NeedsAppsError struct {
	App     string
	Missing []string
}

func (e *NeedsAppsError) Error() string {
	return fmt.Sprintf("app %s needs the apps %s installed first: install with --with-deps to install them too, or install them first",
		e.App, strings.Join(e.Missing, ", "))
}

func (e *NeedsAppsError) Unwrap() error { return ErrNeedsApps }

// MissingApps lists the apps app requires that are not installed, in
// install order.
func (m *Manager) MissingApps(app stores.App) []string {
	var missing []string
	for _, id := range app.Requires {
		var rec Record
		if err := m.db.Get(recordKey(id), &rec); err != nil || rec.State != StateInstalled {
			missing = append(missing, id)
		}
	}
	return missing
}

// InstallWithRequired installs the apps app requires that are missing
// (required, from the same store, in install order), then app. The admin
// agreed to the list (--with-deps); their hazards need the same approval as
// app's. An app already installed is left as it is.
func (m *Manager) InstallWithRequired(ctx context.Context, app stores.App, required []stores.App, opts InstallOptions, progress func(Event)) (Record, error) {
	missing := map[string]bool{}
	for _, id := range m.MissingApps(app) {
		missing[id] = true
	}
	for _, dep := range required {
		if !missing[dep.ID] {
			continue
		}
		if progress != nil {
			progress(sayStatus(Event{App: dep.ID, Phase: PhaseValidate}, "installing {{.Dep}}, which {{.App}} needs", "Dep", dep.ID, "App", app.ID))
		}
		if _, err := m.Install(ctx, dep, InstallOptions{ApproveHazards: opts.ApproveHazards, ApproveHazardNames: opts.ApproveHazardNames, PublishPorts: opts.PublishPorts, Policy: opts.Policy}, progress); err != nil {
			return Record{}, fmt.Errorf("install %s: install the app it needs: %w", app.ID, err)
		}
	}
	return m.Install(ctx, app, opts, progress)
}

// addRequiredValues sets in values what the apps app requires give it,
// computed from their records: their exports with their install
// variables and settings. It returns the keys that hold their secrets.
func (m *Manager) addRequiredValues(app stores.App, values map[string]string) ([]string, error) {
	if missing := m.MissingApps(app); len(missing) > 0 {
		return nil, &NeedsAppsError{App: app.ID, Missing: missing}
	}
	var secrets []string
	for _, id := range app.Requires {
		var dep Record
		if err := m.db.Get(recordKey(id), &dep); err != nil {
			if errors.Is(err, kv.ErrNotFound) {
				return nil, &NeedsAppsError{App: app.ID, Missing: []string{id}}
			}
			return nil, err
		}
		for k, v := range stores.ExpandExports(dep.Exports, m.installEnv(&dep)) {
			values[k] = v
			for _, s := range dep.Secrets {
				if strings.Contains(dep.Exports[k], "${"+s+"}") {
					secrets = append(secrets, k)
				}
			}
		}
	}
	return secrets, nil
}

// joinRequired attaches the app's services to the networks of the apps it
// requires, so they reach those apps' services by name, as on their own
// platform. Only apps it requires: other apps stay out of reach.
func (m *Manager) joinRequired(p *types.Project, rec *Record) {
	for _, id := range rec.Requires {
		var dep Record
		if err := m.db.Get(recordKey(id), &dep); err != nil {
			continue
		}
		key := "stackhub-requires-" + id
		if p.Networks == nil {
			p.Networks = types.Networks{}
		}
		p.Networks[key] = types.NetworkConfig{Name: dep.Project + "_default", External: true}
		for name, svc := range p.Services {
			if svc.NetworkMode != "" {
				continue // host network, or another service's
			}
			if svc.Networks == nil {
				svc.Networks = map[string]*types.ServiceNetworkConfig{"default": nil}
			}
			svc.Networks[key] = nil
			p.Services[name] = svc
		}
	}
}

// allowRequiredBinds drops the hazards of bind mounts from the data
// folders of the apps rec requires (electrs reads bitcoin's blocks):
// installing the required apps is what the admin approved. The folders
// and the test are the containment check's (requiredData, paths.go).
func (m *Manager) allowRequiredBinds(rec *Record, hz []stores.Hazard) ([]stores.Hazard, error) {
	if len(rec.Requires) == 0 {
		return hz, nil
	}
	rd, err := m.requiredData(rec)
	if err != nil {
		return nil, err
	}
	var kept []stores.Hazard
	for _, h := range hz {
		key, src, _ := strings.Cut(h.Setting, ": ")
		if h.Name == "host-path" && strings.HasSuffix(key, "volumes") {
			c := filepath.Clean(src)
			if r, err := resolveHostPath(c); err == nil && rd.holds(c, r) {
				continue
			}
		}
		kept = append(kept, h)
	}
	return kept, nil
}

// checkNotRequired refuses to remove an app that installed apps require
// (bitcoin while electrs runs on it).
func (m *Manager) checkNotRequired(id string) error {
	recs, err := m.records()
	if err != nil {
		return err
	}
	var users []string
	for _, r := range recs {
		if r.ID != id && r.State != StateFailed && slices.Contains(r.Requires, id) {
			users = append(users, r.ID)
		}
	}
	if len(users) == 0 {
		return nil
	}
	sort.Strings(users)
	return fmt.Errorf("%w: %s needs it: remove %s first", ErrRequired, strings.Join(users, ", "), strings.Join(users, ", "))
}

package appctl

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/stackhub/stackhub/stores"
)

// Reconfigure changes an installed app's form values and recreates its
// containers with them. fields is the app's form (from its store; nil for
// an app without one); a secret field left empty keeps its value. If the
// app does not come back healthy, the old values are restored and the app
// recreated with them, and the error is returned.
func (m *Manager) Reconfigure(ctx context.Context, id string, fields []stores.Field, given map[string]string, progress func(Event)) error {
	progress = m.stamp(id, progress)
	unlock := m.lock(id)
	defer unlock()
	rec, err := m.get(id)
	if err != nil {
		return fmt.Errorf("change settings of %s: %w", id, err)
	}
	if rec.State != StateInstalled {
		return fmt.Errorf("change settings of %s: %w", id, errorf(nil, "app {{.App}} is {{.State}}, not installed", "App", id, "State", word(rec.State)))
	}
	if err := RefuseManaged(rec, "change its settings"); err != nil {
		return fmt.Errorf("change settings of %s: %w", id, err)
	}
	platform := platformValues(fields, rec.Values, given)
	merged := map[string]string{}
	for k, v := range rec.Values {
		if _, ok := platform[k]; !ok {
			merged[k] = v
		}
	}
	for k, v := range given {
		if v == "" && slices.Contains(rec.Secrets, k) {
			continue
		}
		merged[k] = v
	}
	values, secrets, err := resolveValues(stores.App{ID: id, Fields: fields}, merged)
	if err != nil {
		return fmt.Errorf("change settings of %s: %w: %w", id, ErrInvalid, err)
	}
	values = withValues(values, platform)
	for _, k := range rec.Secrets {
		if _, ok := platform[k]; ok {
			secrets = addSecrets(secrets, k)
		}
	}
	if len(fields) == 0 {
		secrets = rec.Secrets
	}
	old := rec
	rec.Values, rec.Secrets, rec.UpdatedAt = values, secrets, time.Now().UTC()
	progress(Event{Phase: PhaseValidate, Status: "checking the compose file with the new settings"})
	p, err := m.revalidate(ctx, &rec)
	if err != nil {
		m.putSourceBack(&old)
		return fmt.Errorf("change settings of %s: %w", id, err)
	}
	if err := m.db.Put(recordKey(id), rec); err != nil {
		return fmt.Errorf("change settings of %s: record: %w", id, err)
	}
	if !rec.Running {
		progress(say(Event{Phase: PhaseDone, Status: "saved"}, "settings saved; they apply when the app starts"))
		return nil
	}
	if err := m.converge(ctx, &rec, p, progress); err != nil {
		m.db.Put(recordKey(id), old)
		m.putSourceBack(&old)
		if op, perr := m.startProject(context.WithoutCancel(ctx), &old); perr == nil {
			m.converge(context.WithoutCancel(ctx), &old, op, progress)
		}
		return fmt.Errorf("change settings of %s (the old settings were restored): %w", id, err)
	}
	progress(say(Event{Phase: PhaseDone, Status: "reconfigured", URL: rec.URL}, "settings saved; {{.Name}} was recreated with them", "Name", rec.Name))
	return nil
}

// CheckValues checks a user's answers to app's form as Install will
// (required fields, types, unknown keys), so a form can refuse them before
// an install starts.
func CheckValues(app stores.App, values map[string]string) error {
	if _, _, err := resolveValues(app, values); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

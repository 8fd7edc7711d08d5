package appctl

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Move gives an installed app a new address, sub.<domain>. The app is
// recreated when it runs (its APP_DOMAIN and APP_URL change) and published
// at the new address only; the old one stops answering. If the app does not
// come back, it is restored at its old address and the error returned.
func (m *Manager) Move(ctx context.Context, id, sub string, progress func(Event)) error {
	progress = m.stamp(id, progress)
	unlock := m.lock(id)
	defer unlock()
	rec, err := m.get(id)
	if err != nil {
		return fmt.Errorf("move %s: %w", id, err)
	}
	if rec.State != StateInstalled {
		return fmt.Errorf("move %s: %w", id, errorf(nil, "app {{.App}} is {{.State}}, not installed", "App", id, "State", word(rec.State)))
	}
	if err := RefuseManaged(rec, "change its subdomain"); err != nil {
		return fmt.Errorf("move %s: %w", id, err)
	}
	if err := m.CheckSubdomain(id, sub); err != nil {
		return fmt.Errorf("move %s: %w", id, err)
	}
	host := strings.ToLower(strings.TrimSpace(sub)) + "." + m.cfg.Domain
	if host == rec.Host {
		progress(say(Event{Phase: PhaseDone, Status: "unchanged", URL: rec.URL}, "{{.Name}} is already at {{.URL}}", "Name", rec.Name, "URL", rec.URL))
		return nil
	}
	old := rec
	rec.Host, rec.URL, rec.UpdatedAt = host, m.URL(host), time.Now().UTC()
	p, err := m.revalidate(ctx, &rec)
	if err != nil {
		m.putSourceBack(&old)
		return fmt.Errorf("move %s: %w", id, err)
	}
	if err := m.db.Put(recordKey(id), rec); err != nil {
		return fmt.Errorf("move %s: record: %w", id, err)
	}
	e, published := m.reg.Lookup(old.Host)
	m.reg.DeleteApp(id)
	if !rec.Running {
		if published {
			e.Host = rec.Host
			m.reg.Put(e)
		}
		progress(say(Event{Phase: PhaseDone, Status: "moved", URL: rec.URL}, "{{.Name}} will answer at {{.URL}} when started", "Name", rec.Name, "URL", rec.URL))
		return nil
	}
	if err := m.converge(ctx, &rec, p, progress); err != nil {
		m.reg.DeleteApp(id)
		m.db.Put(recordKey(id), old)
		m.putSourceBack(&old)
		if op, perr := m.startProject(context.WithoutCancel(ctx), &old); perr == nil {
			m.converge(context.WithoutCancel(ctx), &old, op, progress)
		}
		return fmt.Errorf("move %s (it stays at %s): %w", id, old.URL, err)
	}
	progress(say(Event{Phase: PhaseDone, Status: "moved", URL: rec.URL}, "{{.Name}} now answers at {{.URL}}", "Name", rec.Name, "URL", rec.URL))
	return nil
}

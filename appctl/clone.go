package appctl

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/stackhub/stackhub/backup"
	"github.com/stackhub/stackhub/stores"
)

// CloneOptions are a user's choices for a clone.
type CloneOptions struct {
	// Snapshot is the backup of the source app to clone; empty: a backup
	// is taken now.
	Snapshot string
	// Subdomain is the clone's first host label; default: its id.
	Subdomain string
}

// Clone brings up newID, an independent copy of app id from one of its
// snapshots: its own folder, volumes, containers and address, so trying
// something on the copy (an update, say) leaves the original alone.
func (m *Manager) Clone(ctx context.Context, id, newID string, opts CloneOptions, progress func(Event)) (Record, error) {
	progress = m.stamp(newID, progress)
	if !stores.ValidID(newID) {
		return Record{}, fmt.Errorf("clone %s: %w: the new id %q must be a DNS label (lower case letters, digits, '-')", id, ErrInvalid, newID)
	}
	sub := newID
	if opts.Subdomain != "" {
		sub = strings.ToLower(opts.Subdomain)
	}
	if !stores.ValidID(sub) || reservedLabels[sub] {
		return Record{}, fmt.Errorf("clone %s: %w: subdomain %q is reserved or not a DNS label", id, ErrTaken, sub)
	}
	host := sub + "." + m.cfg.Domain
	if _, err := m.get(newID); err == nil {
		return Record{}, fmt.Errorf("clone %s: %w: an app %s is already installed; choose another id", id, ErrAlreadyInstalled, newID)
	}
	if other, ok := m.hostOwner(host); ok {
		return Record{}, fmt.Errorf("clone %s: %w: %s is already the address of app %s; choose another with --subdomain", id, ErrTaken, host, other)
	}
	if _, err := os.Stat(m.appDir(newID)); err == nil {
		return Record{}, fmt.Errorf("clone %s: %w: the folder %s exists (data kept from an app removed with --keep-data?): remove it or choose another id", id, ErrAlreadyInstalled, m.appDir(newID))
	}
	repo, err := m.backupRepo()
	if err != nil {
		return Record{}, fmt.Errorf("clone %s: %w", id, err)
	}
	snap := opts.Snapshot
	if snap == "" {
		res, err := m.Backup(ctx, id, "clone", func(e Event) {
			if e.Phase != PhaseDone {
				progress(e)
			}
		})
		if err != nil {
			return Record{}, fmt.Errorf("clone %s: %w", id, err)
		}
		snap = res.Snapshot
	}
	s, err := m.resolveSnapshot(ctx, repo, id, snap)
	if err != nil {
		return Record{}, fmt.Errorf("clone %s: %w", id, err)
	}
	unlock := m.lock(newID)
	defer unlock()
	staging, man, err := m.stage(ctx, repo, s, progress)
	if err != nil {
		return Record{}, fmt.Errorf("clone %s: %w", id, err)
	}
	defer os.RemoveAll(staging)

	now := time.Now().UTC()
	rec := man.Record
	rec.ID, rec.Host, rec.URL, rec.Project = newID, host, m.URL(host), m.cfg.ProjectPrefix+newID
	rec.State, rec.Running, rec.Error = StateInstalling, true, ""
	rec.Note = fmt.Sprintf("a clone of %s from its snapshot %s of %s", id, short(s.ID), s.Time.Format(time.RFC3339))
	rec.InstalledAt, rec.UpdatedAt = now, now
	rec, err = m.bringUp(ctx, rec, staging, man, progress)
	if err != nil {
		return Record{}, fmt.Errorf("clone %s: %w", id, err)
	}
	progress(say(Event{Phase: PhaseDone, Status: "cloned", URL: rec.URL}, "{{.App}} is a copy of {{.From}} at {{.URL}}", "App", newID, "From", id, "URL", rec.URL))
	return rec, nil
}

// bringUp installs rec from a staged snapshot: the app folder and volumes
// from the snapshot, then the containers. The caller holds rec.ID's lock.
// On failure nothing of the new app is left.
func (m *Manager) bringUp(ctx context.Context, rec Record, staging string, man backupManifest, progress func(Event)) (Record, error) {
	// The recorded project names the snapshot's app: its id, project,
	// networks and folders (perhaps on another machine). Here it is checked
	// and recorded again, as at install (project.go).
	rec.Validated = nil
	dir := m.appDir(rec.ID)
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return rec, err
	}
	if err := moveTree(filepath.Join(staging, man.AppDir), dir); err != nil {
		return rec, err
	}
	fail := func(err error) (Record, error) {
		m.rollback(context.WithoutCancel(ctx), &rec, true, progress)
		m.db.Delete(recordKey(rec.ID))
		return Record{}, err
	}
	// Desired state first, as an install: a crash from here on is finished
	// or rolled back by recovery.
	if err := m.db.Put(recordKey(rec.ID), rec); err != nil {
		os.RemoveAll(dir)
		return rec, err
	}
	if err := m.startRestored(ctx, &rec, man, staging, progress); err != nil {
		return fail(err)
	}
	rec.State, rec.UpdatedAt = StateInstalled, time.Now().UTC()
	if err := m.db.Put(recordKey(rec.ID), rec); err != nil {
		return fail(err)
	}
	return rec, nil
}

// RestoreApp brings back an app that is not installed here (a new machine,
// or after its removal) from one of its snapshots (the latest when snap is
// empty): same id and subdomain label, on this StackHub's domain, with its
// data, settings and access policy.
func (m *Manager) RestoreApp(ctx context.Context, id, snap string, progress func(Event)) (Record, error) {
	progress = m.stamp(id, progress)
	unlock := m.lock(id)
	defer unlock()
	if rec, err := m.get(id); err == nil && rec.State != StateFailed {
		return Record{}, fmt.Errorf("restore %s: %w: it is installed; `stackhub apps restore %s` restores it in place", id, ErrAlreadyInstalled, id)
	}
	if _, err := os.Stat(m.appDir(id)); err == nil {
		return Record{}, fmt.Errorf("restore %s: %w: the folder %s exists (data kept from a removal with --keep-data?): move it away first", id, ErrAlreadyInstalled, m.appDir(id))
	}
	repo, err := m.backupRepo()
	if err != nil {
		return Record{}, fmt.Errorf("restore %s: %w", id, err)
	}
	s, err := m.resolveSnapshot(ctx, repo, id, snap)
	if err != nil {
		return Record{}, fmt.Errorf("restore %s: %w", id, err)
	}
	staging, man, err := m.stage(ctx, repo, s, progress)
	if err != nil {
		return Record{}, fmt.Errorf("restore %s: %w", id, err)
	}
	defer os.RemoveAll(staging)
	label, _, _ := strings.Cut(man.Record.Host, ".")
	if label == "" {
		label = id
	}
	host := label + "." + m.cfg.Domain
	if other, ok := m.hostOwner(host); ok && other != id {
		return Record{}, fmt.Errorf("restore %s: %w: %s is already the address of app %s", id, ErrTaken, host, other)
	}
	now := time.Now().UTC()
	rec := man.Record
	rec.ID, rec.Host, rec.URL, rec.Project = id, host, m.URL(host), m.cfg.ProjectPrefix+id
	rec.State, rec.Error = StateInstalling, ""
	rec.Note = fmt.Sprintf("restored from snapshot %s of %s", short(s.ID), s.Time.Format(time.RFC3339))
	rec.InstalledAt, rec.UpdatedAt = now, now
	running := rec.Running
	rec.Running = true
	rec, err = m.bringUp(ctx, rec, staging, man, progress)
	if err != nil {
		return Record{}, fmt.Errorf("restore %s: %w", id, err)
	}
	if !running {
		m.publish(&rec, "")
		m.engine.Stop(ctx, rec.Project, nil, progress)
		rec.Running = false
		m.db.Put(recordKey(id), rec)
	}
	progress(say(Event{Phase: PhaseDone, Status: "restored", URL: rec.URL}, "{{.App}} restored at {{.URL}} from snapshot {{.Snapshot}}", "App", id, "URL", rec.URL, "Snapshot", short(s.ID)))
	return rec, nil
}

// BackupRepo is the configured backup repository, password included.
func (m *Manager) BackupRepo() (backup.Repo, error) { return m.backupRepo() }

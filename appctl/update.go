package appctl

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/client"
	"go.uber.org/zap"

	"github.com/stackhub/stackhub/stores"
)

// UpdateResult reports an update.
type UpdateResult struct {
	App  string `json:"app"`
	From string `json:"from"`
	To   string `json:"to"`
	// Backup is the snapshot taken before the update.
	Backup string `json:"backup"`
	// Downtime is how long the app was unreachable: from stop to healthy
	// (or, after a rollback, to the old version healthy again).
	Downtime   time.Duration `json:"downtime"`
	RolledBack bool          `json:"rolled_back,omitempty"`
}

// UpdateError is an update that failed and was rolled back: why, and the
// last log lines of the services that failed.
type UpdateError struct {
	App, From, To string
	Reason        error
	Logs          string
	RolledBack    bool
	RollbackErr   error
}

func (e *UpdateError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "update %s from %s to %s failed: %v", e.App, orUnknown(e.From), orUnknown(e.To), e.Reason)
	if e.RolledBack {
		fmt.Fprintf(&b, "\nit was rolled back: version %s runs again with its data as it was before the update", orUnknown(e.From))
	} else if e.RollbackErr != nil {
		fmt.Fprintf(&b, "\nthe rollback failed too (%v): `stackhub apps restore %s` puts the pre-update backup back", e.RollbackErr, e.App)
	}
	if e.Logs != "" {
		fmt.Fprintf(&b, "\nlast log lines of the failing services:\n%s", e.Logs)
	}
	return b.String()
}

func (e *UpdateError) Unwrap() error { return e.Reason }

func orUnknown(v string) string {
	if v == "" {
		return "(unknown version)"
	}
	return v
}

// keptImage is an image an update keeps for its rollback: the image of
// service, known as Image in the old project, tagged Tag.
type keptImage struct {
	Service string `json:"service"`
	Image   string `json:"image"`
	Tag     string `json:"tag"`
}

// Update phases, recorded before each step (see recoverUpdate).
const (
	updBackup    = "backup"     // taking the pre-update backup: nothing changed yet
	updKept      = "kept"       // backup taken, old images tagged
	updPulled    = "pulled"     // new source written, images present; old app still runs
	updRecreate  = "recreating" // the old app is stopped; from here a crash rolls back with the data
	updRollback  = "rolling-back"
	updRolledBak = "rolled-back"
)

// Update replaces an installed app by app (a newer version from its
// store): backup first (the update is not tried without one), then the new
// images, then the new containers, then health and the web UI. When the
// new version fails, the old one comes back by itself, with its data as it
// was before the update.
func (m *Manager) Update(ctx context.Context, app stores.App, progress func(Event)) (UpdateResult, error) {
	id := app.ID
	progress = m.stamp(id, progress)
	unlock := m.lock(id)
	defer unlock()
	res := UpdateResult{App: id, To: app.Version}
	old, err := m.get(id)
	if err != nil {
		return res, fmt.Errorf("update %s: %w", id, err)
	}
	res.From = old.Version
	if old.State != StateInstalled {
		return res, fmt.Errorf("update %s: %w", id, errorf(nil, "the app is {{.State}}, not installed", "State", word(old.State)))
	}
	if app.Unavailable != "" {
		return res, fmt.Errorf("update %s: %w: %s", id, ErrInvalid, app.Unavailable)
	}
	given := map[string]string{}
	known := map[string]bool{}
	for _, f := range app.Fields {
		known[f.Key] = true
	}
	for k, v := range old.Values {
		if len(app.Fields) == 0 || known[k] {
			given[k] = v
		}
	}
	values, secrets, err := resolveValues(app, given)
	if err != nil {
		return res, fmt.Errorf("update %s: %w: %w", id, ErrInvalid, err)
	}
	values = withValues(values, platformValues(app.Fields, old.Values, given))
	secrets = addSecrets(secrets, old.Secrets...)
	next := old
	next.Name, next.Version, next.Store = app.Name, app.Version, app.Store
	next.MainSvc, next.MainPort, next.MainScheme = app.MainService, app.MainPort, app.MainScheme
	next.Compose, next.Files, next.Seed, next.Values, next.Secrets = app.Compose, app.Files, app.Seed, values, secrets
	next.Note, next.Error = "", ""
	// An update brings the app up: a stopped app is running afterwards.
	next.Running = true

	// a. The backup: without one there is no way back, so no update.
	op := &opRecord{Kind: "update", Old: old, Started: time.Now().UTC()}
	if err := m.putOp(id, op, updBackup); err != nil {
		return res, fmt.Errorf("update %s: %w", id, err)
	}
	failpoint("update-before-backup")
	progress(Event{Phase: PhaseBackup, Status: "backing the app up before the update"})
	b, err := m.backupLocked(ctx, &old, "pre-update", progress)
	m.recordBackupStatus(id, "pre-update", b.Snapshot, err)
	if err != nil {
		m.db.Delete(opKey(id))
		return res, fmt.Errorf("update %s: the backup before the update failed, so the app was not updated (it runs as before): %w", id, err)
	}
	res.Backup, op.Snapshot = b.Snapshot, b.Snapshot
	if op.Images, err = m.keepImages(ctx, &old); err != nil {
		m.db.Delete(opKey(id))
		return res, fmt.Errorf("update %s: keep the current images: %w", id, err)
	}
	if err := m.putOp(id, op, updKept); err != nil {
		m.abandonUpdate(ctx, id, op)
		return res, fmt.Errorf("update %s: %w", id, err)
	}
	failpoint("update-after-backup")

	// b. The new project and its images, while the old version still runs.
	progress(Event{Phase: PhaseValidate, Status: "checking the new version's compose file"})
	// The new version is checked and recorded as an install is
	// (project.go), and its mounts checked against the host before anything
	// stops.
	p, err := m.revalidate(ctx, &next)
	if err == nil {
		err = ensureImages(ctx, m.engine.Docker(), p, progress)
	}
	if err != nil {
		m.abandonUpdate(ctx, id, op)
		return res, fmt.Errorf("update %s: %w (the app was not changed)", id, err)
	}
	if err := m.putOp(id, op, updPulled); err != nil {
		m.abandonUpdate(ctx, id, op)
		return res, fmt.Errorf("update %s: %w", id, err)
	}
	failpoint("update-after-pull")

	// c. Stop, recreate, wait.
	if err := m.putOp(id, op, updRecreate); err != nil {
		m.abandonUpdate(ctx, id, op)
		return res, fmt.Errorf("update %s: %w", id, err)
	}
	progress(Event{Phase: PhaseCompose, Status: "stopping the current version"})
	stopped := time.Now()
	if err := m.stopApp(ctx, &old, progress); err != nil {
		m.log.Warn("update: stop the old version", zap.String("app", id), zap.Error(err))
	}
	failpoint("update-after-stop")
	next.UpdatedAt = time.Now().UTC()
	if err := m.db.Put(recordKey(id), next); err != nil {
		return res, m.rollbackUpdate(ctx, id, op, &UpdateError{App: id, From: old.Version, To: app.Version, Reason: err}, &res, stopped, progress)
	}
	if _, err = m.createVolumes(ctx, &next, p); err == nil {
		if err = m.converge(ctx, &next, p, progress); err == nil {
			err = m.waitHealthy(ctx, &next)
		}
	} else {
		err = fmt.Errorf("volumes: %w", err)
	}
	failpoint("update-after-up")
	if err != nil {
		ue := &UpdateError{App: id, From: old.Version, To: app.Version, Reason: err, Logs: m.failingLogs(context.WithoutCancel(ctx), &next)}
		return res, m.rollbackUpdate(context.WithoutCancel(ctx), id, op, ue, &res, stopped, progress)
	}
	res.Downtime = time.Since(stopped)
	m.finishOp(id, op)
	progress(say(Event{Phase: PhaseDone, Status: "updated", URL: next.URL},
		"{{.App}} updated from {{.From}} to {{.To}}; it was unreachable for {{.Downtime}} (backup {{.Snapshot}})", "App", id, "From", orUnknown(old.Version), "To", orUnknown(app.Version), "Downtime", res.Downtime.Round(time.Millisecond), "Snapshot", short(b.Snapshot)))
	return res, nil
}

// abandonUpdate ends an update that had not stopped the app yet: the old
// source files are written back and the kept image tags dropped.
func (m *Manager) abandonUpdate(ctx context.Context, id string, op *opRecord) {
	old := op.Old
	m.db.Put(recordKey(id), old)
	m.putSourceBack(&old)
	m.dropKeptImages(ctx, op)
	m.db.Delete(opKey(id))
}

// rollbackUpdate brings the old version back: its images under their old
// names, its record and project, and its data from the pre-update backup
// (the new version may have migrated it).
func (m *Manager) rollbackUpdate(ctx context.Context, id string, op *opRecord, ue *UpdateError, res *UpdateResult, stopped time.Time, progress func(Event)) error {
	progress(sayError(Event{Phase: PhaseRestore, Status: "the new version failed; rolling back"}, ue.Reason))
	if err := m.restoreOldVersion(ctx, id, op, progress); err != nil {
		ue.RollbackErr = err
		m.log.Error("update rollback failed", zap.String("app", id), zap.Error(err))
		return ue
	}
	ue.RolledBack, res.RolledBack = true, true
	res.Downtime = time.Since(stopped)
	m.noteRecord(id, fmt.Sprintf("the update to %s failed at %s and was rolled back: %v", orUnknown(ue.To), time.Now().UTC().Format(time.RFC3339), firstLine(ue.Reason.Error())))
	progress(say(Event{Phase: PhaseRestore, Status: "rolled back"}, "version {{.Version}} runs again; it was unreachable for {{.Downtime}}", "Version", orUnknown(ue.From), "Downtime", res.Downtime.Round(time.Millisecond)))
	return ue
}

// restoreOldVersion is the rollback proper; recovery runs it too, so each
// step can be done again after a crash in the middle of it.
func (m *Manager) restoreOldVersion(ctx context.Context, id string, op *opRecord, progress func(Event)) error {
	if err := m.putOp(id, op, updRollback); err != nil {
		return err
	}
	m.reg.DeleteApp(id)
	if op.Staging != "" {
		os.RemoveAll(op.Staging) // of an attempt a crash interrupted
		op.Staging = ""
	}
	// The new version's containers go (its volumes stay: they are refilled).
	if err := m.engine.Down(ctx, op.Old.Project, nil, false, progress); err != nil {
		return fmt.Errorf("remove the new version's containers: %w", err)
	}
	failpoint("update-rollback-after-down")
	for _, k := range op.Images {
		if _, err := m.engine.Docker().ImageTag(ctx, client.ImageTagOptions{Source: k.Tag, Target: k.Image}); err != nil {
			return fmt.Errorf("put image %s back: %w", k.Image, err)
		}
	}
	old := op.Old
	old.UpdatedAt = time.Now().UTC()
	if err := m.db.Put(recordKey(id), old); err != nil {
		return err
	}
	repo, err := m.backupRepo()
	if err != nil {
		return err
	}
	snap, err := repo.Snapshot(ctx, op.Snapshot, appTag(id))
	if err != nil {
		return err
	}
	staging, man, err := m.stage(ctx, repo, snap, progress)
	if err != nil {
		return err
	}
	op.Staging = staging
	if err := m.putOp(id, op, updRollback); err != nil {
		return err
	}
	if err := m.swapIn(ctx, id, op, man, false); err != nil {
		return err
	}
	failpoint("update-rollback-after-swap")
	if old.Running {
		if err := m.startRestored(ctx, &old, man, staging, progress); err != nil {
			return fmt.Errorf("start the old version: %w", err)
		}
	} else {
		m.putSourceBack(&old)
		m.publish(&old, "")
	}
	m.putOp(id, op, updRolledBak)
	m.finishOp(id, op)
	return nil
}

// recoverUpdate handles an update a crash interrupted: before the old
// version was stopped, the update is abandoned (nothing had changed);
// after, it is rolled back, data included.
func (m *Manager) recoverUpdate(ctx context.Context, id string, op *opRecord, progress func(Event)) {
	switch op.Phase {
	case updBackup, updKept, updPulled:
		m.abandonUpdate(ctx, id, op)
		m.noteRecord(id, fmt.Sprintf("an update was interrupted by a restart of StackHub at %s before the app was stopped; the app was left as it was", op.Started.Format(time.RFC3339)))
	case updRolledBak:
		m.finishOp(id, op)
	default:
		if err := m.restoreOldVersion(ctx, id, op, progress); err != nil {
			m.log.Error("roll back an interrupted update", zap.String("app", id), zap.Error(err))
			m.noteRecord(id, fmt.Sprintf("an update was interrupted by a restart and its rollback failed (%v): `stackhub apps restore %s %s` puts the pre-update backup back", err, id, short(op.Snapshot)))
			return
		}
		m.noteRecord(id, fmt.Sprintf("an update was interrupted by a restart of StackHub at %s; it was rolled back, data included", op.Started.Format(time.RFC3339)))
	}
}

var unsafeRef = regexp.MustCompile(`[^a-z0-9._-]+`)

// keepImages tags the image each container of the app runs, so an update
// that pulls a new image under the same name can still go back.
func (m *Manager) keepImages(ctx context.Context, rec *Record) ([]keptImage, error) {
	cs, err := m.engine.Ps(ctx, rec.Project)
	if err != nil {
		return nil, err
	}
	stamp := strconv.FormatInt(time.Now().Unix(), 10)
	var out []keptImage
	seen := map[string]bool{}
	for _, c := range cs {
		if seen[c.Service] {
			continue
		}
		seen[c.Service] = true
		insp, err := m.engine.Docker().ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
		if err != nil {
			return out, fmt.Errorf("inspect %s: %w", c.Name, err)
		}
		if insp.Container.Config == nil {
			continue
		}
		tag := "stackhub-rollback/" + rec.ID + "/" + strings.Trim(unsafeRef.ReplaceAllString(strings.ToLower(c.Service), "-"), "-._") + ":" + stamp
		if _, err := m.engine.Docker().ImageTag(ctx, client.ImageTagOptions{Source: insp.Container.Image, Target: tag}); err != nil {
			return out, fmt.Errorf("tag the image of %s: %w", c.Service, err)
		}
		out = append(out, keptImage{Service: c.Service, Image: insp.Container.Config.Image, Tag: tag})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Service < out[j].Service })
	return out, nil
}

func (m *Manager) dropKeptImages(ctx context.Context, op *opRecord) {
	for _, k := range op.Images {
		m.engine.Docker().ImageRemove(ctx, k.Tag, client.ImageRemoveOptions{})
	}
}

// failingLogs is the last lines of the services that are not running and
// healthy.
func (m *Manager) failingLogs(ctx context.Context, rec *Record) string {
	cs, err := m.engine.Ps(ctx, rec.Project)
	if err != nil {
		return ""
	}
	var failing []string
	for _, c := range cs {
		if c.State != "running" || (c.Health != "" && c.Health != "healthy") {
			failing = append(failing, c.Service)
		}
	}
	if len(failing) == 0 {
		failing = []string{rec.MainSvc}
	}
	var b bytes.Buffer
	lctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	m.engine.Logs(lctx, rec.Project, LogOptions{Tail: "20", Services: failing}, &b)
	return strings.TrimRight(b.String(), "\n")
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// waitHealthy waits until every container of the app runs, and those with a
// healthcheck report healthy. Compose's own wait is the first line; this
// one makes sure an update or a restore is judged on the containers that
// run now, after the recreation.
func (m *Manager) waitHealthy(ctx context.Context, rec *Record) error {
	return m.poll(ctx, 500*time.Millisecond, func() (bool, error) {
		cs, err := m.engine.Ps(ctx, rec.Project)
		if err != nil {
			return false, err
		}
		ready := len(cs) > 0
		for _, c := range cs {
			switch {
			case c.State == "exited" || c.State == "dead":
				return false, fmt.Errorf("service %s stopped (exit code %d): `stackhub apps logs %s` shows why", c.Service, c.ExitCode, rec.ID)
			case c.Health == "unhealthy":
				return false, fmt.Errorf("service %s is unhealthy: its healthcheck fails", c.Service)
			case c.State != "running" || (c.Health != "" && c.Health != "healthy"):
				ready = false
			}
		}
		return ready, nil
	}, func() error {
		return fmt.Errorf("the app was not healthy within %s", m.cfg.WaitTimeout)
	})
}

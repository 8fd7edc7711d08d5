package appctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/compose/v5/pkg/api"
	"github.com/moby/moby/client"
	"go.uber.org/zap"

	"github.com/stackhub/stackhub/backup"
	"github.com/stackhub/stackhub/internal/kv"
)

// opRecord is a restore or an update in progress, kept in kv under
// "ops/<app>" and written before each step: after a crash, recovery reads
// it and puts the app back as it was before the operation (or finishes the
// clean-up of one that was done), so an app is never left half restored
// or half updated.
type opRecord struct {
	Kind  string `json:"kind"` // "restore" or "update"
	Phase string `json:"phase"`
	// Old is the app's record before the operation.
	Old Record `json:"old"`
	// Snapshot is the snapshot restored, or the pre-update backup.
	Snapshot string `json:"snapshot,omitempty"`
	// Staging is where the snapshot was restored to.
	Staging string `json:"staging,omitempty"`
	// Aside holds what a restore moved out of the way: the app folder and
	// each volume's contents, each with the path it came from.
	Aside []asidePath `json:"aside,omitempty"`
	// Images are the tags keeping an update's old images.
	Images  []keptImage `json:"images,omitempty"`
	Started time.Time   `json:"started"`
}

type asidePath struct {
	Live  string `json:"live"`
	Aside string `json:"aside"`
}

// putBackAside moves what an operation put aside back to its live path,
// replacing what the operation left there; what was never moved aside
// stays (the live one is the old one). what names the operation in the log.
func (m *Manager) putBackAside(what, id string, aside []asidePath) {
	for _, a := range aside {
		if _, err := os.Stat(a.Aside); err != nil {
			continue
		}
		os.RemoveAll(a.Live)
		if err := os.Rename(a.Aside, a.Live); err != nil {
			m.log.Error(what+": put back", zap.String("app", id), zap.String("path", a.Live), zap.Error(err))
		}
	}
}

const (
	opDone = "done"
)

func opKey(id string) string { return "ops/" + id }

func (m *Manager) putOp(id string, op *opRecord, phase string) error {
	op.Phase = phase
	if err := m.db.Put(opKey(id), op); err != nil {
		return fmt.Errorf("record %s phase %s: %w", op.Kind, phase, err)
	}
	return nil
}

// RestoreResult reports a restore in place.
type RestoreResult struct {
	App      string        `json:"app"`
	Snapshot string        `json:"snapshot"`
	Downtime time.Duration `json:"downtime"`
}

// resolveSnapshot finds the snapshot of app id to use: snap (an id or a
// prefix), or the latest when empty.
func (m *Manager) resolveSnapshot(ctx context.Context, repo backup.Repo, id, snap string) (backup.Snapshot, error) {
	if snap == "" || snap == "latest" {
		snaps, err := repo.Snapshots(ctx, appTag(id))
		if err != nil {
			return backup.Snapshot{}, err
		}
		if len(snaps) == 0 {
			return backup.Snapshot{}, fmt.Errorf("%w: app %s has no backup in %s; `stackhub apps backup %s` takes one", backup.ErrNoSnapshot, id, repo.Redacted(), id)
		}
		return snaps[len(snaps)-1], nil
	}
	return repo.Snapshot(ctx, snap, appTag(id))
}

// stage restores snapshot snap into a new staging folder of the data
// folder and reads its manifest.
func (m *Manager) stage(ctx context.Context, repo backup.Repo, snap backup.Snapshot, progress func(Event)) (string, backupManifest, error) {
	var man backupManifest
	staging := filepath.Join(m.cfg.DataDir, "staging", snap.Tag("app")+"-"+short(snap.ID)+"-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	progress(Event{Phase: PhaseRestore, Status: "restoring the snapshot into a staging folder", Resource: short(snap.ID)})
	if err := repo.Restore(ctx, snap.ID, staging); err != nil {
		os.RemoveAll(staging)
		return "", man, err
	}
	for _, p := range snap.Paths {
		b, err := os.ReadFile(filepath.Join(staging, p, manifestName))
		if err != nil {
			continue
		}
		if err := json.Unmarshal(b, &man); err != nil {
			os.RemoveAll(staging)
			return "", man, fmt.Errorf("snapshot %s: read its manifest: %w", short(snap.ID), err)
		}
		return staging, man, nil
	}
	os.RemoveAll(staging)
	return "", man, fmt.Errorf("snapshot %s is not a StackHub app backup (no %s in it)", short(snap.ID), manifestName)
}

// Restore puts an installed app back as it was in a snapshot (the latest
// when snap is empty). The app's current folder and volumes are kept aside
// until the restored app is healthy; if it is not, they are put back.
func (m *Manager) Restore(ctx context.Context, id, snap string, progress func(Event)) (RestoreResult, error) {
	progress = m.stamp(id, progress)
	unlock := m.lock(id)
	defer unlock()
	res := RestoreResult{App: id}
	rec, err := m.get(id)
	if err != nil {
		return res, fmt.Errorf("restore %s: %w", id, err)
	}
	if rec.State != StateInstalled {
		return res, fmt.Errorf("restore %s: %w", id, errorf(nil, "the app is {{.State}}, not installed", "State", word(rec.State)))
	}
	repo, err := m.backupRepo()
	if err != nil {
		return res, fmt.Errorf("restore %s: %w", id, err)
	}
	s, err := m.resolveSnapshot(ctx, repo, id, snap)
	if err != nil {
		return res, fmt.Errorf("restore %s: %w", id, err)
	}
	res.Snapshot = s.ID
	staging, man, err := m.stage(ctx, repo, s, progress)
	if err != nil {
		return res, fmt.Errorf("restore %s: %w", id, err)
	}
	op := &opRecord{Kind: "restore", Old: rec, Snapshot: s.ID, Staging: staging, Started: time.Now().UTC()}
	if err := m.putOp(id, op, "staged"); err != nil {
		os.RemoveAll(staging)
		return res, fmt.Errorf("restore %s: %w", id, err)
	}
	failpoint("restore-after-stage")

	progress(Event{Phase: PhaseRestore, Status: "stopping the app"})
	stopped := time.Now()
	if err := m.stopApp(ctx, &rec, progress); err != nil {
		m.undoRestore(context.WithoutCancel(ctx), id, op, progress)
		return res, fmt.Errorf("restore %s: stop the app: %w", id, err)
	}
	failpoint("restore-after-stop")
	progress(Event{Phase: PhaseRestore, Status: "swapping the restored data in; the current data is kept aside"})
	if err := m.swapIn(ctx, id, op, man, true); err != nil {
		m.undoRestore(context.WithoutCancel(ctx), id, op, progress)
		return res, fmt.Errorf("restore %s: %w", id, err)
	}
	failpoint("restore-after-swap")

	restored := man.Record
	restored.ID, restored.Host, restored.URL, restored.Project = rec.ID, rec.Host, rec.URL, rec.Project
	restored.State, restored.Running, restored.Note, restored.Error = StateInstalled, true, "", ""
	restored.InstalledAt, restored.UpdatedAt = rec.InstalledAt, time.Now().UTC()
	if err := m.db.Put(recordKey(id), restored); err != nil {
		m.undoRestore(context.WithoutCancel(ctx), id, op, progress)
		return res, fmt.Errorf("restore %s: %w", id, err)
	}
	if err := m.putOp(id, op, "started"); err != nil {
		m.undoRestore(context.WithoutCancel(ctx), id, op, progress)
		return res, fmt.Errorf("restore %s: %w", id, err)
	}
	if err := m.startRestored(ctx, &restored, man, staging, progress); err != nil {
		progress(sayError(Event{Phase: PhaseRestore, Status: "the restored app is not healthy; putting the app back as it was"}, err))
		m.undoRestore(context.WithoutCancel(ctx), id, op, progress)
		return res, fmt.Errorf("restore %s: the restored app did not become healthy, so the app was put back as it was before: %w", id, err)
	}
	res.Downtime = time.Since(stopped)
	failpoint("restore-before-done")
	if !rec.Running {
		// It was checked healthy; it goes back to the stopped state it had.
		m.stopApp(ctx, &restored, progress)
		restored.Running = false
		m.db.Put(recordKey(id), restored)
	}
	m.finishOp(id, op)
	progress(say(Event{Phase: PhaseDone, Status: "restored", URL: restored.URL},
		"{{.App}} restored from snapshot {{.Snapshot}} of {{.Time}}; it was down {{.Downtime}}", "App", id, "Snapshot", short(s.ID), "Time", s.Time.Format(time.RFC3339), "Downtime", res.Downtime.Round(time.Millisecond)))
	return res, nil
}

// stopApp unpublishes and stops an app's containers.
func (m *Manager) stopApp(ctx context.Context, rec *Record, progress func(Event)) error {
	m.publish(rec, "")
	p, err := m.recordedProject(ctx, rec)
	if err != nil {
		p = nil
	}
	return m.engine.Stop(ctx, rec.Project, p, progress)
}

// startRestored brings up an app whose folder and volumes were just
// restored, then loads its hook's dump back when it has one.
func (m *Manager) startRestored(ctx context.Context, rec *Record, man backupManifest, staging string, progress func(Event)) error {
	// startProject runs the recorded project, or checks and records it
	// anew (a clone, another machine): the hazard check runs on the project
	// as the app declared it, never on the rewritten one.
	p, err := m.startProject(ctx, rec)
	if err != nil {
		return err
	}
	created, err := m.createVolumes(ctx, rec, p)
	if err != nil {
		return err
	}
	if err := m.fillVolumes(ctx, rec.Project, staging, man, created); err != nil {
		return err
	}
	if err := m.converge(ctx, rec, p, progress); err != nil {
		return err
	}
	if err := m.waitHealthy(ctx, rec); err != nil {
		return err
	}
	if !man.Hooked {
		return nil
	}
	hook, err := backupHook(rec.Compose)
	if err != nil || hook == nil || len(hook.Restore.Command) == 0 {
		return err
	}
	progress(Event{Phase: PhaseRestore, Status: "loading the backup hook's dump", Resource: hook.Restore.Service})
	root, err := os.OpenRoot(filepath.Join(m.appDir(rec.ID), "data"))
	if err != nil {
		return err
	}
	defer root.Close()
	f, err := root.Open(hook.Dump.Output)
	if err != nil {
		return fmt.Errorf("the snapshot has no dump at %s: %w", hook.Dump.Output, err)
	}
	defer f.Close()
	return m.execIn(ctx, rec, hook.Restore.Service, hook.Restore.Command, f, discard{})
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }

// swapIn moves the staged snapshot's app folder and volume contents into
// place. With keepAside the current ones are moved aside (recorded in op
// first, so recovery can put them back); without, they are deleted (an
// update's rollback: the current data is the failed version's).
func (m *Manager) swapIn(ctx context.Context, id string, op *opRecord, man backupManifest, keepAside bool) error {
	stamp := strconv.FormatInt(time.Now().UnixNano(), 36)
	appLive := m.appDir(id)
	type move struct{ from, live string }
	moves := []move{{filepath.Join(op.Staging, man.AppDir), appLive}}
	current, err := m.appVolumes(ctx, op.Old.Project)
	if err != nil {
		return err
	}
	byKey := map[string]volumeCopy{}
	for _, v := range current {
		byKey[v.Key] = v
	}
	for _, v := range man.Volumes {
		cur, ok := byKey[v.Key]
		if !ok {
			// A volume the running app no longer has: it is created when
			// the restored project comes up, and filled there.
			continue
		}
		moves = append(moves, move{filepath.Join(op.Staging, v.Path), cur.Path})
	}
	if keepAside {
		op.Aside = nil
		for _, mv := range moves {
			op.Aside = append(op.Aside, asidePath{Live: mv.live, Aside: mv.live + ".pre-restore-" + stamp})
		}
		if err := m.putOp(id, op, "swapping"); err != nil {
			return err
		}
	}
	for i, mv := range moves {
		if keepAside {
			if err := os.Rename(mv.live, op.Aside[i].Aside); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("move %s aside: %w", mv.live, err)
			}
		} else if err := os.RemoveAll(mv.live); err != nil {
			return fmt.Errorf("clear %s: %w", mv.live, err)
		}
		if err := moveTree(mv.from, mv.live); err != nil {
			return err
		}
	}
	return nil
}

// createVolumes creates the named volumes of p that do not exist, labelled
// as Compose labels its own (project and key, no config hash, so Compose
// adopts them as they are). It returns the keys of the volumes it created.
func (m *Manager) createVolumes(ctx context.Context, rec *Record, p *types.Project) (map[string]bool, error) {
	docker := m.engine.Docker()
	created := map[string]bool{}
	for key, v := range p.Volumes {
		if v.External {
			continue
		}
		if _, err := docker.VolumeInspect(ctx, v.Name, client.VolumeInspectOptions{}); err == nil {
			continue
		} else if !isNotFound(err) {
			return created, fmt.Errorf("inspect volume %s: %w", v.Name, err)
		}
		labels := map[string]string{}
		for k, val := range v.Labels {
			labels[k] = val
		}
		labels[api.ProjectLabel] = rec.Project
		labels[api.VolumeLabel] = key
		labels[api.VersionLabel] = api.ComposeVersion
		labels[LabelApp] = rec.ID
		labels[LabelInstance] = m.cfg.Instance
		driver := v.Driver
		if driver == "" {
			driver = "local"
		}
		if _, err := docker.VolumeCreate(ctx, client.VolumeCreateOptions{Name: v.Name, Driver: driver, DriverOpts: v.DriverOpts, Labels: labels}); err != nil {
			return created, fmt.Errorf("create volume %s: %w", v.Name, err)
		}
		created[key] = true
	}
	return created, nil
}

// fillVolumes moves each volume of the staged snapshot whose key is in keys
// into the volume with the same key of project (which must exist, unused).
func (m *Manager) fillVolumes(ctx context.Context, project, staging string, man backupManifest, keys map[string]bool) error {
	if len(keys) == 0 {
		return nil
	}
	current, err := m.appVolumes(ctx, project)
	if err != nil {
		return err
	}
	byKey := map[string]volumeCopy{}
	for _, v := range current {
		byKey[v.Key] = v
	}
	for _, v := range man.Volumes {
		if !keys[v.Key] {
			continue
		}
		cur, ok := byKey[v.Key]
		if !ok {
			return fmt.Errorf("volume %s of the snapshot has no counterpart in project %s", v.Key, project)
		}
		if err := os.RemoveAll(cur.Path); err != nil {
			return err
		}
		if err := moveTree(filepath.Join(staging, v.Path), cur.Path); err != nil {
			return err
		}
	}
	return nil
}

// moveTree moves folder from to to (which must not exist): a rename when
// both are on one file system, else a copy that keeps owners, modes and
// times (cp -a), then the source is removed.
func moveTree(from, to string) error {
	if _, err := os.Stat(from); errors.Is(err, os.ErrNotExist) {
		// An empty volume or folder is not in the snapshot.
		return os.MkdirAll(to, 0o755)
	}
	if err := os.Rename(from, to); err == nil {
		return nil
	}
	if out, err := exec.Command("cp", "-a", "--", from, to).CombinedOutput(); err != nil {
		os.RemoveAll(to)
		return fmt.Errorf("copy %s to %s: %v: %s", from, to, err, strings.TrimSpace(string(out)))
	}
	return os.RemoveAll(from)
}

// undoRestore puts an app back as it was before a restore: its folder and
// volumes from aside, its old record, its containers. It is also what
// recovery does with a restore a crash interrupted.
func (m *Manager) undoRestore(ctx context.Context, id string, op *opRecord, progress func(Event)) {
	m.reg.DeleteApp(id)
	if err := m.engine.Stop(ctx, op.Old.Project, nil, progress); err != nil {
		m.log.Warn("undo restore: stop", zap.String("app", id), zap.Error(err))
	}
	m.putBackAside("undo restore", id, op.Aside)
	old := op.Old
	old.UpdatedAt = time.Now().UTC()
	if err := m.db.Put(recordKey(id), old); err != nil {
		m.log.Error("undo restore: record", zap.String("app", id), zap.Error(err))
	}
	if old.Running {
		p, err := m.startProject(ctx, &old)
		if err == nil {
			err = m.converge(ctx, &old, p, progress)
		}
		if err != nil {
			m.log.Error("undo restore: start the app again", zap.String("app", id), zap.Error(err))
		}
	} else {
		m.publish(&old, "")
	}
	os.RemoveAll(op.Staging)
	m.db.Delete(opKey(id))
}

// finishOp marks an operation done and removes what it kept aside.
func (m *Manager) finishOp(id string, op *opRecord) {
	if err := m.putOp(id, op, opDone); err != nil {
		m.log.Error("record done", zap.String("app", id), zap.Error(err))
	}
	m.cleanupOp(id, op)
}

func (m *Manager) cleanupOp(id string, op *opRecord) {
	for _, a := range op.Aside {
		os.RemoveAll(a.Aside)
	}
	if op.Staging != "" {
		os.RemoveAll(op.Staging)
	}
	m.dropKeptImages(context.Background(), op)
	m.db.Delete(opKey(id))
}

// recoverOps finishes or undoes the restores and updates a crash
// interrupted; Reconcile calls it first, under each app's lock.
func (m *Manager) recoverOps(ctx context.Context) {
	keys, err := m.db.Keys("ops/")
	if err != nil {
		return
	}
	for _, k := range keys {
		id := strings.TrimPrefix(k, "ops/")
		var op opRecord
		if err := m.db.Get(k, &op); err != nil {
			if errors.Is(err, kv.ErrNotFound) {
				continue
			}
			m.log.Error("read interrupted operation", zap.String("app", id), zap.Error(err))
			continue
		}
		unlock := m.lock(id)
		log := m.log.With(zap.String("app", id), zap.String("operation", op.Kind), zap.String("phase", op.Phase))
		progress := func(e Event) {}
		switch {
		case op.Phase == opDone:
			log.Info("cleaning up after an operation that was done before a restart")
			m.cleanupOp(id, &op)
		case op.Kind == "restore":
			log.Warn("a restore was interrupted by a restart; putting the app back as it was before it")
			m.undoRestore(ctx, id, &op, progress)
			m.noteRecord(id, fmt.Sprintf("a restore of snapshot %s was interrupted by a restart of StackHub at %s; the app was put back as it was before it", short(op.Snapshot), op.Started.Format(time.RFC3339)))
		case op.Kind == "move":
			// The record still names the old node (it changes last): put
			// back what the restore on this disk moved aside.
			log.Warn("a move was interrupted by a restart; the app stays where it was")
			m.undoMoveData(id, &op)
		case op.Kind == "update":
			log.Warn("an update was interrupted by a restart; rolling it back")
			m.recoverUpdate(ctx, id, &op, progress)
		}
		unlock()
	}
}

func (m *Manager) noteRecord(id, note string) {
	var rec Record
	if m.db.Get(recordKey(id), &rec) == nil {
		rec.Note = note
		m.db.Put(recordKey(id), rec)
	}
}

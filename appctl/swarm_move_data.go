package appctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/client"

	"github.com/stackhub/stackhub/backup"
)

// NodeData reaches an app's data (its data folder and named volumes) on
// one swarm node: the steps of a move with data that differ between the
// manager's own disk, which StackHub reads and writes directly, and
// another node's, reached by one-shot Swarm jobs running restic there
// (docs/SWARM.md, "Moving an app"). The app is stopped while it is used.
type NodeData interface {
	// Backup takes a snapshot of the app's data on node.
	Backup(ctx context.Context, node string, rec *Record, progress func(Event)) (MoveSnapshot, error)
	// Restore puts the snapshot's data in place on node. undo puts back
	// what was there before; done drops it (the move succeeded).
	Restore(ctx context.Context, node string, rec *Record, snap MoveSnapshot, progress func(Event)) (undo, done func(context.Context), err error)
	// Clear deletes the app's data on node: the copy a move left behind.
	Clear(ctx context.Context, node string, rec *Record) error
}

// MoveSnapshot is the backup a move takes: its restic ID and its manifest
// (where the data folder and each volume are in it).
type MoveSnapshot struct {
	ID       string
	Manifest backupManifest
}

// nodeData is the NodeData of a live swarm: the manager's disk directly,
// other nodes through restic jobs. Tests replace it (Manager.sw.data).
type nodeData struct{ m *Manager }

func (d nodeData) pick(node string) NodeData {
	if node == "" || node == d.m.sw.manager {
		return localData{d.m}
	}
	return jobData{d.m}
}

func (d nodeData) Backup(ctx context.Context, node string, rec *Record, progress func(Event)) (MoveSnapshot, error) {
	return d.pick(node).Backup(ctx, node, rec, progress)
}

func (d nodeData) Restore(ctx context.Context, node string, rec *Record, snap MoveSnapshot, progress func(Event)) (func(context.Context), func(context.Context), error) {
	return d.pick(node).Restore(ctx, node, rec, snap, progress)
}

func (d nodeData) Clear(ctx context.Context, node string, rec *Record) error {
	return d.pick(node).Clear(ctx, node, rec)
}

// localData is the app's data on the manager's own disk (on one engine,
// the only disk): the backup is the app's usual backup, the restore the
// usual staged restore limited to the data folder and the volumes.
type localData struct{ m *Manager }

// Backup runs the app's usual backup (backupLocked) with reason "move".
// The app is already stopped: the snapshot is consistent without a hook.
func (d localData) Backup(ctx context.Context, _ string, rec *Record, progress func(Event)) (MoveSnapshot, error) {
	stopped := *rec
	stopped.Running = false
	res, err := d.m.backupLocked(ctx, &stopped, "move", progress)
	d.m.recordBackupStatus(rec.ID, "move", res.Snapshot, err)
	if err != nil {
		return MoveSnapshot{}, err
	}
	snap := MoveSnapshot{ID: res.Snapshot}
	b, err := os.ReadFile(filepath.Join(d.m.appDir(rec.ID), manifestName))
	if err == nil {
		err = json.Unmarshal(b, &snap.Manifest)
	}
	if err != nil {
		return snap, fmt.Errorf("read the manifest of snapshot %s: %w", short(res.Snapshot), err)
	}
	return snap, nil
}

// Restore stages the snapshot (restic restore into a staging folder),
// moves the app's current data folder and volume contents aside (recorded
// in an operation record, so recovery puts them back after a crash), and
// moves the staged ones in.
func (d localData) Restore(ctx context.Context, _ string, rec *Record, snap MoveSnapshot, progress func(Event)) (func(context.Context), func(context.Context), error) {
	m := d.m
	repo, err := m.backupRepo()
	if err != nil {
		return nil, nil, err
	}
	s, err := repo.Snapshot(ctx, snap.ID, appTag(rec.ID))
	if err != nil {
		return nil, nil, err
	}
	staging, man, err := m.stage(ctx, repo, s, progress)
	if err != nil {
		return nil, nil, err
	}
	p, err := m.recordedProject(ctx, rec)
	if err != nil {
		os.RemoveAll(staging)
		return nil, nil, err
	}
	if _, err := m.createVolumes(ctx, rec, p); err != nil {
		os.RemoveAll(staging)
		return nil, nil, err
	}
	type move struct{ from, live string }
	moves := []move{{filepath.Join(staging, man.AppDir, "data"), filepath.Join(m.appDir(rec.ID), "data")}}
	for _, v := range man.Volumes {
		live, err := m.volumePath(ctx, p, v.Key)
		if err != nil {
			os.RemoveAll(staging)
			return nil, nil, err
		}
		moves = append(moves, move{filepath.Join(staging, v.Path), live})
	}
	stamp := strconv.FormatInt(time.Now().UnixNano(), 36)
	op := &opRecord{Kind: "move", Old: *rec, Snapshot: snap.ID, Staging: staging, Started: time.Now().UTC()}
	for _, mv := range moves {
		op.Aside = append(op.Aside, asidePath{Live: mv.live, Aside: mv.live + ".pre-move-" + stamp})
	}
	if err := m.putOp(rec.ID, op, "swapping"); err != nil {
		os.RemoveAll(staging)
		return nil, nil, err
	}
	undo := func(context.Context) { m.undoMoveData(rec.ID, op) }
	done := func(context.Context) { m.finishOp(rec.ID, op) }
	progress(Event{Phase: PhaseRestore, Status: "putting the data in place; what was there is kept aside"})
	for i, mv := range moves {
		// What was there goes aside, even when nothing was (an empty
		// folder), so undo is the same for every path.
		if err := os.MkdirAll(mv.live, 0o755); err != nil {
			undo(ctx)
			return nil, nil, err
		}
		if err := os.Rename(mv.live, op.Aside[i].Aside); err != nil {
			undo(ctx)
			return nil, nil, fmt.Errorf("move %s aside: %w", mv.live, err)
		}
		if err := moveTree(mv.from, mv.live); err != nil {
			undo(ctx)
			return nil, nil, err
		}
	}
	return undo, done, nil
}

// undoMoveData puts back what a move's restore on this disk moved aside
// (also what recovery does with a move a crash interrupted).
func (m *Manager) undoMoveData(id string, op *opRecord) {
	m.putBackAside("undo move", id, op.Aside)
	os.RemoveAll(op.Staging)
	m.db.Delete(opKey(id))
}

// Clear empties the app's data folder and named volumes on this disk. The
// volumes themselves stay: Swarm keeps the containers of stopped tasks
// (task history), which still reference them.
func (d localData) Clear(ctx context.Context, _ string, rec *Record) error {
	m := d.m
	dirs := []string{filepath.Join(m.appDir(rec.ID), "data")}
	p, err := m.recordedProject(ctx, rec)
	if err != nil {
		return err
	}
	for _, key := range slices.Sorted(maps.Keys(p.Volumes)) {
		if p.Volumes[key].External {
			continue
		}
		dir, err := m.volumePath(ctx, p, key)
		if isNotFound(errors.Unwrap(err)) {
			continue
		}
		if err != nil {
			return err
		}
		dirs = append(dirs, dir)
	}
	var errs []error
	for _, dir := range dirs {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// volumePath is where the contents of the app's volume key are on this
// disk.
func (m *Manager) volumePath(ctx context.Context, p *types.Project, key string) (string, error) {
	v, ok := p.Volumes[key]
	if !ok {
		return "", fmt.Errorf("volume %s of the snapshot is not in the app's project", key)
	}
	res, err := m.engine.Docker().VolumeInspect(ctx, v.Name, client.VolumeInspectOptions{})
	if err != nil {
		return "", fmt.Errorf("inspect volume %s: %w", v.Name, err)
	}
	if res.Volume.Mountpoint == "" {
		return "", fmt.Errorf("volume %s has no folder on this disk (driver %s): only local volumes move", v.Name, res.Volume.Driver)
	}
	return res.Volume.Mountpoint, nil
}

// reachableFromNodes says whether restic jobs on other nodes can open the
// repository: a server (REST, S3 and the other clouds) can; a folder of
// the manager cannot, nor an SFTP repository whose ssh key is on the
// manager.
func reachableFromNodes(repo backup.Repo) error {
	for _, scheme := range []string{"rest:", "s3:", "b2:", "azure:", "gs:", "swift:"} {
		if strings.HasPrefix(repo.URL, scheme) {
			return nil
		}
	}
	return fmt.Errorf("the backup repository %s is reachable from this machine only (a folder or SFTP with this machine's key); moving an app's data to or from another node needs a repository every node can reach: REST server (rest:https://…) or S3-compatible storage (s3:…); `stackhub backup init` changes it", repo.URL)
}

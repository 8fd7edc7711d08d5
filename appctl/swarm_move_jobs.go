package appctl

import (
	"context"
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"time"

	"github.com/stackhub/stackhub/backup"
	"github.com/stackhub/stackhub/swarm"
)

// ResticJobImage runs the restic jobs of moves on nodes other than the
// manager; the node pulls it (the only image StackHub does not build).
const ResticJobImage = "restic/restic:0.17.3"

// jobVolumes is where a job on another node mounts the app's volumes: the
// paths the volumes have in that node's snapshots.
const jobVolumes = "/stackhub-volumes"

// jobData is the app's data on a node other than the manager, reached by
// one-shot Swarm jobs pinned there that run restic against the same
// repository: the data folder is at the same path on every node, the named
// volumes are the node's own (docs/SWARM.md, "Moving an app").
type jobData struct{ m *Manager }

// jobBase is a job on node for app rec: restic's image, the repository's
// settings and password, the app's labels.
func (d jobData) jobBase(name, node string, rec *Record, repo backup.Repo) swarm.Job {
	env := map[string]string{"RESTIC_REPOSITORY": repo.URL, "RESTIC_CACHE_DIR": "/tmp/restic-cache"}
	for k, v := range repo.Env {
		env[k] = v
	}
	return swarm.Job{
		Name: name, Node: node, Image: ResticJobImage, Env: env, Secret: []byte(repo.Password),
		Labels: map[string]string{LabelApp: rec.ID, LabelInstance: d.m.cfg.Instance},
	}
}

// volumeNames maps the app's volume keys to their names (on every node).
func (d jobData) volumeNames(ctx context.Context, rec *Record) (map[string]string, error) {
	p, err := d.m.recordedProject(ctx, rec)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for key, v := range p.Volumes {
		if !v.External {
			out[key] = v.Name
		}
	}
	return out, nil
}

// backupJob is the job that backs the app's data up on node: the data
// folder, each volume under /stackhub-volumes/KEY, and the manifest (a
// Swarm config at the app folder's path), tagged like the app's backups
// plus a tag of its own to find the snapshot afterwards.
func (d jobData) backupJob(node string, rec *Record, repo backup.Repo, vols map[string]string, man backupManifest, tag string) swarm.Job {
	dir := d.m.appDir(rec.ID)
	j := d.jobBase("stackhub-backup-"+rec.ID, node, rec, repo)
	j.Binds = map[string]string{path.Join(dir, "data"): path.Join(dir, "data")}
	j.Volumes = map[string]string{}
	args := []string{"restic", "backup", "--host", node, "--tag", "stackhub", "--tag", appTag(rec.ID), "--tag", "reason:move", "--tag", tag}
	if rec.Version != "" {
		args = append(args, "--tag", "version:"+rec.Version)
	}
	args = append(args, path.Join(dir, "data"), path.Join(dir, manifestName))
	for _, key := range slices.Sorted(maps.Keys(vols)) {
		j.Volumes[vols[key]] = path.Join(jobVolumes, key)
		args = append(args, path.Join(jobVolumes, key))
	}
	j.Command = args
	j.Files = map[string][]byte{path.Join(dir, manifestName): mustJSON(man)}
	return j
}

// restoreJob is the job that restores snapshot snap's data folder and
// volumes on node: each is mounted below /restore at the path it has in
// the snapshot, and restic restores into /restore, only those paths.
func (d jobData) restoreJob(node string, rec *Record, repo backup.Repo, vols map[string]string, snap MoveSnapshot) swarm.Job {
	j := d.jobBase("stackhub-restore-"+rec.ID, node, rec, repo)
	data := path.Join(snap.Manifest.AppDir, "data")
	j.Binds = map[string]string{path.Join(d.m.appDir(rec.ID), "data"): path.Join("/restore", data)}
	j.Volumes = map[string]string{}
	args := []string{"restic", "restore", snap.ID, "--target", "/restore", "--include", data}
	for _, v := range snap.Manifest.Volumes {
		if name, ok := vols[v.Key]; ok {
			j.Volumes[name] = path.Join("/restore", v.Path)
			args = append(args, "--include", v.Path)
		}
	}
	j.Command = args
	return j
}

// clearJob empties the app's data folder and volumes on node.
func (d jobData) clearJob(node string, rec *Record, vols map[string]string) swarm.Job {
	j := swarm.Job{
		Name: "stackhub-clear-" + rec.ID, Node: node, Image: ResticJobImage,
		Labels:  map[string]string{LabelApp: rec.ID, LabelInstance: d.m.cfg.Instance},
		Binds:   map[string]string{path.Join(d.m.appDir(rec.ID), "data"): "/clear/data"},
		Volumes: map[string]string{},
		Command: []string{"sh", "-c", `for d in /clear/data /clear/volumes/*; do find "$d" -mindepth 1 -delete || exit 1; done`},
	}
	for key, name := range vols {
		j.Volumes[name] = path.Join("/clear/volumes", key)
	}
	return j
}

func (d jobData) Backup(ctx context.Context, node string, rec *Record, progress func(Event)) (MoveSnapshot, error) {
	repo, err := d.m.backupRepo()
	if err != nil {
		return MoveSnapshot{}, err
	}
	vols, err := d.volumeNames(ctx, rec)
	if err != nil {
		return MoveSnapshot{}, err
	}
	man := backupManifest{Format: 1, App: rec.ID, Time: time.Now().UTC(), Reason: "move", Record: *rec, AppDir: d.m.appDir(rec.ID)}
	man.Record.State, man.Record.Note, man.Record.Error = StateInstalled, "", ""
	for _, key := range slices.Sorted(maps.Keys(vols)) {
		man.Volumes = append(man.Volumes, volumeCopy{Key: key, Name: vols[key], Path: path.Join(jobVolumes, key)})
	}
	tag := "move:" + strconv.FormatInt(time.Now().UnixNano(), 36)
	progress(Event{Phase: PhaseBackup, Status: "backing the data up on node " + node, Resource: repo.URL})
	if err := swarm.RunJob(ctx, d.m.engine.Docker(), d.backupJob(node, rec, repo, vols, man, tag), d.m.cfg.WaitTimeout*4); err != nil {
		return MoveSnapshot{}, err
	}
	snaps, err := repo.Snapshots(ctx, tag)
	if err != nil {
		return MoveSnapshot{}, err
	}
	if len(snaps) == 0 {
		return MoveSnapshot{}, fmt.Errorf("the backup job on %s finished without a snapshot tagged %s", node, tag)
	}
	return MoveSnapshot{ID: snaps[len(snaps)-1].ID, Manifest: man}, nil
}

// Restore runs the restore job on node. What was there is replaced (a
// node the app did not run on holds nothing of it: the copy of an earlier
// move was cleared); undo clears the node again.
func (d jobData) Restore(ctx context.Context, node string, rec *Record, snap MoveSnapshot, progress func(Event)) (func(context.Context), func(context.Context), error) {
	repo, err := d.m.backupRepo()
	if err != nil {
		return nil, nil, err
	}
	vols, err := d.volumeNames(ctx, rec)
	if err != nil {
		return nil, nil, err
	}
	undo := func(ctx context.Context) {
		if err := d.Clear(ctx, node, rec); err != nil {
			progress(Event{Phase: PhaseError, Status: "could not clear the partial copy on node " + node, Message: err.Error()})
		}
	}
	progress(Event{Phase: PhaseRestore, Status: "restoring the data on node " + node, Resource: short(snap.ID)})
	if err := swarm.RunJob(ctx, d.m.engine.Docker(), d.restoreJob(node, rec, repo, vols, snap), d.m.cfg.WaitTimeout*4); err != nil {
		undo(context.WithoutCancel(ctx))
		return nil, nil, err
	}
	return undo, func(context.Context) {}, nil
}

func (d jobData) Clear(ctx context.Context, node string, rec *Record) error {
	vols, err := d.volumeNames(ctx, rec)
	if err != nil {
		return err
	}
	return swarm.RunJob(ctx, d.m.engine.Docker(), d.clearJob(node, rec, vols), d.m.cfg.WaitTimeout)
}

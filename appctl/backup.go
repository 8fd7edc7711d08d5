package appctl

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/docker/compose/v5/pkg/api"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
	"gopkg.in/yaml.v3"

	"github.com/stackhub/stackhub/backup"
	"github.com/stackhub/stackhub/swarm"
)

// Phases of backups and restores, in progress events.
const (
	PhaseBackup  Phase = "backup"
	PhaseRestore Phase = "restore"
)

// manifestName is the file, in the app's folder of its snapshot, that says what the snapshot holds: the app's record and where
// each named volume's contents are.
const manifestName = "stackhub-backup.json"

// backupManifest describes one app snapshot.
type backupManifest struct {
	Format int       `json:"format"`
	App    string    `json:"app"`
	Time   time.Time `json:"time"`
	Reason string    `json:"reason"`
	Record Record    `json:"record"`
	// AppDir is the absolute path the app's folder has in the snapshot.
	AppDir  string       `json:"app_dir"`
	Volumes []volumeCopy `json:"volumes,omitempty"`
	// Hooked: the app stayed up and its hook's dump is in the data folder.
	Hooked bool `json:"hooked,omitempty"`
}

// volumeCopy is one named volume in a snapshot: its key in the compose
// project, and the absolute path its contents were backed up from (the
// path the contents have in the snapshot).
type volumeCopy struct {
	Key  string `json:"key"`
	Name string `json:"name"`
	Path string `json:"path"`
}

// BackupResult reports one app backup.
type BackupResult struct {
	App      string         `json:"app"`
	Snapshot string         `json:"snapshot"`
	Summary  backup.Summary `json:"summary"`
	// Stopped says the app was stopped for the snapshot (no backup hook),
	// and Downtime how long.
	Stopped  bool          `json:"stopped"`
	Downtime time.Duration `json:"downtime,omitempty"`
}

// SnapshotInfo is one backup of an app, for `apps backups`.
type SnapshotInfo struct {
	ID      string    `json:"id"`
	ShortID string    `json:"short_id"`
	Time    time.Time `json:"time"`
	App     string    `json:"app"`
	Reason  string    `json:"reason,omitempty"`
	Version string    `json:"version,omitempty"`
}

// BackupHook is an app's way to stay up during its backup: a command run in
// one of its services whose standard output (a database dump) is saved in
// the app's data folder, and the command that loads it back at restore.
// It is declared in the compose file's x-stackhub.backup block.
type BackupHook struct {
	Dump struct {
		Service string   `yaml:"service" json:"service"`
		Command []string `yaml:"command" json:"command"`
		// Output is where the dump goes, relative to the data folder.
		Output string `yaml:"output" json:"output"`
	} `yaml:"hook" json:"hook"`
	Restore struct {
		Service string   `yaml:"service" json:"service"`
		Command []string `yaml:"command" json:"command"`
	} `yaml:"restore" json:"restore"`
	// Exclude are paths of the data folder, or named volumes written
	// "volume:KEY", left out of a hooked snapshot: the live database files
	// the dump stands for. A restore starts them empty, then loads the dump.
	Exclude []string `yaml:"exclude" json:"exclude,omitempty"`
}

// backupHook reads x-stackhub.backup from an app's compose file; nil when
// the app declares none (it is then stopped for its snapshots).
func backupHook(compose []byte) (*BackupHook, error) {
	var doc struct {
		Meta struct {
			Backup *BackupHook `yaml:"backup"`
		} `yaml:"x-stackhub"`
	}
	if err := yaml.Unmarshal(compose, &doc); err != nil || doc.Meta.Backup == nil {
		return nil, nil
	}
	h := doc.Meta.Backup
	if h.Dump.Service == "" || len(h.Dump.Command) == 0 || h.Dump.Output == "" {
		return nil, fmt.Errorf("x-stackhub.backup.hook needs service, command and output")
	}
	if !cleanRelative(h.Dump.Output) {
		return nil, fmt.Errorf("x-stackhub.backup.hook.output %q must be a plain path inside the data folder", h.Dump.Output)
	}
	for _, e := range h.Exclude {
		if key, ok := strings.CutPrefix(e, "volume:"); ok && key != "" {
			continue
		}
		if !cleanRelative(e) {
			return nil, fmt.Errorf("x-stackhub.backup.exclude %q must be a plain path inside the data folder", e)
		}
	}
	return h, nil
}

func cleanRelative(p string) bool {
	c := path.Clean("/" + p)[1:]
	return c != "" && c == p
}

// backupRepo is the configured repository.
func (m *Manager) backupRepo() (backup.Repo, error) {
	repo, err := backup.Keeper{DB: m.db, DataDir: m.cfg.DataDir}.Repo()
	if err != nil {
		return repo, err
	}
	repo.CacheDir = filepath.Join(m.cfg.DataDir, "cache", "restic")
	return repo, nil
}

// BackupKeeper is where the repository settings are kept.
func (m *Manager) BackupKeeper() backup.Keeper {
	return backup.Keeper{DB: m.db, DataDir: m.cfg.DataDir}
}

func appTag(id string) string { return "app:" + id }

// Backup takes a snapshot of an installed app: its folder (data, compose
// project), its named volumes and its record. The app is stopped for the
// snapshot and started again, unless it declares a backup hook.
func (m *Manager) Backup(ctx context.Context, id, reason string, progress func(Event)) (BackupResult, error) {
	progress = m.stamp(id, progress)
	unlock := m.lock(id)
	defer unlock()
	rec, err := m.get(id)
	if err != nil {
		return BackupResult{}, fmt.Errorf("back up %s: %w", id, err)
	}
	if rec.State != StateInstalled {
		return BackupResult{}, fmt.Errorf("back up %s: %w", id, errorf(nil, "the app is {{.State}}, not installed", "State", word(rec.State)))
	}
	if reason == "" {
		reason = "manual"
	}
	res, err := m.backupLocked(ctx, &rec, reason, progress)
	m.recordBackupStatus(id, reason, res.Snapshot, err)
	if err != nil {
		return res, fmt.Errorf("back up %s: %w", id, err)
	}
	progress(say(Event{Phase: PhaseDone, Status: "backed up", Resource: res.Snapshot},
		"snapshot {{.Snapshot}}: {{.Files}} files, {{.Bytes}} bytes added", "Snapshot", short(res.Snapshot), "Files", res.Summary.TotalFilesProcessed, "Bytes", res.Summary.DataAdded))
	return res, nil
}

// backupLocked backs rec's app up; the caller holds its lock. A running app
// is running again when it returns, whatever happened.
func (m *Manager) backupLocked(ctx context.Context, rec *Record, reason string, progress func(Event)) (res BackupResult, err error) {
	res.App = rec.ID
	repo, err := m.backupRepo()
	if err != nil {
		return res, err
	}
	hook, err := backupHook(rec.Compose)
	if err != nil {
		return res, err
	}
	vols, err := m.appVolumes(ctx, rec.Project)
	if err != nil {
		return res, err
	}
	dir := m.appDir(rec.ID)
	man := backupManifest{Format: 1, App: rec.ID, Time: time.Now().UTC(), Reason: reason, Record: *rec, AppDir: dir, Volumes: vols}
	man.Record.State, man.Record.Note, man.Record.Error = StateInstalled, "", ""
	// Open the repository before touching the app: a wrong password or an
	// unreachable server must not cost the app its uptime.
	progress(Event{Phase: PhaseBackup, Status: "opening the repository", Resource: repo.Redacted()})
	if err := repo.Check(ctx); err != nil {
		return res, err
	}

	var excludes []string
	if hook != nil && rec.Running {
		progress(Event{Phase: PhaseBackup, Status: "running the backup hook", Resource: hook.Dump.Service})
		if err := m.runDump(ctx, rec, hook); err != nil {
			return res, fmt.Errorf("backup hook: %w", err)
		}
		man.Hooked = true
		for _, e := range hook.Exclude {
			if key, ok := strings.CutPrefix(e, "volume:"); ok {
				for _, v := range vols {
					if v.Key == key {
						excludes = append(excludes, v.Path)
					}
				}
				continue
			}
			excludes = append(excludes, filepath.Join(dir, "data", filepath.FromSlash(e)))
		}
	} else if rec.Running {
		progress(Event{Phase: PhaseBackup, Status: "stopping the app for a consistent snapshot"})
		p, err := m.recordedProject(ctx, rec)
		if err != nil {
			return res, err
		}
		stopped := time.Now()
		m.publish(rec, "")
		if err := m.engine.Stop(ctx, rec.Project, p, progress); err != nil {
			m.restartAfterBackup(ctx, rec, progress)
			return res, fmt.Errorf("stop for the snapshot: %w", err)
		}
		res.Stopped = true
		// Named results: the downtime is known once the app is back.
		defer func() {
			m.restartAfterBackup(context.WithoutCancel(ctx), rec, progress)
			res.Downtime = time.Since(stopped)
		}()
	}
	if err := writeInRoot(dir, manifestName, mustJSON(man)); err != nil {
		return res, err
	}
	paths := []string{dir}
	for _, v := range vols {
		paths = append(paths, v.Path)
	}
	tags := []string{"stackhub", appTag(rec.ID), "reason:" + reason}
	if rec.Version != "" {
		tags = append(tags, "version:"+rec.Version)
	}
	var lastStatus time.Time
	sum, err := repo.BackupExcluding(ctx, "/", paths, excludes, tags, func(p backup.Progress) {
		// restic reports several times a second; a terminal wants one line.
		if time.Since(lastStatus) < time.Second {
			return
		}
		lastStatus = time.Now()
		progress(Event{Phase: PhaseBackup, Status: fmt.Sprintf("saving: %d of %d files, %.0f%%", p.FilesDone, p.TotalFiles, p.PercentDone*100), Current: p.BytesDone, Total: p.TotalBytes})
	})
	if err != nil {
		return res, err
	}
	res.Snapshot, res.Summary = sum.SnapshotID, sum
	return res, nil
}

func (m *Manager) restartAfterBackup(ctx context.Context, rec *Record, progress func(Event)) {
	p, err := m.startProject(ctx, rec)
	if err == nil {
		err = m.converge(ctx, rec, p, progress)
	}
	if err != nil {
		m.log.Error("start the app again after its backup")
		progress(sayError(Event{Phase: PhaseError, Status: "the app did not start again after its backup"}, err))
	}
}

// Backups lists an app's snapshots, oldest first. The app need not be
// installed: its snapshots outlive it.
func (m *Manager) Backups(ctx context.Context, id string) ([]SnapshotInfo, error) {
	repo, err := m.backupRepo()
	if err != nil {
		return nil, fmt.Errorf("list backups of %s: %w", id, err)
	}
	snaps, err := repo.Snapshots(ctx, appTag(id))
	if err != nil {
		return nil, fmt.Errorf("list backups of %s: %w", id, err)
	}
	out := make([]SnapshotInfo, 0, len(snaps))
	for _, s := range snaps {
		out = append(out, SnapshotInfo{ID: s.ID, ShortID: s.ShortID, Time: s.Time, App: s.Tag("app"), Reason: s.Tag("reason"), Version: s.Tag("version")})
	}
	return out, nil
}

// appVolumes lists the named volumes of a compose project, with where their
// contents are on the host (StackHub runs as root and reads them there).
func (m *Manager) appVolumes(ctx context.Context, project string) ([]volumeCopy, error) {
	list, err := m.engine.Docker().VolumeList(ctx, client.VolumeListOptions{
		Filters: client.Filters{}.Add("label", api.ProjectLabel+"="+project),
	})
	if err != nil {
		return nil, fmt.Errorf("list volumes of %s: %w", project, err)
	}
	var out []volumeCopy
	for _, v := range list.Items {
		if v.Mountpoint == "" {
			continue
		}
		out = append(out, volumeCopy{Key: v.Labels[api.VolumeLabel], Name: v.Name, Path: v.Mountpoint})
	}
	if len(out) == 0 {
		// A stack's volumes are created by Swarm on the node with the
		// stack's label, not Compose's; their key is their name in the
		// stack's namespace (swarm_move_data.go moves them).
		stack, err := m.engine.Docker().VolumeList(ctx, client.VolumeListOptions{
			Filters: client.Filters{}.Add("label", swarm.StackLabel+"="+project),
		})
		if err != nil {
			return nil, fmt.Errorf("list volumes of %s: %w", project, err)
		}
		for _, v := range stack.Items {
			if v.Mountpoint != "" {
				out = append(out, volumeCopy{Key: strings.TrimPrefix(v.Name, project+"_"), Name: v.Name, Path: v.Mountpoint})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// runDump runs the hook's dump command in its service and writes its
// output into the data folder.
func (m *Manager) runDump(ctx context.Context, rec *Record, h *BackupHook) error {
	var out bytes.Buffer
	if err := m.execIn(ctx, rec, h.Dump.Service, h.Dump.Command, nil, &out); err != nil {
		return err
	}
	return writeInRoot(filepath.Join(m.appDir(rec.ID), "data"), h.Dump.Output, out.Bytes())
}

// execIn runs cmd in the running container of service, with stdin when
// set, writing its standard output to stdout.
func (m *Manager) execIn(ctx context.Context, rec *Record, service string, cmd []string, stdin io.Reader, stdout io.Writer) error {
	docker := m.engine.Docker()
	list, err := docker.ContainerList(ctx, client.ContainerListOptions{
		Filters: client.Filters{}.Add("label", api.ProjectLabel+"="+rec.Project, api.ServiceLabel+"="+service),
	})
	if err != nil {
		return fmt.Errorf("find service %s: %w", service, err)
	}
	if len(list.Items) == 0 {
		return fmt.Errorf("service %s of %s is not running", service, rec.ID)
	}
	ex, err := docker.ExecCreate(ctx, list.Items[0].ID, client.ExecCreateOptions{Cmd: cmd, AttachStdout: true, AttachStderr: true, AttachStdin: stdin != nil})
	if err != nil {
		return fmt.Errorf("run %s in %s: %w", cmd[0], service, err)
	}
	att, err := docker.ExecAttach(ctx, ex.ID, client.ExecAttachOptions{})
	if err != nil {
		return fmt.Errorf("run %s in %s: %w", cmd[0], service, err)
	}
	defer att.Close()
	if stdin != nil {
		go func() {
			io.Copy(att.Conn, stdin)
			att.CloseWrite()
		}()
	}
	var stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(stdout, &stderr, att.Reader); err != nil {
		return fmt.Errorf("run %s in %s: %w", cmd[0], service, err)
	}
	st, err := docker.ExecInspect(ctx, ex.ID, client.ExecInspectOptions{})
	if err != nil {
		return fmt.Errorf("run %s in %s: %w", cmd[0], service, err)
	}
	if st.ExitCode != 0 {
		return fmt.Errorf("%s in service %s exited with %d: %s", strings.Join(cmd, " "), service, st.ExitCode, strings.TrimSpace(lastLines(stderr.String(), 10)))
	}
	return nil
}

// writeInRoot writes name (a relative path) below dir, through os.Root so
// a symlink an app planted cannot send the write elsewhere.
func writeInRoot(dir, name string, b []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	if d := path.Dir(filepath.ToSlash(name)); d != "." {
		if err := root.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("write %s in %s: %w", name, dir, err)
		}
	}
	if err := root.WriteFile(name, b, 0o600); err != nil {
		return fmt.Errorf("write %s in %s: %w", name, dir, err)
	}
	return nil
}

func mustJSON(v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(err)
	}
	return b
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

package appctl

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stackhub/stackhub/backup"
	"github.com/stackhub/stackhub/swarm"
)

// tree lists every file and folder below dir with its mode and a hash of
// its bytes: two trees are equal when the data is byte for byte the same.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		v := info.Mode().String()
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			v += fmt.Sprintf(" %x", sha256.Sum256(b))
		}
		out[rel] = v
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMoveDataRoundTrip: the data half of `apps move --node`, on the real
// engine without a swarm. The manager's NodeData (the one a move uses for
// the manager's own disk, and the same staged restore as `apps restore`)
// backs an app's data folder and named volume up, the data is cleared (as
// the source of a move is afterwards, and as a node the app never ran on
// starts), restored byte for byte, undone (what was there comes back), and
// restored again; the app then counts on from its volume.
func TestMoveDataRoundTrip(t *testing.T) {
	h := newKeepHarness(t, "mover")
	ctx := context.Background()
	host := "mover.test.localhost"
	h.get(t, host, "/count")
	if got := h.get(t, host, "/count"); got != "2" {
		t.Fatalf("count = %s", got)
	}
	blob := make([]byte, 300<<10)
	rand.Read(blob)
	if err := os.MkdirAll(h.dataFile("mover", "deep/er"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h.dataFile("mover", "deep/er/blob.bin"), blob, 0o640); err != nil {
		t.Fatal(err)
	}
	writeString(t, h.dataFile("mover", "note.txt"), "moved with its app")
	if err := h.m.Stop(ctx, "mover", nil); err != nil {
		t.Fatal(err)
	}
	rec, err := h.m.get("mover")
	if err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(h.m.appDir("mover"), "data")
	volDir := filepath.Dir(h.volumeFile(t, "mover", "count"))
	wantData, wantVol := tree(t, dataDir), tree(t, volDir)
	if len(wantVol) < 2 || wantData["deep/er/blob.bin"] == "" {
		t.Fatalf("test data missing: %v %v", wantData, wantVol)
	}

	var events []Event
	progress := func(e Event) { events = append(events, e) }
	data := localData{h.m}
	snap, err := data.Backup(ctx, "", &rec, progress)
	if err != nil {
		t.Fatal(err)
	}
	if snap.ID == "" || snap.Manifest.AppDir != h.m.appDir("mover") || len(snap.Manifest.Volumes) != 1 || snap.Manifest.Volumes[0].Key != "store" {
		t.Fatalf("move snapshot %+v", snap)
	}
	if !reflect.DeepEqual(tree(t, dataDir), wantData) || !reflect.DeepEqual(tree(t, volDir), wantVol) {
		t.Fatal("the backup changed the source's data")
	}
	if st, _ := h.m.Status(ctx, "mover"); st.Health == "running" {
		t.Fatal("the backup of a move started the stopped app")
	}
	snaps, err := h.m.Backups(ctx, "mover")
	if err != nil || len(snaps) != 1 || snaps[0].Reason != "move" {
		t.Fatalf("backups %+v %v; want one, reason move", snaps, err)
	}

	if err := data.Clear(ctx, "", &rec); err != nil {
		t.Fatal(err)
	}
	empty := map[string]string{".": wantData["."]}
	if got := tree(t, dataDir); !reflect.DeepEqual(got, empty) {
		t.Fatalf("after Clear the data folder holds %v", got)
	}
	if got := tree(t, volDir); len(got) != 1 {
		t.Fatalf("after Clear the volume holds %v", got)
	}

	undo, _, err := data.Restore(ctx, "", &rec, snap, progress)
	if err != nil {
		t.Fatal(err)
	}
	if got := tree(t, dataDir); !reflect.DeepEqual(got, wantData) {
		t.Errorf("restored data folder differs:\n got %v\nwant %v", got, wantData)
	}
	if got := tree(t, volDir); !reflect.DeepEqual(got, wantVol) {
		t.Errorf("restored volume differs:\n got %v\nwant %v", got, wantVol)
	}
	if keys, _ := h.db.Keys("ops/"); len(keys) != 1 {
		t.Errorf("a restore in progress is recorded for recovery: %v", keys)
	}
	// Undo (the app did not answer on the target): what was there before,
	// here nothing, comes back.
	undo(ctx)
	if got := tree(t, dataDir); len(got) != 1 {
		t.Errorf("after undo the data folder holds %v, want it as it was (empty)", got)
	}
	if got := tree(t, volDir); len(got) != 1 {
		t.Errorf("after undo the volume holds %v, want it as it was (empty)", got)
	}

	_, done, err := data.Restore(ctx, "", &rec, snap, progress)
	if err != nil {
		t.Fatal(err)
	}
	done(ctx)
	if got := tree(t, dataDir); !reflect.DeepEqual(got, wantData) {
		t.Errorf("data folder after the second restore differs: %v", got)
	}
	if keys, _ := h.db.Keys("ops/"); len(keys) != 0 {
		t.Errorf("operation records left: %v", keys)
	}
	if left, _ := filepath.Glob(filepath.Join(h.dataDir, "apps", "mover", "*pre-move*")); len(left) != 0 {
		t.Errorf("aside folders left: %v", left)
	}
	if left, _ := filepath.Glob(filepath.Join(h.dataDir, "staging", "*")); len(left) != 0 {
		t.Errorf("staging left: %v", left)
	}
	if err := h.m.Start(ctx, "mover", nil); err != nil {
		t.Fatal(err)
	}
	if got := h.get(t, host, "/count"); got != "3" {
		t.Errorf("after the move's restore the app counts %s, want 3 (its volume came along)", got)
	}
	if got := readString(t, h.dataFile("mover", "note.txt")); got != "moved with its app" {
		t.Errorf("note.txt = %q", got)
	}
}

// TestMoveOnASingleEngine: on a Docker Engine that is not in a Swarm, a
// move says so and what to do, and the app runs on unchanged.
func TestMoveOnASingleEngine(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	if _, err := h.m.Install(ctx, counterApp(t), InstallOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	before, _ := h.m.get("counter")
	_, err := h.m.MoveNode(ctx, "counter", swarm.Placement{Node: "nas"}, nil)
	if !errors.Is(err, swarm.ErrNotSwarm) || !strings.Contains(err.Error(), "not in a Swarm") || !strings.Contains(err.Error(), "docker swarm init") {
		t.Fatalf("move on a single engine: %v; want it to say the box is not in a Swarm and how to make it one", err)
	}
	after, _ := h.m.get("counter")
	if !reflect.DeepEqual(before, after) {
		t.Errorf("a refused move changed the record:\n%+v\n%+v", before, after)
	}
	if st, _ := h.m.Status(ctx, "counter"); st.Health != "running" {
		t.Errorf("after a refused move the app is %s", st.Health)
	}
}

// TestUnitMoveJobs: the restic jobs a move runs on a node other than the
// manager mount each path where restic reads or writes it: the restore's
// includes are exactly its mounts below /restore, the backup's paths are
// the data folder, the manifest and the volumes under /stackhub-volumes.
func TestUnitMoveJobs(t *testing.T) {
	m := &Manager{cfg: Config{DataDir: "/srv/stackhub", Instance: "sh1"}}
	d := jobData{m}
	rec := &Record{ID: "photos", Version: "2"}
	vols := map[string]string{"db": "stackhub-photos_db", "media": "stackhub-photos_media"}
	man := backupManifest{AppDir: "/srv/stackhub/apps/photos", Volumes: []volumeCopy{
		{Key: "db", Path: "/stackhub-volumes/db"}, {Key: "media", Path: "/var/lib/docker/volumes/stackhub-photos_media/_data"}}}
	repo := backupRepoForTest()

	b := d.backupJob("media-pc", rec, repo, vols, man, "move:x1")
	cmd := strings.Join(b.Command, " ")
	for _, want := range []string{"restic backup", "--tag app:photos", "--tag move:x1", "--tag reason:move",
		"/srv/stackhub/apps/photos/data /srv/stackhub/apps/photos/stackhub-backup.json /stackhub-volumes/db /stackhub-volumes/media"} {
		if !strings.Contains(cmd, want) {
			t.Errorf("backup command %q lacks %q", cmd, want)
		}
	}
	if b.Volumes["stackhub-photos_db"] != "/stackhub-volumes/db" || b.Binds["/srv/stackhub/apps/photos/data"] != "/srv/stackhub/apps/photos/data" {
		t.Errorf("backup mounts %v %v", b.Binds, b.Volumes)
	}
	if _, ok := b.Files["/srv/stackhub/apps/photos/stackhub-backup.json"]; !ok || string(b.Secret) != "pw" || b.Env["RESTIC_REPOSITORY"] != repo.URL || b.Node != "media-pc" {
		t.Errorf("backup job %+v", b)
	}

	r := d.restoreJob("hub2", rec, repo, vols, MoveSnapshot{ID: "abc123", Manifest: man})
	mounts := map[string]bool{}
	for _, target := range r.Binds {
		mounts[target] = true
	}
	for _, target := range r.Volumes {
		mounts[target] = true
	}
	var includes []string
	for i, a := range r.Command {
		if a == "--include" {
			includes = append(includes, r.Command[i+1])
		}
	}
	if len(includes) != 3 || len(mounts) != 3 {
		t.Fatalf("restore includes %v, mounts %v", includes, mounts)
	}
	for _, inc := range includes {
		if !mounts["/restore"+inc] {
			t.Errorf("restic restores %s into /restore%s, which is not mounted (mounts %v)", inc, inc, mounts)
		}
	}
	c := d.clearJob("media-pc", rec, vols)
	if c.Secret != nil || c.Volumes["stackhub-photos_media"] != "/clear/volumes/media" || !strings.Contains(strings.Join(c.Command, " "), "-mindepth 1 -delete") {
		t.Errorf("clear job %+v", c)
	}

	for url, ok := range map[string]bool{"rest:https://backup.lan/": true, "s3:https://s3.lan/bucket": true, "/srv/backup": false, "sftp:me@nas:/backup": false} {
		if err := reachableFromNodes(repoAt(url)); (err == nil) != ok {
			t.Errorf("repository %s reachable from other nodes: %v, want %v", url, err, ok)
		}
	}
}

func backupRepoForTest() backup.Repo {
	return backup.Repo{URL: "rest:https://backup.lan/", Password: "pw"}
}

func repoAt(url string) backup.Repo { return backup.Repo{URL: url} }

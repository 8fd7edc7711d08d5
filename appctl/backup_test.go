package appctl

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/moby/client"

	"github.com/stackhub/stackhub/backup"
	"github.com/stackhub/stackhub/internal/dockertest"
	"github.com/stackhub/stackhub/internal/repotest"
	"github.com/stackhub/stackhub/internal/sshdtest"
	"github.com/stackhub/stackhub/stores"
)

// needRestic skips a backup test without restic (fails it in CI).
var needRestic = repotest.NeedRestic

// keepApp is a test app with data in both places an app keeps it: the
// counter of /count in a named volume (DATA_DIR=/store, where MIGRATE
// rewrites data.txt too), and files in its data folder (/files).
func keepApp(image, version, env string) string {
	return fmt.Sprintf(`x-stackhub:
  name: Keep
  version: "%s"
  main: {service: web, port: 8080}
services:
  web:
    image: %s
    pull_policy: never
    environment:
      PORT: "8080"
      DATA_DIR: /store
%s
    volumes:
      - ${APP_DATA_DIR}:/files
      - store:/store
    healthcheck:
      test: ["CMD", "/testapp", "-probe", "http://127.0.0.1:8080/health"]
      interval: 1s
      timeout: 2s
      retries: 2
volumes:
  store: {}
`, version, image, env)
}

// keepImage is the test image with the modes of internal/testapp/versions.go,
// under a tag of these tests' own: the engine is shared, and a test of an
// older checkout may rebuild stackhub-testapp:dev without them.
func (h *harness) keepImage(t *testing.T) string {
	return dockertest.TestImage(t, h.docker, "stackhub-testapp:versions")
}

// newKeepHarness is a harness with a repository in a temporary folder and
// keepApp version 1 installed as id: the start of most backup tests.
func newKeepHarness(t *testing.T, id string) *harness {
	t.Helper()
	needRestic(t)
	h := newHarness(t)
	h.configureRepo(t, filepath.Join(t.TempDir(), "repo"))
	h.installKeep(t, id, keepApp(h.keepImage(t), "1", ""))
	return h
}

func (h *harness) configureRepo(t *testing.T, url string) string {
	t.Helper()
	pw, err := h.m.BackupKeeper().Configure(context.Background(), backup.Repo{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	return pw
}

func (h *harness) installKeep(t *testing.T, id, compose string) stores.App {
	t.Helper()
	app, err := writeApp(t, id, compose)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.m.Install(context.Background(), app, InstallOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	return app
}

// volumeFile is the path on the host of file name in the app's volume store.
func (h *harness) volumeFile(t *testing.T, id, name string) string {
	t.Helper()
	vols, err := h.m.appVolumes(context.Background(), h.m.cfg.ProjectPrefix+id)
	if err != nil || len(vols) != 1 {
		t.Fatalf("volumes of %s: %+v %v", id, vols, err)
	}
	return filepath.Join(vols[0].Path, name)
}

func (h *harness) dataFile(id, name string) string {
	return filepath.Join(h.m.appDir(id), "data", name)
}

func readString(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeString(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBackupChangeRestore: a backup holds the data folder and the named
// volume; after changes, a restore puts both back, and the app answers.
func TestBackupChangeRestore(t *testing.T) {
	h := newKeepHarness(t, "keep")
	ctx := context.Background()
	host := "keep.test.localhost"
	writeString(t, h.dataFile("keep", "note.txt"), "before")
	h.get(t, host, "/count")
	if got := h.get(t, host, "/count"); got != "2" {
		t.Fatalf("count = %s", got)
	}

	res, err := h.m.Backup(ctx, "keep", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Stopped || res.Snapshot == "" {
		t.Errorf("backup of an app without a hook: %+v; want it stopped for a snapshot", res)
	}
	if st, _ := h.m.Status(ctx, "keep"); st.Health != "running" {
		t.Fatalf("after its backup the app is %s", st.Health)
	}
	if got := h.get(t, host, "/count"); got != "3" {
		t.Fatalf("after the backup count = %s, want 3", got)
	}
	writeString(t, h.dataFile("keep", "note.txt"), "after")
	h.get(t, host, "/count")

	snaps, err := h.m.Backups(ctx, "keep")
	if err != nil || len(snaps) != 1 || snaps[0].Reason != "manual" || snaps[0].Version != "1" {
		t.Fatalf("backups = %+v %v", snaps, err)
	}
	var events []Event
	rr, err := h.m.Restore(ctx, "keep", snaps[0].ShortID, func(e Event) { events = append(events, e) })
	if err != nil {
		t.Fatal(err)
	}
	if rr.Downtime <= 0 || events[len(events)-1].Phase != PhaseDone {
		t.Errorf("restore result %+v, last event %+v", rr, events[len(events)-1])
	}
	if got := readString(t, h.dataFile("keep", "note.txt")); got != "before" {
		t.Errorf("restored note.txt = %q, want %q", got, "before")
	}
	// The volume's counter was 2 at the backup.
	if got := h.get(t, host, "/count"); got != "3" {
		t.Errorf("count after the restore = %s, want 3", got)
	}
	if keys, _ := h.db.Keys("ops/"); len(keys) != 0 {
		t.Errorf("operation records left: %v", keys)
	}
	if left, _ := filepath.Glob(filepath.Join(h.dataDir, "apps", "*pre-restore*")); len(left) != 0 {
		t.Errorf("aside folders left: %v", left)
	}
}

// TestBackupBadInput: a wrong password, an unreachable repository, and an
// unknown snapshot each get a clear error, and the app runs on unchanged.
func TestBackupBadInput(t *testing.T) {
	needRestic(t)
	h := newHarness(t)
	ctx := context.Background()
	repoDir := filepath.Join(t.TempDir(), "repo")
	h.configureRepo(t, repoDir)
	h.installKeep(t, "keep", keepApp(h.keepImage(t), "1", ""))
	host := "keep.test.localhost"
	writeString(t, h.dataFile("keep", "note.txt"), "precious")
	if _, err := h.m.Backup(ctx, "keep", "", nil); err != nil {
		t.Fatal(err)
	}
	running := func(step string) {
		t.Helper()
		st, _ := h.m.Status(ctx, "keep")
		if st.Health != "running" || st.State != StateInstalled {
			t.Errorf("%s: app is %s/%s", step, st.State, st.Health)
		}
		if got := readString(t, h.dataFile("keep", "note.txt")); got != "precious" {
			t.Errorf("%s: note.txt = %q", step, got)
		}
		if got := h.get(t, host, "/"); !strings.HasPrefix(got, "hello") {
			t.Errorf("%s: app answers %q", step, got)
		}
	}

	if _, err := h.m.Restore(ctx, "keep", "deadbeef", nil); !errors.Is(err, backup.ErrNoSnapshot) || !strings.Contains(err.Error(), "deadbeef") {
		t.Errorf("unknown snapshot: %v", err)
	}
	running("unknown snapshot")

	keeper := h.m.BackupKeeper()
	good, _ := keeper.Repo()
	wrong := good
	wrong.Password = "not-the-password"
	keeper.Save(wrong)
	if _, err := h.m.Backup(ctx, "keep", "", nil); !errors.Is(err, backup.ErrWrongPassword) {
		t.Errorf("backup with a wrong password: %v", err)
	}
	if _, err := h.m.Restore(ctx, "keep", "", nil); !errors.Is(err, backup.ErrWrongPassword) {
		t.Errorf("restore with a wrong password: %v", err)
	}
	running("wrong password")

	srv := sshdtest.Start(t)
	keeper.Save(backup.Repo{URL: "sftp:nobody@127.0.0.1:/nothing", Password: "x",
		SFTPCommand: strings.Replace(srv.SSHCommand(), fmt.Sprintf("-p %d", srv.Port), "-p 1", 1)})
	if _, err := h.m.Backup(ctx, "keep", "", nil); !errors.Is(err, backup.ErrUnreachable) {
		t.Errorf("backup to an unreachable repository: %v", err)
	}
	running("unreachable repository")

	keeper.Save(good)
	if snaps, _ := h.m.Backups(ctx, "keep"); len(snaps) != 1 {
		t.Errorf("failed backups left snapshots: %+v", snaps)
	}
}

// TestBackupOverSFTP: the same backup and restore, the repository on a
// real sshd.
func TestBackupOverSFTP(t *testing.T) {
	needRestic(t)
	h := newHarness(t)
	ctx := context.Background()
	srv := sshdtest.Start(t)
	if _, err := h.m.BackupKeeper().Configure(ctx, backup.Repo{URL: srv.RepoURL("apps"), SFTPCommand: srv.SSHCommand()}); err != nil {
		t.Fatal(err)
	}
	h.installKeep(t, "keep", keepApp(h.keepImage(t), "1", ""))
	writeString(t, h.dataFile("keep", "note.txt"), "over sftp")
	if _, err := h.m.Backup(ctx, "keep", "", nil); err != nil {
		t.Fatal(err)
	}
	writeString(t, h.dataFile("keep", "note.txt"), "changed")
	if _, err := h.m.Restore(ctx, "keep", "", nil); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, h.dataFile("keep", "note.txt")); got != "over sftp" {
		t.Errorf("restored note.txt = %q", got)
	}
	if _, err := os.Stat(filepath.Join(srv.Root, "apps", "config")); err != nil {
		t.Errorf("repository not on the SFTP server: %v", err)
	}
}

// TestClone: the copy has the data, answers at its own address, and the
// two are independent.
func TestClone(t *testing.T) {
	h := newKeepHarness(t, "keep")
	ctx := context.Background()
	writeString(t, h.dataFile("keep", "note.txt"), "shared")
	h.get(t, "keep.test.localhost", "/count")

	rec, err := h.m.Clone(ctx, "keep", "keep-copy", CloneOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rec.URL != "https://keep-copy.test.localhost/" || rec.State != StateInstalled {
		t.Errorf("clone record %+v", rec)
	}
	if got := readString(t, h.dataFile("keep-copy", "note.txt")); got != "shared" {
		t.Errorf("clone's note.txt = %q", got)
	}
	if got := h.get(t, "keep-copy.test.localhost", "/count"); got != "2" {
		t.Errorf("clone's count = %s, want 2 (the original's 1, plus this one)", got)
	}
	// Independent: changes to one do not reach the other.
	writeString(t, h.dataFile("keep-copy", "note.txt"), "copy only")
	h.get(t, "keep-copy.test.localhost", "/count")
	if got := readString(t, h.dataFile("keep", "note.txt")); got != "shared" {
		t.Errorf("original's note.txt = %q after the clone's changed", got)
	}
	if got := h.get(t, "keep.test.localhost", "/count"); got != "2" {
		t.Errorf("original's count = %s, want 2", got)
	}
	if h.volumeFile(t, "keep", "count") == h.volumeFile(t, "keep-copy", "count") {
		t.Error("the clone shares the original's volume")
	}
	if _, err := h.m.Clone(ctx, "keep", "keep-copy", CloneOptions{}, nil); !errors.Is(err, ErrAlreadyInstalled) {
		t.Errorf("clone onto an installed id: %v", err)
	}
	// Removing the clone leaves the original alone.
	if err := h.m.Remove(ctx, "keep-copy", false, nil); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, h.dataFile("keep", "note.txt")); got != "shared" {
		t.Errorf("original's note.txt = %q after removing the clone", got)
	}
}

// tagTestImage tags the test image as name (the "versions" of an app).
func (h *harness) tagTestImage(t *testing.T, name string) string {
	t.Helper()
	if _, err := h.docker.ImageTag(context.Background(), client.ImageTagOptions{Source: h.keepImage(t), Target: name}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.docker.ImageRemove(context.Background(), name, client.ImageRemoveOptions{}) })
	return name
}

func (h *harness) image(t *testing.T, id string) string {
	t.Helper()
	st, err := h.m.Status(context.Background(), id)
	if err != nil || len(st.Containers) != 1 {
		t.Fatalf("status of %s: %+v %v", id, st, err)
	}
	return st.Containers[0].Image
}

// TestUpdateRollsBackAndUpdates: a v2 that migrates its data and then
// fails its healthcheck is rolled back by itself: v1 runs, on its image,
// with its data byte for byte as before. A good v2 updates, and its
// migration of the data stays.
func TestUpdateRollsBackAndUpdates(t *testing.T) {
	needRestic(t)
	h := newHarness(t)
	ctx := context.Background()
	h.configureRepo(t, filepath.Join(t.TempDir(), "repo"))
	v1 := h.tagTestImage(t, h.instance+"-keep:1")
	v2 := h.tagTestImage(t, h.instance+"-keep:2")
	h.installKeep(t, "keep", keepApp(v1, "1", ""))
	host := "keep.test.localhost"
	h.get(t, host, "/count")
	dataTxt := h.volumeFile(t, "keep", "data.txt")
	original := []byte("format 1\x00\xff binary tail\n")
	if err := os.WriteFile(dataTxt, original, 0o644); err != nil {
		t.Fatal(err)
	}

	bad, err := writeApp(t, "keep", keepApp(v2, "2", "      MIGRATE: \"format 2\\n\"\n      FAIL_HEALTH: \"1\""))
	if err != nil {
		t.Fatal(err)
	}
	var events []Event
	res, err := h.m.Update(ctx, bad, func(e Event) { events = append(events, e) })
	var ue *UpdateError
	if !errors.As(err, &ue) || !ue.RolledBack {
		t.Fatalf("update to a broken v2: %v; want a rolled back UpdateError", err)
	}
	if !res.RolledBack || res.Backup == "" || res.Downtime <= 0 {
		t.Errorf("result %+v", res)
	}
	if !strings.Contains(err.Error(), "rolled back") || !strings.Contains(ue.Logs, "listening on") {
		t.Errorf("the error does not say what happened, with the failing service's logs:\n%v", err)
	}
	st, _ := h.m.Status(ctx, "keep")
	if st.Version != "1" || st.State != StateInstalled || st.Health != "running" || !strings.Contains(st.Note, "rolled back") {
		t.Errorf("after the rollback: version %s, %s, %s, note %q", st.Version, st.State, st.Health, st.Note)
	}
	if img := h.image(t, "keep"); img != v1 {
		t.Errorf("after the rollback the app runs %s, want %s", img, v1)
	}
	if got, _ := os.ReadFile(dataTxt); !bytes.Equal(got, original) {
		t.Errorf("after the rollback data.txt = %q, want %q byte for byte", got, original)
	}
	if got := h.get(t, host, "/count"); got != "2" {
		t.Errorf("count after the rollback = %s, want 2", got)
	}
	if keys, _ := h.db.Keys("ops/"); len(keys) != 0 {
		t.Errorf("operation records left: %v", keys)
	}

	good, err := writeApp(t, "keep", keepApp(v2, "2", "      MIGRATE: \"format 2\\n\""))
	if err != nil {
		t.Fatal(err)
	}
	res, err = h.m.Update(ctx, good, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.From != "1" || res.To != "2" || res.RolledBack || res.Downtime <= 0 {
		t.Errorf("result %+v", res)
	}
	st, _ = h.m.Status(ctx, "keep")
	if st.Version != "2" || st.Health != "running" {
		t.Errorf("after the update: version %s, %s", st.Version, st.Health)
	}
	if img := h.image(t, "keep"); img != v2 {
		t.Errorf("after the update the app runs %s, want %s", img, v2)
	}
	if got, _ := os.ReadFile(dataTxt); !bytes.Equal(got, append([]byte("format 2\n"), original...)) {
		t.Errorf("after the update data.txt = %q, want the migrated data", got)
	}
	if got := h.get(t, host, "/count"); got != "3" {
		t.Errorf("count after the update = %s, want 3", got)
	}
	snaps, _ := h.m.Backups(ctx, "keep")
	if len(snaps) != 2 || snaps[0].Reason != "pre-update" {
		t.Errorf("pre-update backups: %+v", snaps)
	}
}

// TestUpdateNeedsABackup: without a working repository there is no update,
// and the app runs on as it was.
func TestUpdateNeedsABackup(t *testing.T) {
	needRestic(t)
	h := newHarness(t)
	ctx := context.Background()
	h.installKeep(t, "keep", keepApp(h.keepImage(t), "1", ""))
	next, err := writeApp(t, "keep", keepApp(h.keepImage(t), "2", ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.m.Update(ctx, next, nil); !errors.Is(err, backup.ErrNotConfigured) || !strings.Contains(err.Error(), "not updated") {
		t.Errorf("update without a repository: %v", err)
	}
	st, _ := h.m.Status(ctx, "keep")
	if st.Version != "1" || st.Health != "running" {
		t.Errorf("after the refused update: %s %s", st.Version, st.Health)
	}
}

// TestBackupOntoAFullDisk: a repository on a 2 MB tmpfs cannot take the
// app's 6 MB; the error says the disk is full, and the app runs on with
// its data.
func TestBackupOntoAFullDisk(t *testing.T) {
	needRestic(t)
	if os.Getuid() != 0 {
		dockertest.Unavailable(t, "root (to mount a small tmpfs)", fmt.Errorf("uid %d", os.Getuid()))
	}
	h := newHarness(t)
	ctx := context.Background()
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	h.configureRepo(t, filepath.Join(mnt, "repo"))
	h.installKeep(t, "keep", keepApp(h.keepImage(t), "1", ""))
	big := make([]byte, 6<<20)
	rand.Read(big)
	if err := os.WriteFile(h.dataFile("keep", "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := h.m.Backup(ctx, "keep", "", nil)
	if !errors.Is(err, backup.ErrNoSpace) || !strings.Contains(err.Error(), "free space") {
		t.Fatalf("backup onto a full disk: %v", err)
	}
	st, _ := h.m.Status(ctx, "keep")
	if st.Health != "running" || st.LastBackup == nil || st.LastBackup.Error == "" {
		t.Errorf("after the failed backup: %s, last backup %+v", st.Health, st.LastBackup)
	}
	if got, _ := os.ReadFile(h.dataFile("keep", "big.bin")); !bytes.Equal(got, big) {
		t.Error("the app's data changed")
	}
	if got := h.get(t, "keep.test.localhost", "/"); !strings.HasPrefix(got, "hello") {
		t.Errorf("the app answers %q", got)
	}
}

// TestRestoreOfAStoppedApp: the restored app is checked healthy, then
// stays stopped as it was.
func TestRestoreOfAStoppedApp(t *testing.T) {
	h := newKeepHarness(t, "keep")
	ctx := context.Background()
	writeString(t, h.dataFile("keep", "note.txt"), "saved")
	if _, err := h.m.Backup(ctx, "keep", "", nil); err != nil {
		t.Fatal(err)
	}
	if err := h.m.Stop(ctx, "keep", nil); err != nil {
		t.Fatal(err)
	}
	writeString(t, h.dataFile("keep", "note.txt"), "changed")
	if _, err := h.m.Restore(ctx, "keep", "", nil); err != nil {
		t.Fatal(err)
	}
	st, _ := h.m.Status(ctx, "keep")
	if st.Running || st.Health != "stopped" {
		t.Errorf("after restoring a stopped app: running %v, %s", st.Running, st.Health)
	}
	if got := readString(t, h.dataFile("keep", "note.txt")); got != "saved" {
		t.Errorf("note.txt = %q", got)
	}
}

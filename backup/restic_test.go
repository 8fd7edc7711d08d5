package backup

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stackhub/stackhub/internal/kv"
	"github.com/stackhub/stackhub/internal/repotest"
	"github.com/stackhub/stackhub/internal/sshdtest"
)

// needRestic skips a backup test without restic (fails it in CI).
var needRestic = repotest.NeedRestic

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// roundTrip backs a folder up, changes it, backs it up again, and restores
// each snapshot: each holds the folder as it was.
func roundTrip(t *testing.T, repo Repo) {
	ctx := context.Background()
	if err := repo.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if err := repo.Init(ctx); err != nil {
		t.Fatalf("init of an existing repository: %v", err)
	}
	src := t.TempDir()
	writeTree(t, src, map[string]string{"a.txt": "first", "sub/b.bin": "bee"})
	var statuses int
	s1, err := repo.Backup(ctx, src, []string{"."}, []string{"app:demo"}, func(Progress) { statuses++ })
	if err != nil {
		t.Fatal(err)
	}
	if s1.TotalFilesProcessed != 2 {
		t.Errorf("first backup processed %d files, want 2", s1.TotalFilesProcessed)
	}
	writeTree(t, src, map[string]string{"a.txt": "second"})
	s2, err := repo.Backup(ctx, src, []string{"."}, []string{"app:demo"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s2.FilesChanged != 1 || s2.FilesUnmodified != 1 {
		t.Errorf("incremental backup: %d changed, %d unmodified; want 1 and 1", s2.FilesChanged, s2.FilesUnmodified)
	}
	if _, err := repo.Backup(ctx, src, []string{"."}, []string{"app:other"}, nil); err != nil {
		t.Fatal(err)
	}
	snaps, err := repo.Snapshots(ctx, "app:demo")
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 2 || !strings.HasPrefix(snaps[0].ID, s1.SnapshotID) || snaps[1].Tag("app") != "demo" {
		t.Fatalf("snapshots of app:demo = %+v", snaps)
	}
	for want, id := range map[string]string{"first": s1.SnapshotID, "second": s2.SnapshotID} {
		out := t.TempDir()
		if err := repo.Restore(ctx, id, out); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(filepath.Join(out, "a.txt")); string(b) != want {
			t.Errorf("restored a.txt of %s = %q, want %q", id, b, want)
		}
		if b, _ := os.ReadFile(filepath.Join(out, "sub/b.bin")); string(b) != "bee" {
			t.Errorf("restored sub/b.bin = %q", b)
		}
	}
	if err := repo.Forget(ctx, []string{"app:demo"}, Retention{Last: 1}); err != nil {
		t.Fatal(err)
	}
	snaps, _ = repo.Snapshots(ctx, "app:demo")
	if len(snaps) != 1 || !strings.HasPrefix(snaps[0].ID, s2.SnapshotID) {
		t.Errorf("after forget --keep-last 1: %+v, want only %s", snaps, s2.SnapshotID)
	}
	if other, _ := repo.Snapshots(ctx, "app:other"); len(other) != 1 {
		t.Errorf("forget of app:demo touched app:other: %+v", other)
	}
	if _, err := repo.Snapshot(ctx, "deadbeef", "app:demo"); !errors.Is(err, ErrNoSnapshot) {
		t.Errorf("unknown snapshot: %v, want ErrNoSnapshot", err)
	}
	if err := repo.Restore(ctx, "deadbeef", t.TempDir()); !errors.Is(err, ErrNoSnapshot) {
		t.Errorf("restore of an unknown snapshot: %v, want ErrNoSnapshot", err)
	}
}

func TestLocalFolderRepository(t *testing.T) {
	needRestic(t)
	roundTrip(t, Repo{URL: filepath.Join(t.TempDir(), "repo"), Password: "pw-local", CacheDir: t.TempDir()})
}

func TestSFTPRepository(t *testing.T) {
	needRestic(t)
	srv := sshdtest.Start(t)
	repo := Repo{URL: srv.RepoURL("repo"), Password: "pw-sftp", SFTPCommand: srv.SSHCommand(), CacheDir: t.TempDir()}
	roundTrip(t, repo)
	if _, err := os.Stat(filepath.Join(srv.Root, "repo", "config")); err != nil {
		t.Errorf("the repository is not on the SFTP server: %v", err)
	}
}

func TestBadRepositories(t *testing.T) {
	needRestic(t)
	ctx := context.Background()
	good := Repo{URL: filepath.Join(t.TempDir(), "repo"), Password: "right", CacheDir: t.TempDir()}
	if err := good.Init(ctx); err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	writeTree(t, src, map[string]string{"f": "data"})
	if _, err := good.Backup(ctx, src, []string{"."}, nil, nil); err != nil {
		t.Fatal(err)
	}

	wrong := good
	wrong.Password = "wrong"
	if _, err := wrong.Backup(ctx, src, []string{"."}, nil, nil); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("backup with a wrong password: %v, want ErrWrongPassword", err)
	}
	if err := wrong.Init(ctx); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("init over an existing repository with a wrong password: %v, want ErrWrongPassword", err)
	}
	if snaps, _ := good.Snapshots(ctx); len(snaps) != 1 {
		t.Errorf("failed runs changed the repository: %d snapshots", len(snaps))
	}

	missing := Repo{URL: filepath.Join(t.TempDir(), "nothing-here"), Password: "x", CacheDir: t.TempDir()}
	if _, err := missing.Snapshots(ctx); !errors.Is(err, ErrNoRepository) {
		t.Errorf("missing repository: %v, want ErrNoRepository", err)
	}

	srv := sshdtest.Start(t)
	down := Repo{URL: "sftp:nobody@127.0.0.1:/x", Password: "x", CacheDir: t.TempDir(),
		SFTPCommand: strings.Replace(srv.SSHCommand(), "-p "+strconv.Itoa(srv.Port), "-p 1", 1)}
	if err := down.Init(ctx); !errors.Is(err, ErrUnreachable) {
		t.Errorf("unreachable SFTP server: %v, want ErrUnreachable", err)
	}
}

// TestFullDisk: a repository on a 2 MB tmpfs cannot take 6 MB of new data;
// the error says so, and the snapshots already there stay readable.
func TestFullDisk(t *testing.T) {
	needRestic(t)
	if os.Getuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("the full-disk test mounts a tmpfs and needs root in CI")
		}
		t.Skip("mounting a tmpfs needs root; CI=true makes this a failure")
	}
	ctx := context.Background()
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	repo := Repo{URL: filepath.Join(mnt, "repo"), Password: "pw", CacheDir: t.TempDir()}
	if err := repo.Init(ctx); err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	writeTree(t, src, map[string]string{"small": "kept"})
	first, err := repo.Backup(ctx, src, []string{"."}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 6<<20)
	rand.Read(big) // incompressible
	if err := os.WriteFile(filepath.Join(src, "big"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Backup(ctx, src, []string{"."}, nil, nil); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("backup onto a full disk: %v, want ErrNoSpace", err)
	}
	out := t.TempDir()
	if err := repo.Restore(ctx, first.SnapshotID, out); err != nil {
		t.Fatalf("the earlier snapshot is no longer readable: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "small")); string(b) != "kept" {
		t.Errorf("restored small = %q", b)
	}
}

// newKeeper is a Keeper on a state database in a temporary folder (closed
// when the test ends).
func newKeeper(t *testing.T) Keeper {
	t.Helper()
	data := t.TempDir()
	db, err := kv.Open(filepath.Join(data, "state"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return Keeper{DB: db, DataDir: data}
}

// TestKeeperSealsThePassword: the password is generated, returned once,
// stored sealed (not readable in the state database), and opens the
// repository when read back.
func TestKeeperSealsThePassword(t *testing.T) {
	needRestic(t)
	ctx := context.Background()
	k := newKeeper(t)
	if _, err := k.Repo(); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("before setup: %v, want ErrNotConfigured", err)
	}
	url := filepath.Join(t.TempDir(), "repo")
	pw, err := k.Configure(ctx, Repo{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	if len(pw) < 24 {
		t.Errorf("generated password %q is short", pw)
	}
	st, err := os.Stat(filepath.Join(k.DataDir, KeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v, want mode 0600", st, err)
	}
	sealed, _ := k.Sealed()
	if bytes.Contains(sealed, []byte(pw)) {
		t.Fatalf("the password is in the state database in clear: %s", sealed)
	}
	repo, err := k.Repo()
	if err != nil || repo.Password != pw || repo.URL != url {
		t.Fatalf("read back: %+v %v", repo, err)
	}
	repo.CacheDir = t.TempDir()
	if err := repo.Check(ctx); err != nil {
		t.Errorf("the stored password does not open the repository: %v", err)
	}
	// Another data folder's key does not unseal it.
	os.WriteFile(filepath.Join(k.DataDir, KeyFile), bytes.Repeat([]byte{7}, 32), 0o600)
	if _, err := k.Repo(); err == nil {
		t.Error("a different key unsealed the password")
	}
}

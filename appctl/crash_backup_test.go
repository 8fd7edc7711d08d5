package appctl

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stackhub/stackhub/internal/dockertest"
	"github.com/stackhub/stackhub/internal/kv"
	"github.com/stackhub/stackhub/internal/registry"
	"github.com/stackhub/stackhub/stores"
)

// crashSpec tells TestCrashHelper what to do before its failpoint kills it.
type crashSpec struct {
	Config Config `json:"config"`
	Op     string `json:"op"` // update or restore
	App    string `json:"app"`
	// AppDir is the folder of the new version, for an update.
	AppDir string `json:"app_dir,omitempty"`
}

// TestCrashHelper is the process the crash tests kill (SIGKILL through
// STACKHUB_FAILPOINT, as a power cut would) in the middle of an update or
// a restore. Run by itself it has nothing to do.
func TestCrashHelper(t *testing.T) {
	raw := os.Getenv("STACKHUB_CRASH_SPEC")
	if raw == "" {
		t.Skip("the process the crash tests of updates and restores start and kill; nothing to do alone")
	}
	var s crashSpec
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := kv.Open(filepath.Join(s.Config.DataDir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(ctx, s.Config, db, registry.New())
	if err != nil {
		t.Fatal(err)
	}
	switch s.Op {
	case "update":
		app, err := stores.ReadPath(s.AppDir)
		if err != nil {
			t.Fatal(err)
		}
		_, err = m.Update(ctx, app, nil)
		t.Logf("update returned: %v", err)
	case "restore":
		_, err := m.Restore(ctx, s.App, "", nil)
		t.Logf("restore returned: %v", err)
	}
	db.Close()
	os.Exit(3) // the failpoint was not reached
}

// TestCrashDuringUpdateAndRestore kills a real process at each step of an
// update (to a v2 that migrates the data and then fails) and of a restore,
// then restarts: the app is whole, old or new, never a mix, and it runs.
func TestCrashDuringUpdateAndRestore(t *testing.T) {
	needRestic(t)
	docker := dockertest.Client(t)
	dockertest.TestImage(t, docker, testImage)
	inst := dockertest.Instance(t, docker)
	h := &harness{docker: docker, instance: inst, dataDir: t.TempDir()}
	cfg := Config{DataDir: h.dataDir, Domain: "test.localhost", Instance: inst,
		ProjectPrefix: inst + "-", Network: inst + "-platform", WaitTimeout: 90 * time.Second}
	ctx := context.Background()
	open := func() {
		t.Helper()
		var err error
		if h.db, err = kv.Open(filepath.Join(h.dataDir, "state")); err != nil {
			t.Fatal(err)
		}
		h.reg = registry.New()
		if h.m, err = New(ctx, cfg, h.db, h.reg); err != nil {
			t.Fatal(err)
		}
	}
	open()
	v1 := h.tagTestImage(t, inst+"-keep:1")
	v2 := h.tagTestImage(t, inst+"-keep:2")
	h.configureRepo(t, filepath.Join(t.TempDir(), "repo"))
	h.installKeep(t, "keep", keepApp(v1, "1", ""))
	dataTxt := h.volumeFile(t, "keep", "data.txt")
	writeString(t, dataTxt, "format 1\n")
	writeString(t, h.dataFile("keep", "note.txt"), "backed up")
	if _, err := h.m.Backup(ctx, "keep", "", nil); err != nil {
		t.Fatal(err)
	}
	bad, err := writeApp(t, "keep", keepApp(v2, "2", "      MIGRATE: \"format 2\\n\"\n      FAIL_HEALTH: \"1\""))
	if err != nil {
		t.Fatal(err)
	}
	badDir := filepath.Join(t.TempDir(), "keep")
	os.MkdirAll(badDir, 0o755)
	os.WriteFile(filepath.Join(badDir, "compose.yaml"), bad.Compose, 0o644)

	crash := func(fp string, spec crashSpec) {
		t.Helper()
		h.db.Close()
		spec.Config = cfg
		b, _ := json.Marshal(spec)
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "STACKHUB_FAILPOINT="+fp, "STACKHUB_CRASH_SPEC="+string(b))
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("%s: the helper was not killed at its failpoint (%v):\n%s", fp, err, out)
		}
		open()
		h.m.Reconcile(ctx)
	}
	// whole checks that the app runs, and that its data is all of one state.
	whole := func(fp, version, note, data string) {
		t.Helper()
		st, err := h.m.Status(ctx, "keep")
		if err != nil {
			t.Fatal(err)
		}
		if st.Version != version || st.State != StateInstalled || st.Health != "running" {
			t.Errorf("%s: after the restart the app is version %s, %s, %s (note %q); want version %s running", fp, st.Version, st.State, st.Health, st.Note, version)
		}
		if got := readString(t, dataTxt); got != data {
			t.Errorf("%s: data.txt = %q, want %q", fp, got, data)
		}
		if got := readString(t, h.dataFile("keep", "note.txt")); got != note {
			t.Errorf("%s: note.txt = %q, want %q", fp, got, note)
		}
		if got := h.get(t, "keep.test.localhost", "/"); !strings.HasPrefix(got, "hello") {
			t.Errorf("%s: the app answers %q", fp, got)
		}
		if keys, _ := h.db.Keys("ops/"); len(keys) != 0 {
			t.Errorf("%s: operation records left: %v", fp, keys)
		}
		if left, _ := filepath.Glob(filepath.Join(h.dataDir, "staging", "*")); len(left) != 0 {
			t.Errorf("%s: staging folders left: %v", fp, left)
		}
	}

	for _, fp := range []string{"update-before-backup", "update-after-backup", "update-after-pull", "update-after-stop",
		"update-after-up", "update-rollback-after-down", "update-rollback-after-swap"} {
		crash(fp, crashSpec{Op: "update", App: "keep", AppDir: badDir})
		whole(fp, "1", "backed up", "format 1\n")
		if img := h.image(t, "keep"); img != v1 {
			t.Errorf("%s: the app runs %s, want %s", fp, img, v1)
		}
	}

	// A restore of the first backup over changed data: either all of the
	// data is as it was before the restore, or all of it as in the backup.
	for i, fp := range []string{"restore-after-stage", "restore-after-stop", "restore-after-swap", "restore-before-done"} {
		note := "changed " + string(rune('a'+i))
		writeString(t, h.dataFile("keep", "note.txt"), note)
		writeString(t, dataTxt, "data "+note)
		crash(fp, crashSpec{Op: "restore", App: "keep"})
		if got := readString(t, h.dataFile("keep", "note.txt")); got == "backed up" {
			whole(fp, "1", "backed up", "format 1\n")
		} else {
			whole(fp, "1", note, "data "+note)
		}
	}
	h.db.Close()
}

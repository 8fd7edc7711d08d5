package appctl

import (
	"context"
	"errors"
	"github.com/stackhub/stackhub/stores"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/moby/client"

	"github.com/stackhub/stackhub/internal/registry"
)

// victim is a folder on the host outside StackHub's data folder, with a
// marker file no container may see and StackHub may not touch.
func victim(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "marker"), []byte("SECRET=host-only\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// victimUntouched asserts that the victim folder holds exactly its marker file,
// unchanged.
func victimUntouched(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("victim folder: %v", err)
	}
	if len(entries) != 1 || entries[0].Name() != "marker" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("victim folder holds %v; want only marker", names)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "marker")); err != nil || string(b) != "SECRET=host-only\n" {
		t.Errorf("marker: %q, %v", b, err)
	}
}

// running counts the app's running containers.
func (h *harness) running(t *testing.T, app string) int {
	t.Helper()
	f := client.Filters{}.Add("label", LabelInstance+"="+h.instance, LabelApp+"="+app)
	cl, err := h.docker.ContainerList(context.Background(), client.ContainerListOptions{Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	return len(cl.Items)
}

// mountSources lists the host sources of the app's containers' mounts.
func (h *harness) mountSources(t *testing.T, app string) []string {
	t.Helper()
	ctx := context.Background()
	f := client.Filters{}.Add("label", LabelInstance+"="+h.instance, LabelApp+"="+app)
	cl, err := h.docker.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range cl.Items {
		for _, m := range c.Mounts {
			out = append(out, m.Source)
		}
	}
	return out
}

func containmentError(t *testing.T, err error, want string) {
	t.Helper()
	var ce *ContainmentError
	if !errors.As(err, &ce) || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v; want a ContainmentError saying %q", err, want)
	}
}

// TestBindSourcesAreResolvedBeforeEveryStart: a bind source inside the
// app's data folder that has become a link out of it (as a container with
// the data folder mounted could make it) is refused at start, restart and
// recovery; nothing is started, so Docker never follows the link.
func TestBindSourcesAreResolvedBeforeEveryStart(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	outside := victim(t)
	app, err := writeApp(t, "linky", simpleApp(testImage, "    volumes: [\"${APP_DATA_DIR}/root:/host:ro\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.m.Install(ctx, app, InstallOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	host := "linky.test.localhost"
	if err := h.m.Stop(ctx, "linky", nil); err != nil {
		t.Fatal(err)
	}
	// The app plants data/root -> the host folder.
	root := filepath.Join(h.dataDir, "apps", "linky", "data", "root")
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, root); err != nil {
		t.Fatal(err)
	}
	refused := func(when string, err error) {
		t.Helper()
		containmentError(t, err, "leads out of the app's data folder through a symbolic link")
		if !strings.Contains(err.Error(), root) {
			t.Errorf("%s: the error does not name the link %s: %v", when, root, err)
		}
		if n := h.running(t, "linky"); n != 0 {
			t.Errorf("%s: %d containers running", when, n)
		}
		if e, ok := h.reg.Lookup(host); ok && e.Upstream != "" {
			t.Errorf("%s: routed to %s", when, e.Upstream)
		}
		for _, src := range h.mountSources(t, "linky") {
			if strings.HasPrefix(src, outside) {
				t.Errorf("%s: a container mounts %s", when, src)
			}
		}
		victimUntouched(t, outside)
	}
	refused("start", h.m.Start(ctx, "linky", nil))
	refused("restart", h.m.Restart(ctx, "linky", nil))
	// Recovery: StackHub restarts and brings back the app (recorded as
	// running by the start above): it must not start it either.
	h.m.Reconcile(ctx)
	refused("reconcile", h.m.startCheck(ctx, "linky"))

	// Without the link the same app starts: the refusal was the link's.
	os.Remove(root)
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := h.m.Start(ctx, "linky", nil); err != nil {
		t.Fatal(err)
	}
	if got := h.get(t, host, "/"); !strings.HasPrefix(got, "hello from") {
		t.Fatalf("GET / = %q", got)
	}
	if err := h.m.Remove(ctx, "linky", false, nil); err != nil {
		t.Fatal(err)
	}
	victimUntouched(t, outside)
}

// startCheck returns the error starting app id would meet now, without
// starting it.
func (m *Manager) startCheck(ctx context.Context, id string) error {
	rec, err := m.get(id)
	if err != nil {
		return err
	}
	_, err = m.startProject(ctx, &rec)
	return err
}

// TestInstallRefusesMountsThatLeaveTheAppsFolder: each way out is refused
// at install, an admin's approval does not open it, and nothing is left
// behind (no record, container, route; the host folder untouched).
func TestInstallRefusesMountsThatLeaveTheAppsFolder(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	outside := victim(t)
	cases := []struct {
		name    string
		extra   string
		plant   map[string]string // data-folder path → link target, as an earlier install left it
		approve bool
		want    string
	}{
		{name: "parent", extra: "    volumes: [\"${APP_DATA_DIR}/..:/app\"]\n", approve: true,
			want: "holds StackHub's own files for the app"},
		{name: "source", extra: "    volumes: [\"${APP_DATA_DIR}/../source:/src\"]\n", approve: true,
			want: "holds StackHub's own files for the app"},
		{name: "composefile", extra: "    volumes: [\"${APP_DATA_DIR}/../source/compose.yaml:/c.yaml\"]\n", approve: true,
			want: "holds StackHub's own files for the app"},
		{name: "state", extra: "    volumes: [\"${APP_DATA_DIR}/../../../state:/state\"]\n", approve: true,
			want: "is in StackHub's data folder"},
		{name: "otherapp", extra: "    volumes: [\"${APP_DATA_DIR}/../../first/data:/theirs\"]\n", approve: true,
			want: "is in StackHub's data folder"},
		{name: "keptlink", extra: "    volumes: [\"${APP_DATA_DIR}/root:/host\"]\n",
			plant: map[string]string{"root": outside}, approve: true, want: "leads out of the app's data folder"},
		{name: "deeplink", extra: "    volumes: [\"${APP_DATA_DIR}/a/b/c:/host\"]\n",
			plant: map[string]string{"a": outside}, approve: true, want: "leads out of the app's data folder"},
		{name: "dangling", extra: "    volumes: [\"${APP_DATA_DIR}/new:/host\"]\n",
			plant: map[string]string{"new": filepath.Join(outside, "created", "by", "docker")}, approve: true, want: "which does not exist"},
		{name: "nested", extra: "    volumes: [\"${APP_DATA_DIR}:/data\"]\n  worker:\n    image: " + testImage + "\n    volumes: [\"${APP_DATA_DIR}/root:/host:ro\"]\n",
			approve: true, want: "inside it: a container could replace"},
		{name: "envfile", extra: "    env_file: [\"${APP_DATA_DIR}/app.env\"]\n",
			plant: map[string]string{"app.env": filepath.Join(outside, "marker")}, approve: true, want: "service web reads"},
		{name: "secretfile", extra: "    secrets: [token]\nsecrets:\n  token:\n    file: ${APP_DATA_DIR}/token\n",
			plant: map[string]string{"token": filepath.Join(outside, "marker")}, approve: true, want: "secret token mounts"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			app, err := writeApp(t, c.name, simpleApp(testImage, c.extra))
			if err != nil {
				t.Fatal(err)
			}
			data := filepath.Join(h.dataDir, "apps", c.name, "data")
			for name, target := range c.plant {
				os.MkdirAll(data, 0o755)
				if err := os.Symlink(target, filepath.Join(data, name)); err != nil {
					t.Fatal(err)
				}
			}
			_, err = h.m.Install(ctx, app, InstallOptions{ApproveHazards: c.approve}, nil)
			containmentError(t, err, c.want)
			if len(c.plant) == 0 {
				h.unchanged(t, c.name)
			} else {
				// The data folder was there before (kept from an earlier
				// install): it stays, nothing else is left.
				if keys, _ := h.db.Keys("apps/" + c.name); len(keys) != 0 {
					t.Errorf("record left: %v", keys)
				}
				if n, _, _ := h.objects(t, c.name); n != 0 {
					t.Errorf("%d containers left", n)
				}
				for name := range c.plant {
					if _, err := os.Lstat(filepath.Join(data, name)); err != nil {
						t.Errorf("the app's data was touched: %v", err)
					}
				}
			}
			victimUntouched(t, outside)
		})
	}
}

// TestTheRecordedProjectIsWhatRuns: StackHub runs the project it checked
// and recorded at install. Changing the compose files in the app's folder
// (as a container that could reach them would) changes nothing at restart
// or recovery; a lost folder comes back from the record.
func TestTheRecordedProjectIsWhatRuns(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	outside := victim(t)
	app, err := writeApp(t, "steady", simpleApp(testImage, "    volumes: [\"${APP_DATA_DIR}:/data\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.m.Install(ctx, app, InstallOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	host := "steady.test.localhost"
	dir := filepath.Join(h.dataDir, "apps", "steady")
	hostile := strings.Replace(simpleApp(testImage, "    volumes: [\""+outside+":/host\"]\n"), `PORT: "8080"`, `PORT: "8080", NAME: "pwned"`, 1)
	for _, f := range []string{filepath.Join(dir, "source", "compose.yaml"), filepath.Join(dir, "compose.yaml")} {
		if err := os.WriteFile(f, []byte(hostile), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	checkRuns := func(when string) {
		t.Helper()
		if got := h.get(t, host, "/"); !strings.HasPrefix(got, "hello from testapp") {
			t.Errorf("%s: GET / = %q; want the recorded app", when, got)
		}
		for _, src := range h.mountSources(t, "steady") {
			if strings.HasPrefix(src, outside) {
				t.Errorf("%s: a container mounts %s", when, src)
			}
		}
		victimUntouched(t, outside)
	}
	if err := h.m.Restart(ctx, "steady", nil); err != nil {
		t.Fatal(err)
	}
	checkRuns("after restart")

	// Containers removed behind StackHub's back are recreated from the
	// record, not from the files.
	f := client.Filters{}.Add("label", LabelInstance+"="+h.instance, LabelApp+"="+"steady")
	cl, err := h.docker.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cl.Items {
		if _, err := h.docker.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
			t.Fatal(err)
		}
	}
	h.m.Reconcile(ctx)
	checkRuns("after recovery")

	// A lost app folder comes back from the record.
	if err := os.RemoveAll(filepath.Join(dir, "source")); err != nil {
		t.Fatal(err)
	}
	if err := h.m.Restart(ctx, "steady", nil); err != nil {
		t.Fatal(err)
	}
	checkRuns("after the source folder was lost")
	if b, err := os.ReadFile(filepath.Join(dir, "source", "compose.yaml")); err != nil || string(b) != string(stores.WithoutMeta(app.Compose)) {
		t.Errorf("source not rewritten from the record: %v", err)
	}
	if err := h.m.Remove(ctx, "steady", false, nil); err != nil {
		t.Fatal(err)
	}
}

// TestStackHubsFileOperationsDoNotFollowLinks: links an app planted in its
// data folder lead StackHub's own writes and removals nowhere outside it.
func TestStackHubsFileOperationsDoNotFollowLinks(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	outside := victim(t)
	app, err := writeApp(t, "planter", simpleApp(testImage, "    volumes: [\"${APP_DATA_DIR}/config:/config\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	app.Seed = map[string][]byte{"config/app.conf": []byte("default\n"), "extra/readme": []byte("hi\n")}
	if _, err := h.m.Install(ctx, app, InstallOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(h.dataDir, "apps", "planter", "data")
	if err := h.m.Stop(ctx, "planter", nil); err != nil {
		t.Fatal(err)
	}

	// Seed files: the folder a seed file goes in is now a link out.
	os.RemoveAll(filepath.Join(data, "extra"))
	if err := os.Symlink(outside, filepath.Join(data, "extra")); err != nil {
		t.Fatal(err)
	}
	err = h.m.Start(ctx, "planter", nil)
	if err == nil || !strings.Contains(err.Error(), "seed file extra/readme") {
		t.Fatalf("start with a planted link: err = %v", err)
	}
	if n := h.running(t, "planter"); n != 0 {
		t.Errorf("%d containers running", n)
	}
	victimUntouched(t, outside)

	// Removal: links to a host folder and to a host file are removed, not
	// followed.
	if err := os.Symlink(filepath.Join(outside, "marker"), filepath.Join(data, "config", "file-link")); err != nil {
		t.Fatal(err)
	}
	if err := h.m.Remove(ctx, "planter", false, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(h.dataDir, "apps", "planter")); !os.IsNotExist(err) {
		t.Errorf("app folder left: %v", err)
	}
	victimUntouched(t, outside)
}

// TestAppsCannotTakeAnotherAppsVolume: Compose reuses an existing volume of
// the same name, so an app naming another app's volume would mount its
// data. Either order is refused, and the owner's data is untouched.
func TestAppsCannotTakeAnotherAppsVolume(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	withVolume := func(name string) string {
		return strings.Replace(simpleApp(testImage, "    volumes: [\"store:/store\"]\nvolumes:\n  store:"+name+"\n"), `PORT: "8080"`, `PORT: "8080", DATA_DIR: /store`, 1)
	}
	owner, err := writeApp(t, "owner", withVolume(""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.m.Install(ctx, owner, InstallOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	if got := h.get(t, "owner.test.localhost", "/count"); got != "1" {
		t.Fatalf("owner's count = %q", got)
	}

	// Taking an installed app's volume.
	thief, err := writeApp(t, "thief", withVolume(" {name: "+h.m.cfg.ProjectPrefix+"owner_store}"))
	if err != nil {
		t.Fatal(err)
	}
	// The fixed volume name is a hazard of its own (volume-name); approved,
	// the containment check still refuses another app's volume.
	approveName := InstallOptions{ApproveHazardNames: []string{"volume-name"}}
	_, err = h.m.Install(ctx, thief, approveName, nil)
	containmentError(t, err, "which is a volume of app owner")
	h.unchanged(t, "thief")

	// Taking the name of an app's volume before it is installed.
	squatter, err := writeApp(t, "squatter", withVolume(" {name: "+h.m.cfg.ProjectPrefix+"later_store}"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.m.Install(ctx, squatter, approveName, nil); err != nil {
		t.Fatal(err)
	}
	later, err := writeApp(t, "later", withVolume(""))
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.m.Install(ctx, later, InstallOptions{}, nil)
	containmentError(t, err, "which is a volume of app squatter")
	if keys, _ := h.db.Keys("apps/later"); len(keys) != 0 {
		t.Errorf("record left: %v", keys)
	}

	if got := h.get(t, "owner.test.localhost", "/count"); got != "2" {
		t.Errorf("owner's count = %q; its volume was disturbed", got)
	}
	for _, app := range []string{"owner", "squatter"} {
		if err := h.m.Remove(ctx, app, false, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOlderInstallsThatFailTheChecksAreStopped: an app installed by an
// earlier StackHub, whose compose file mounts the app's own folder, is not
// brought back when StackHub starts: its running containers are stopped,
// and the record says why.
func TestOlderInstallsThatFailTheChecksAreStopped(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	app, err := writeApp(t, "oldtimer", simpleApp(testImage, ""))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := h.m.Install(ctx, app, InstallOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Recorded by the earlier StackHub, which let this through.
	rec.Compose = []byte(simpleApp(testImage, "    volumes: [\"${APP_DATA_DIR}/..:/app\"]\n"))
	h.makeLegacy(t, rec)
	if n := h.running(t, "oldtimer"); n != 1 {
		t.Fatalf("%d containers of the older install running", n)
	}

	reg := registry.New()
	m2, err := New(ctx, h.m.cfg, h.db, reg)
	if err != nil {
		t.Fatal(err)
	}
	m2.Reconcile(ctx)
	if n := h.running(t, "oldtimer"); n != 0 {
		t.Errorf("%d containers still running", n)
	}
	if e, ok := reg.Lookup("oldtimer.test.localhost"); ok && e.Upstream != "" {
		t.Errorf("routed to %s", e.Upstream)
	}
	st, err := m2.Status(ctx, "oldtimer")
	if err != nil {
		t.Fatal(err)
	}
	// The hazard check (app-files) or the containment check refuses it.
	if st.Running || !strings.Contains(st.Note, "stopped this app") || !(strings.Contains(st.Error, "holds StackHub's own files for the app") || strings.Contains(st.Error, "[app-files]")) {
		t.Errorf("status: running %v, note %q, error %q", st.Running, st.Note, st.Error)
	}
	for _, src := range h.mountSources(t, "oldtimer") {
		if src == filepath.Join(h.dataDir, "apps", "oldtimer") {
			t.Errorf("a container mounts the app's folder")
		}
	}
	if err := m2.Start(ctx, "oldtimer", nil); !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrHazards) {
		t.Errorf("start: %v", err)
	}
	if err := m2.Remove(ctx, "oldtimer", false, nil); err != nil {
		t.Fatal(err)
	}
}

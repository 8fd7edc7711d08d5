package appctl

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/compose/v5/pkg/api"
	"github.com/moby/moby/client"

	"github.com/stackhub/stackhub/internal/dockertest"
	"github.com/stackhub/stackhub/internal/kv"
	"github.com/stackhub/stackhub/internal/registry"
	"github.com/stackhub/stackhub/stores"
)

// hazardImage is the test server image of these tests, under a tag of its
// own: its /file route says what a container can read.
const hazardImage = "stackhub-testapp:hazards"

func newHazardHarness(t *testing.T) *harness {
	t.Helper()
	docker := dockertest.Client(t)
	dockertest.TestImage(t, docker, hazardImage)
	inst := dockertest.Instance(t, docker)
	h := &harness{docker: docker, instance: inst, dataDir: t.TempDir(), reg: registry.New()}
	var err error
	h.db, err = kv.Open(filepath.Join(h.dataDir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.db.Close() })
	h.m, err = New(context.Background(), Config{
		DataDir: h.dataDir, Domain: "test.localhost", Instance: inst,
		ProjectPrefix: inst + "-", Network: inst + "-platform", WaitTimeout: 90 * time.Second,
	}, h.db, h.reg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// hostMarker writes a file with unguessable content in a fresh folder of
// the host, standing for the host's private files.
func hostMarker(t *testing.T) (dir, content string) {
	t.Helper()
	b := make([]byte, 12)
	rand.Read(b)
	content = "MARKER=" + hex.EncodeToString(b)
	dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "marker"), []byte(content+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, content
}

// untouched makes p look never read (an access time in the past, before
// its modification time) and returns a check that it still was not read:
// on a file system mounted with relatime, any read sets the access time.
// The check then reads p itself, to prove that a read would have shown.
func untouched(t *testing.T, p string) func() {
	t.Helper()
	old := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(p, old, old.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	return func() {
		t.Helper()
		if at := atime(t, p); !at.Equal(old) {
			t.Errorf("%s was read (access time %s)", p, at)
		}
		if _, err := os.ReadFile(p); err != nil {
			t.Fatal(err)
		}
		if atime(t, p).Equal(old) {
			t.Fatalf("reading %s did not change its access time (noatime?): this check cannot tell a read", p)
		}
	}
}

func atime(t *testing.T, p string) time.Time {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return time.Unix(st.Atim.Sec, st.Atim.Nsec).UTC()
}

// noProject asserts that nothing of the app exists: besides unchanged's
// checks (record, route, labelled objects, folder), no container, network
// or volume of its compose project, whatever its labels.
func (h *harness) noProject(t *testing.T, app string) {
	t.Helper()
	h.unchanged(t, app)
	ctx := context.Background()
	project := h.instance + "-" + app
	f := client.Filters{}.Add("label", api.ProjectLabel+"="+project)
	cl, _ := h.docker.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	nl, _ := h.docker.NetworkList(ctx, client.NetworkListOptions{Filters: client.Filters{}.Add("name", project)})
	vl, _ := h.docker.VolumeList(ctx, client.VolumeListOptions{Filters: client.Filters{}.Add("name", project)})
	if len(cl.Items)+len(nl.Items)+len(vl.Items) != 0 {
		t.Errorf("objects of project %s left: %d containers, %d networks, %d volumes", project, len(cl.Items), len(nl.Items), len(vl.Items))
	}
}

// refused installs app and asserts the refusal names each want (a
// finding's service and setting, as "service \"web\": volumes: /x"), and
// that nothing was created.
func (h *harness) refused(t *testing.T, app stores.App, opts InstallOptions, want ...string) *HazardError {
	t.Helper()
	_, err := h.m.Install(context.Background(), app, opts, nil)
	var hz *HazardError
	if !errors.As(err, &hz) || !errors.Is(err, ErrHazards) {
		t.Fatalf("install %s: err = %v, want a hazard refusal", app.ID, err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("refusal does not say %q:\n%v", w, err)
		}
	}
	if !strings.Contains(err.Error(), "--approve") {
		t.Errorf("refusal does not say how to approve: %v", err)
	}
	h.noProject(t, app.ID)
	return hz
}

// Each class of hazard is refused on the real engine with a message naming
// the service (or volume …) and the key, and nothing is created; where an
// admin's approval is meant to open the way, it does, and the container
// then sees the host's file (so the refusal above is what kept it out).
func TestHazardsRefusedOnTheEngine(t *testing.T) {
	h := newHazardHarness(t)
	ctx := context.Background()
	dir, content := hostMarker(t)
	app := func(id, extra string) stores.App {
		t.Helper()
		a, err := writeApp(t, id, simpleApp(hazardImage, strings.ReplaceAll(extra, "MARKERDIR", dir)))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	// approved installs with the approval of one hazard name and returns
	// what the container reads at path.
	approved := func(t *testing.T, a stores.App, name, path string) string {
		t.Helper()
		if _, err := h.m.Install(ctx, a, InstallOptions{ApproveHazardNames: []string{name}}, nil); err != nil {
			t.Fatalf("approved install: %v", err)
		}
		defer h.m.Remove(ctx, a.ID, false, nil)
		return h.get(t, a.ID+".test.localhost", "/file?path="+path)
	}

	t.Run("named volume binding a host folder", func(t *testing.T) {
		a := app("volbind", "    volumes: [\"hostdir:/data\"]\nvolumes:\n  hostdir:\n    driver_opts: {type: none, o: bind, device: MARKERDIR}\n")
		if len(a.Hazards) == 0 {
			t.Errorf("the store side lists no hazard")
		}
		notRead := untouched(t, filepath.Join(dir, "marker"))
		h.refused(t, a, InstallOptions{}, `volume "hostdir": driver_opts: type=none o=bind device=`+dir, "[host-path]")
		// Approving another hazard does not open it.
		h.refused(t, a, InstallOptions{ApproveHazardNames: []string{"privileged"}}, `volume "hostdir"`)
		notRead()
		if got := approved(t, a, "host-path", "/data/marker"); got != content {
			t.Errorf("approved: container read %q, want the marker", got)
		}
	})
	t.Run("secret from a host file", func(t *testing.T) {
		a := app("secretfile", "    secrets: [s]\nsecrets:\n  s:\n    file: MARKERDIR/marker\n")
		notRead := untouched(t, filepath.Join(dir, "marker"))
		h.refused(t, a, InstallOptions{}, `secret "s": file: `+dir+"/marker", "[host-path]")
		notRead()
		if got := approved(t, a, "host-path", "/run/secrets/s"); got != content {
			t.Errorf("approved: container read %q, want the marker", got)
		}
	})
	t.Run("config and env_file and label_file from host files", func(t *testing.T) {
		own, _ := hostMarker(t)
		marker := filepath.Join(own, "marker")
		a := app("configfile", "    env_file: [MARKERDIR/marker]\n    label_file: [MARKERDIR/marker]\n    configs: [c]\nconfigs:\n  c:\n    file: ../../../../../../../../../MARKERDIR/marker\n")
		a.Compose = []byte(strings.ReplaceAll(string(a.Compose), dir, own))
		notRead := untouched(t, marker)
		h.refused(t, a, InstallOptions{}, `service "web": env_file: `+marker, `service "web": label_file: `+marker, `config "c": file: `+marker)
		notRead()
	})
	t.Run("env_file of the app's own folder is read", func(t *testing.T) {
		folder := filepath.Join(t.TempDir(), "ownenv")
		os.MkdirAll(folder, 0o755)
		os.WriteFile(filepath.Join(folder, "app.env"), []byte("NAME=from-env-file-${APP_ID}\n"), 0o644)
		os.WriteFile(filepath.Join(folder, "compose.yaml"), []byte(simpleApp(hazardImage, "    env_file: [./app.env]\n")), 0o644)
		a, err := stores.ReadPath(folder)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.m.Install(ctx, a, InstallOptions{}, nil); err != nil {
			t.Fatal(err)
		}
		defer h.m.Remove(ctx, "ownenv", false, nil)
		if got := h.get(t, "ownenv.test.localhost", "/"); !strings.HasPrefix(got, "hello from from-env-file-ownenv") {
			t.Errorf("GET / = %q, want the env_file's value", got)
		}
	})
	t.Run("include or extends of a host file", func(t *testing.T) {
		own, _ := hostMarker(t)
		base := filepath.Join(own, "base.yaml")
		if err := os.WriteFile(base, []byte("services:\n  base:\n    image: "+hazardImage+"\n    volumes: [\"/:/host\"]\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		notRead := untouched(t, base)
		// The stores refuse such a file when they read it; the install
		// refuses it too, for an app that reaches it by another way.
		for _, extra := range []string{"    extends: {file: " + base + ", service: base}\n", "include: [" + base + "]\n"} {
			a := app("extender", "")
			a.Compose = append(a.Compose, extra...)
			_, err := h.m.Install(ctx, a, InstallOptions{}, nil)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "outside the app's folder") {
				t.Errorf("install with %q: %v", extra, err)
			}
			h.noProject(t, a.ID)
		}
		notRead()
	})
	t.Run("bind mount of a host folder", func(t *testing.T) {
		a := app("bind", "    volumes: [\"MARKERDIR:/host:ro\"]\n")
		notRead := untouched(t, filepath.Join(dir, "marker"))
		h.refused(t, a, InstallOptions{}, `service "web": volumes: `+dir, "[host-path]")
		notRead()
		if got := approved(t, a, "host-path", "/host/marker"); got != content {
			t.Errorf("approved: container read %q, want the marker", got)
		}
	})
	t.Run("hook containers", func(t *testing.T) {
		a := app("hooks", "    pre_start:\n      - image: "+hazardImage+"\n        command: [\"-probe\", \"http://127.0.0.1:1/\"]\n        volumes: [\"/:/host\"]\n"+
			"    post_start:\n      - command: [\"/testapp\", \"-probe\", \"http://127.0.0.1:8080/health\"]\n        privileged: true\n")
		h.refused(t, a, InstallOptions{}, `service "web": pre_start[0].volumes: /`, `service "web": post_start[0].privileged`)
	})
	t.Run("kernel and runtime settings", func(t *testing.T) {
		a := app("kernel", "    security_opt: [\"seccomp:unconfined\", \"apparmor=unconfined\"]\n    device_cgroup_rules: [\"c 1:3 mr\"]\n"+
			"    userns_mode: host\n    cgroup: host\n    uts: host\n    labels: {dev.stackhub.app: other, com.docker.compose.project: other}\n")
		h.refused(t, a, InstallOptions{},
			`service "web": security_opt: seccomp:unconfined`, `service "web": security_opt: apparmor=unconfined`,
			`service "web": device_cgroup_rules: c 1:3 mr`, `service "web": userns_mode: host`, `service "web": cgroup: host`,
			`service "web": uts: host`, `service "web": labels: dev.stackhub.app`, `service "web": labels: com.docker.compose.project`)
	})
	t.Run("install values cannot hide a path", func(t *testing.T) {
		a := app("sneaky", "    volumes: [\"${WHERE}:/host\"]\n")
		a.Fields = []stores.Field{{Key: "WHERE", Label: "Where", Default: "./data"}}
		h.refused(t, a, InstallOptions{Values: map[string]string{"WHERE": dir}}, `service "web": volumes: `+dir)
	})

	// Joining another app: a victim app runs; the hostile one tries its
	// namespaces, volumes, network and container.
	victim := app("victim", "")
	if _, err := h.m.Install(ctx, victim, InstallOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	vc := h.instance + "-victim-web-1"
	t.Run("joining another app", func(t *testing.T) {
		a := app("joiner", "  spy:\n    image: "+hazardImage+"\n    network_mode: container:"+vc+"\n    pid: container:"+vc+"\n"+
			"    ipc: container:"+vc+"\n    volumes_from: [\"container:"+vc+"\"]\n"+
			"  spy2:\n    image: "+hazardImage+"\n    networks: [theirs]\n    external_links: [\""+vc+":victim\"]\n"+
			"networks:\n  theirs:\n    external: true\n    name: "+h.instance+"-victim_default\n")
		h.refused(t, a, InstallOptions{},
			`service "spy": network_mode: container:`+vc, `service "spy": pid: container:`+vc, `service "spy": ipc: container:`+vc,
			`service "spy": volumes_from: container:`+vc, `network "theirs": external: `+h.instance+"-victim_default",
			`service "spy2": external_links: `+vc, "[join-container]", "[external-network]")
	})
	// The victim is untouched: still one running container, still routed.
	if got := h.get(t, "victim.test.localhost", "/health"); got != "ok" {
		t.Errorf("victim /health = %q", got)
	}
	if c, _, _ := h.objects(t, "victim"); c != 1 {
		t.Errorf("victim has %d containers", c)
	}

	// Every start runs the project checked and recorded at install, never a
	// compose file that changed since: a compose file that gained a hazard
	// (written into the record's source by hand, and the folder on disk
	// lost) does not reach the engine.
	t.Run("start runs the checked project", func(t *testing.T) {
		if err := h.m.Stop(ctx, "victim", nil); err != nil {
			t.Fatal(err)
		}
		var rec Record
		if err := h.db.Get(recordKey("victim"), &rec); err != nil {
			t.Fatal(err)
		}
		rec.Compose = []byte(simpleApp(hazardImage, "    privileged: true\n"))
		if err := h.db.Put(recordKey("victim"), rec); err != nil {
			t.Fatal(err)
		}
		os.RemoveAll(filepath.Join(h.dataDir, "apps", "victim", "source"))
		if err := h.m.Start(ctx, "victim", nil); err != nil {
			t.Fatalf("start of the recorded project: %v", err)
		}
		cl, err := h.docker.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: client.Filters{}.Add("label", LabelApp+"=victim")})
		if err != nil {
			t.Fatal(err)
		}
		if len(cl.Items) == 0 {
			t.Fatal("victim has no containers after start")
		}
		for _, c := range cl.Items {
			ins, err := h.docker.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if ins.Container.HostConfig.Privileged {
				t.Errorf("victim container %s runs privileged: the changed compose file was run", c.ID)
			}
		}
	})
}

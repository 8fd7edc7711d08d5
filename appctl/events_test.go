package appctl

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/compose/v5/pkg/api"
	"github.com/moby/moby/client"
)

// kinds lists an app's event kinds, oldest first.
func kinds(t *testing.T, m *Manager, id string) []string {
	t.Helper()
	evs, err := m.Events(id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(evs) - 1; i >= 0; i-- {
		out = append(out, evs[i].Kind)
	}
	return out
}

// waitForKinds waits until the app's history ends with want; the events of
// a crash come from Docker's event stream, asynchronously.
func waitForKinds(t *testing.T, m *Manager, id string, want ...string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got := kinds(t, m, id)
		if len(got) >= len(want) && strings.Join(got[len(got)-len(want):], ",") == strings.Join(want, ",") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("events of %s: got %q, want them to end with %q", id, got, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestAppEventsRecordLifecycleCrashAndRecovery(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	app := counterApp(t)
	if _, err := h.m.Install(ctx, app, InstallOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.m.Remove(context.Background(), app.ID, false, nil) })
	if err := h.m.Stop(ctx, app.ID, nil); err != nil {
		t.Fatal(err)
	}
	if err := h.m.Start(ctx, app.ID, nil); err != nil {
		t.Fatal(err)
	}
	if err := h.m.Restart(ctx, app.ID, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(kinds(t, h.m, app.ID), ","), "installed,stopped,started,restarted"; got != want {
		t.Fatalf("events after install, stop, start, restart: %s, want %s", got, want)
	}
	evs, _ := h.m.Events(app.ID)
	if !evs[len(evs)-1].Time.Before(evs[0].Time) && !evs[len(evs)-1].Time.Equal(evs[0].Time) {
		t.Fatalf("events not newest first: %+v", evs)
	}

	// A container killed behind StackHub's back: a crash, then the
	// recovery, and the app answers again.
	h.m.Run()
	t.Cleanup(h.m.Close)
	web := h.container(t, app.ID, "web")
	if _, err := h.docker.ContainerKill(ctx, web, client.ContainerKillOptions{Signal: "KILL"}); err != nil {
		t.Fatal(err)
	}
	waitForKinds(t, h.m, app.ID, "crashed", "recovered")
	evs, _ = h.m.Events(app.ID)
	t.Logf("after the kill: %+v", evs[:2])
	if !strings.Contains(evs[1].Detail, "service web") || !strings.Contains(evs[0].Detail, "web") {
		t.Fatalf("crash and recovery do not name the service: %+v", evs[:2])
	}
	waitRouted(t, h, app.ID)
	if got := h.get(t, app.ID+".test.localhost", "/"); got == "" {
		t.Fatal("app does not answer after its recovery")
	}

	// A service that turns unhealthy and healthy again (as Docker reports
	// its healthcheck's outcome).
	attrs := map[string]string{LabelApp: app.ID, api.ServiceLabel: "db"}
	h.m.onCrashEvent(ctx, "health_status: unhealthy", h.container(t, app.ID, "db"), attrs)
	h.m.onCrashEvent(ctx, "health_status: healthy", h.container(t, app.ID, "db"), attrs)
	evs, _ = h.m.Events(app.ID)
	if evs[1].Kind != EventCrashed || !strings.Contains(evs[1].Detail, "db became unhealthy") || evs[0].Kind != EventRecovered {
		t.Fatalf("events of an unhealthy spell: %+v", evs[:2])
	}

	// Our own stop is no crash.
	if err := h.m.Stop(ctx, app.ID, nil); err != nil {
		t.Fatal(err)
	}
	if err := h.m.Start(ctx, app.ID, nil); err != nil {
		t.Fatal(err)
	}
	got := kinds(t, h.m, app.ID)
	if strings.Join(got[len(got)-2:], ",") != "stopped,started" {
		t.Fatalf("events after our own stop and start: %q", got)
	}

	// The events of a removed app go with it.
	if err := h.m.Remove(ctx, app.ID, false, nil); err != nil {
		t.Fatal(err)
	}
	if got := kinds(t, h.m, app.ID); len(got) != 0 {
		t.Fatalf("removed app still has events: %q", got)
	}
}

// container returns the id of the app's container of service svc.
func (h *harness) container(t *testing.T, app, svc string) string {
	t.Helper()
	f := client.Filters{}.Add("label", LabelInstance+"="+h.instance, LabelApp+"="+app, "com.docker.compose.service="+svc)
	cl, err := h.docker.ContainerList(context.Background(), client.ContainerListOptions{All: true, Filters: f})
	if err != nil || len(cl.Items) != 1 {
		t.Fatalf("container of %s/%s: %v (%d found)", app, svc, err, len(cl.Items))
	}
	return cl.Items[0].ID
}

// waitRouted waits until the app's route points at a running upstream.
func waitRouted(t *testing.T, h *harness, id string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		if e, ok := h.reg.Lookup(id + ".test.localhost"); ok && e.Upstream != "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(fmt.Sprintf("%s not routed after its recovery", id))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// A backup's outcome is an event of the app: a failed one says why.
func TestAppEventsRecordBackups(t *testing.T) {
	needRestic(t)
	h := newHarness(t)
	ctx := context.Background()
	h.installKeep(t, "keep", keepApp(h.keepImage(t), "1", ""))
	if _, err := h.m.Backup(ctx, "keep", "", nil); err == nil {
		t.Fatal("backup without a repository succeeded")
	}
	h.configureRepo(t, filepath.Join(t.TempDir(), "repo"))
	res, err := h.m.Backup(ctx, "keep", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	evs, _ := h.m.Events("keep")
	if len(evs) < 3 || evs[0].Kind != EventBackupOK || evs[1].Kind != EventBackupFail || evs[2].Kind != EventInstalled {
		t.Fatalf("events: %+v", evs)
	}
	if !strings.Contains(evs[0].Detail, short(res.Snapshot)) || !strings.Contains(evs[1].Detail, "manual backup: ") {
		t.Errorf("backup events do not say which snapshot or why: %+v", evs[:2])
	}
}

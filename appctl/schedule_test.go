package appctl

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stackhub/stackhub/backup"
	"github.com/stackhub/stackhub/stores"
)

func TestScheduleDueAndWindow(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, time.Local)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	s := Schedule{Daily: "03:00"}
	if !s.due(at("2026-11-29 03:00")) || s.due(at("2026-11-29 02:59")) && !s.LastRun.IsZero() {
		t.Error("a schedule that never ran is due once its time has passed")
	}
	s.LastRun = at("2026-11-29 03:01")
	if s.due(at("2026-11-29 23:00")) || s.due(at("2026-11-30 02:59")) || !s.due(at("2026-11-30 03:00")) {
		t.Error("a daily schedule is due once a day, at its time")
	}
	if !inWindow("23:00-02:00", at("2026-11-29 01:00")) || inWindow("23:00-02:00", at("2026-11-29 12:00")) || !inWindow("02:00-05:00", at("2026-11-29 02:00")) {
		t.Error("windows")
	}
	bad := Schedule{Daily: "25:00"}
	if bad.Normalize() == nil {
		t.Error("an invalid time was accepted")
	}
	neg := Schedule{Daily: "03:00", Retention: backup.Retention{Daily: -1}}
	if err := neg.Normalize(); !errors.Is(err, ErrInvalid) {
		t.Errorf("a negative retention: %v", err)
	}
	def := Schedule{}
	def.Normalize()
	if def.Daily != "03:00" || def.Retention != backup.DefaultRetention || def.AutoUpdate {
		t.Errorf("defaults: %+v", def)
	}
}

// TestSchedulesBackUpForgetAndAutoUpdate: a due schedule backs the app up
// once, keeps the retention's snapshots, shows its result, and updates the
// app within its window when the store has a newer version.
func TestSchedulesBackUpForgetAndAutoUpdate(t *testing.T) {
	needRestic(t)
	h := newHarness(t)
	ctx := context.Background()
	h.configureRepo(t, filepath.Join(t.TempDir(), "repo"))
	app := h.installKeep(t, "keep", keepApp(h.keepImage(t), "1", ""))
	if _, err := h.m.SetSchedule("keep", &Schedule{Daily: "03:00", Retention: backup.Retention{Last: 2}}); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 1, 4, 0, 0, 0, time.Local)
	var boxRuns int
	for i := range 4 {
		now := day.AddDate(0, 0, i)
		h.m.RunSchedules(ctx, now, nil)
		h.m.RunSchedules(ctx, now.Add(time.Hour), nil) // same day: nothing more
	}
	snaps, err := h.m.Backups(ctx, "keep")
	if err != nil || len(snaps) != 2 {
		t.Fatalf("after 4 daily runs with keep-last 2: %d snapshots (%v)", len(snaps), err)
	}
	st, _ := h.m.Status(ctx, "keep")
	if st.Schedule == nil || st.Schedule.LastError != "" || st.LastBackup == nil || st.LastBackup.Reason != "schedule" || st.Health != "running" {
		t.Errorf("status after scheduled backups: schedule %+v, last backup %+v, %s", st.Schedule, st.LastBackup, st.Health)
	}

	// The box's schedule calls the box backup.
	h.m.SetSchedule(BoxSchedule, &Schedule{Daily: "03:00"})
	h.m.RunSchedules(ctx, day.AddDate(0, 0, 5), func(context.Context) error { boxRuns++; return nil })
	if boxRuns != 1 {
		t.Errorf("box backups run: %d", boxRuns)
	}

	// Automatic update: off by default; on, it happens in the window only.
	next, err := writeApp(t, "keep", keepApp(h.keepImage(t), "2", ""))
	if err != nil {
		t.Fatal(err)
	}
	next.Store = app.Store
	h.m.SetUpdateSource(func(store, id string) (stores.App, bool) { return next, id == "keep" })
	noon := time.Date(2026, 11, 10, 12, 0, 0, 0, time.Local)
	h.m.RunSchedules(ctx, noon, nil)
	if st, _ := h.m.Status(ctx, "keep"); st.Version != "1" {
		t.Fatalf("updated without automatic updates: %s", st.Version)
	}
	h.m.SetSchedule("keep", &Schedule{Daily: "03:00", Retention: backup.Retention{Last: 2}, AutoUpdate: true, Window: "02:00-05:00"})
	h.m.RunSchedules(ctx, noon.Add(time.Hour), nil)
	if st, _ := h.m.Status(ctx, "keep"); st.Version != "1" {
		t.Fatalf("updated outside its window: %s", st.Version)
	}
	h.m.RunSchedules(ctx, time.Date(2026, 11, 11, 3, 30, 0, 0, time.Local), nil)
	st, _ = h.m.Status(ctx, "keep")
	if st.Version != "2" || st.Health != "running" || st.Schedule == nil || !strings.Contains(st.Schedule.LastUpdate, "updated from 1 to 2") {
		t.Errorf("after the window: version %s, %s, schedule %+v", st.Version, st.Health, st.Schedule)
	}
}

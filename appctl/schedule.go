package appctl

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/stackhub/stackhub/backup"
)

// Schedule is when an app (or, under the id BoxSchedule, the whole box) is
// backed up by itself, how many snapshots are kept, and whether the app
// updates by itself. Apps opt in; the default is daily at 03:00 with 7
// daily, 4 weekly and 6 monthly snapshots kept, and no automatic update.
type Schedule struct {
	// Daily is the local time of day of the backup, "HH:MM".
	Daily     string           `json:"daily"`
	Retention backup.Retention `json:"retention"`
	// AutoUpdate: when the store has a newer version, update within Window
	// ("HH:MM-HH:MM", local time). An update always backs up first and is
	// not tried when that backup fails.
	AutoUpdate bool   `json:"auto_update,omitempty"`
	Window     string `json:"window,omitempty"`

	LastRun   time.Time `json:"last_run,omitempty"`
	LastError string    `json:"last_error,omitempty"`
	// LastUpdate is the outcome of the last automatic update.
	LastUpdate string `json:"last_update,omitempty"`
}

// BoxSchedule is the schedule id of the whole-box backup.
const BoxSchedule = "_box"

func scheduleKey(id string) string { return "schedules/" + id }

// Normalize fills in defaults and checks the schedule.
func (s *Schedule) Normalize() error {
	if s.Daily == "" {
		s.Daily = "03:00"
	}
	if _, err := time.Parse("15:04", s.Daily); err != nil {
		return errorf(ErrInvalid, "invalid app: daily time {{.Time}}: write HH:MM", "Time", strconv.Quote(s.Daily))
	}
	if r := s.Retention; r.Last < 0 || r.Daily < 0 || r.Weekly < 0 || r.Monthly < 0 {
		return errorf(ErrInvalid, "invalid app: the numbers of snapshots to keep cannot be negative")
	}
	if s.Retention == (backup.Retention{}) {
		s.Retention = backup.DefaultRetention
	}
	if s.AutoUpdate {
		if s.Window == "" {
			s.Window = "02:00-05:00"
		}
		if _, _, err := parseWindow(s.Window); err != nil {
			return err
		}
	}
	return nil
}

func parseWindow(w string) (time.Duration, time.Duration, error) {
	a, b, ok := strings.Cut(w, "-")
	ta, err1 := time.Parse("15:04", strings.TrimSpace(a))
	tb, err2 := time.Parse("15:04", strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, errorf(ErrInvalid, "invalid app: update window {{.Window}}: write HH:MM-HH:MM", "Window", strconv.Quote(w))
	}
	return time.Duration(ta.Hour())*time.Hour + time.Duration(ta.Minute())*time.Minute,
		time.Duration(tb.Hour())*time.Hour + time.Duration(tb.Minute())*time.Minute, nil
}

// inWindow reports whether now's time of day is in w (which may wrap past
// midnight, e.g. 23:00-02:00).
func inWindow(w string, now time.Time) bool {
	from, to, err := parseWindow(w)
	if err != nil {
		return false
	}
	y, mo, d := now.Date()
	tod := now.Sub(time.Date(y, mo, d, 0, 0, 0, 0, now.Location()))
	if from <= to {
		return tod >= from && tod < to
	}
	return tod >= from || tod < to
}

// due reports whether a daily backup at s.Daily is due at now: its time of
// day has passed, and it has not run since.
func (s Schedule) due(now time.Time) bool {
	t, err := time.Parse("15:04", s.Daily)
	if err != nil {
		return false
	}
	y, mo, d := now.Date()
	at := time.Date(y, mo, d, t.Hour(), t.Minute(), 0, 0, now.Location())
	if now.Before(at) {
		at = at.AddDate(0, 0, -1)
	}
	return s.LastRun.Before(at)
}

// SetSchedule sets (or, with nil, removes) an app's schedule, or the
// box's under BoxSchedule.
func (m *Manager) SetSchedule(id string, s *Schedule) (Schedule, error) {
	if id != BoxSchedule {
		if _, err := m.get(id); err != nil {
			return Schedule{}, err
		}
	}
	if s == nil {
		return Schedule{}, m.db.Delete(scheduleKey(id))
	}
	var old Schedule
	m.db.Get(scheduleKey(id), &old)
	s.LastRun, s.LastError, s.LastUpdate = old.LastRun, old.LastError, old.LastUpdate
	if err := s.Normalize(); err != nil {
		return Schedule{}, err
	}
	return *s, m.db.Put(scheduleKey(id), s)
}

// GetSchedule returns an app's (or the box's) schedule; ok is false when
// it has none.
func (m *Manager) GetSchedule(id string) (Schedule, bool) {
	var s Schedule
	err := m.db.Get(scheduleKey(id), &s)
	return s, err == nil
}

// RunSchedules does what the schedules say is due at now: each opted-in
// app's backup (then its old snapshots are forgotten), its automatic
// update when one is available and now is in its window, and the box's
// backup through box. A failure is logged as an error and kept for `apps
// list` and the portal; the other apps go on.
func (m *Manager) RunSchedules(ctx context.Context, now time.Time, box func(context.Context) error) {
	keys, err := m.db.Keys("schedules/")
	if err != nil {
		return
	}
	for _, k := range keys {
		id := strings.TrimPrefix(k, "schedules/")
		var s Schedule
		if err := m.db.Get(k, &s); err != nil {
			continue
		}
		if id == BoxSchedule {
			if box != nil && s.due(now) {
				err := box(ctx)
				if err == nil {
					err = m.forget(ctx, []string{"stackhub", "platform"}, s.Retention)
				}
				m.finishScheduled(id, &s, now, err)
			}
			continue
		}
		rec, err := m.get(id)
		if errors.Is(err, ErrNotInstalled) {
			m.db.Delete(k)
			continue
		}
		if err != nil || rec.State != StateInstalled {
			continue
		}
		if s.due(now) {
			_, err := m.Backup(ctx, id, "schedule", nil)
			if err == nil {
				err = m.forget(ctx, []string{appTag(id)}, s.Retention)
			}
			m.finishScheduled(id, &s, now, err)
		}
		if s.AutoUpdate && inWindow(s.Window, now) {
			m.autoUpdate(ctx, rec, &s)
		}
	}
}

func (m *Manager) finishScheduled(id string, s *Schedule, now time.Time, err error) {
	s.LastRun, s.LastError = now, ""
	if err != nil {
		s.LastError = err.Error()
		m.log.Error("SCHEDULED BACKUP FAILED", zap.String("app", id), zap.Error(err))
	} else {
		m.log.Info("scheduled backup done", zap.String("app", id))
	}
	m.db.Put(scheduleKey(id), s)
}

func (m *Manager) forget(ctx context.Context, tags []string, keep backup.Retention) error {
	repo, err := m.backupRepo()
	if err != nil {
		return err
	}
	return repo.Forget(ctx, tags, keep)
}

// autoUpdate updates rec's app when its store has a newer version.
func (m *Manager) autoUpdate(ctx context.Context, rec Record, s *Schedule) {
	m.ext.mu.Lock()
	src := m.ext.updates
	m.ext.mu.Unlock()
	if src == nil || m.updateFor(rec) == nil {
		return
	}
	app, ok := src(rec.Store, rec.ID)
	if !ok {
		return
	}
	res, err := m.Update(ctx, app, nil)
	if err != nil {
		s.LastUpdate = fmt.Sprintf("%s: automatic update to %s failed: %s", time.Now().UTC().Format(time.RFC3339), app.Version, firstLine(err.Error()))
		m.log.Error("AUTOMATIC UPDATE FAILED", zap.String("app", rec.ID), zap.String("to", app.Version), zap.Error(err))
	} else {
		s.LastUpdate = fmt.Sprintf("%s: updated from %s to %s (down %s)", time.Now().UTC().Format(time.RFC3339), orUnknown(res.From), res.To, res.Downtime.Round(time.Millisecond))
		m.log.Info("automatic update done", zap.String("app", rec.ID), zap.String("to", app.Version))
	}
	var cur Schedule
	if m.db.Get(scheduleKey(rec.ID), &cur) == nil {
		cur.LastUpdate = s.LastUpdate
		m.db.Put(scheduleKey(rec.ID), cur)
	}
}

package appctl

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stackhub/stackhub/stores"
)

// UpdateInfo says that an app's store has another version than the one
// installed.
type UpdateInfo struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Store string `json:"store"`
	// Changelog is where the new version's changes are described, when the
	// store says (or the app's source is on GitHub: its releases page).
	Changelog string `json:"changelog,omitempty"`
}

// BackupStatus is the outcome of an app's last backup, for `apps list`
// and the portal.
type BackupStatus struct {
	Time     time.Time `json:"time"`
	Reason   string    `json:"reason,omitempty"`
	Snapshot string    `json:"snapshot,omitempty"`
	// Error is set when the last backup failed.
	Error string `json:"error,omitempty"`
}

func backupStatusKey(id string) string { return "backupstatus/" + id }

// UpdateSource finds the store's current version of an installed app.
type UpdateSource func(store, id string) (stores.App, bool)

// extensions is the Manager's state for backups and updates (a field of
// Manager, kept here so manager.go stays about installs).
type extensions struct {
	mu      sync.Mutex
	updates UpdateSource
}

// SetUpdateSource tells the manager where to look for newer versions (the
// platform passes its store catalog). Each `apps list` then compares.
func (m *Manager) SetUpdateSource(f UpdateSource) {
	m.ext.mu.Lock()
	m.ext.updates = f
	m.ext.mu.Unlock()
}

// decorate adds to an app's status what backups and updates know.
func (m *Manager) decorate(st *AppStatus) {
	var bs BackupStatus
	if m.db.Get(backupStatusKey(st.ID), &bs) == nil {
		st.LastBackup = &bs
	}
	st.Update = m.updateFor(st.Record)
	if s, ok := m.GetSchedule(st.ID); ok {
		st.Schedule = &s
	}
}

func (m *Manager) updateFor(rec Record) *UpdateInfo {
	m.ext.mu.Lock()
	src := m.ext.updates
	m.ext.mu.Unlock()
	if src == nil || rec.Store == "" || rec.State != StateInstalled {
		return nil
	}
	app, ok := src(rec.Store, rec.ID)
	if !ok || app.Version == "" || app.Unavailable != "" || !newerVersion(app.Version, rec.Version) {
		return nil
	}
	info := &UpdateInfo{From: rec.Version, To: app.Version, Store: rec.Store}
	if strings.HasPrefix(app.Source, "https://github.com/") {
		info.Changelog = strings.TrimSuffix(app.Source, "/") + "/releases"
	}
	return info
}

// newerVersion reports whether store is a newer version than installed:
// numerically for dotted numbers ("v1.10.2" > "1.9"), else whenever they
// differ (a store is the authority on its own tags).
func newerVersion(store, installed string) bool {
	if store == installed {
		return false
	}
	a, okA := dotted(store)
	b, okB := dotted(installed)
	if !okA || !okB {
		return true
	}
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y int
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			return x > y
		}
	}
	return false
}

func dotted(v string) ([]int, bool) {
	v = strings.TrimPrefix(strings.TrimPrefix(v, "v"), "V")
	if v == "" {
		return nil, false
	}
	var out []int
	for _, p := range strings.Split(v, ".") {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, false
		}
		out = append(out, n)
	}
	return out, true
}

// recordBackupStatus keeps the outcome of an app's backup.
func (m *Manager) recordBackupStatus(id, reason, snapshot string, err error) {
	bs := BackupStatus{Time: time.Now().UTC(), Reason: reason, Snapshot: snapshot}
	if err != nil {
		bs.Error = err.Error()
	}
	m.db.Put(backupStatusKey(id), bs)
	m.eventOnBackup(id, reason, snapshot, err) // events.go
}

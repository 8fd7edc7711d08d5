package adminapi

import (
	"net/http"
	"net/url"

	"github.com/stackhub/stackhub/appctl"
)

// Repository returns the backup repository's settings (no password).
func (c Client) Repository() (RepositoryAnswer, error) {
	var a RepositoryAnswer
	return a, c.call(http.MethodGet, "/stackhub/backup/repository", nil, &a)
}

// SetRepository sets the backup repository up; the answer carries the
// generated password, once.
func (c Client) SetRepository(req RepositoryRequest) (RepositoryAnswer, error) {
	var a RepositoryAnswer
	return a, c.call(http.MethodPost, "/stackhub/backup/repository", req, &a)
}

// Backup backs an app up now.
func (c Client) Backup(id string, on func(appctl.Event)) (appctl.Event, error) {
	return c.events(http.MethodPost, "/stackhub/apps/"+url.PathEscape(id)+"/backup", nil, on)
}

// Backups lists an app's snapshots, oldest first.
func (c Client) Backups(id string) ([]appctl.SnapshotInfo, error) {
	var s []appctl.SnapshotInfo
	return s, c.call(http.MethodGet, "/stackhub/apps/"+url.PathEscape(id)+"/backups", nil, &s)
}

// Restore restores an app in place from a snapshot (the latest when empty).
func (c Client) Restore(id, snapshot string, on func(appctl.Event)) (appctl.Event, error) {
	return c.events(http.MethodPost, "/stackhub/apps/"+url.PathEscape(id)+"/restore", RestoreRequest{Snapshot: snapshot}, on)
}

// Clone brings up a copy of an app.
func (c Client) Clone(id string, req CloneRequest, on func(appctl.Event)) (appctl.Event, error) {
	return c.events(http.MethodPost, "/stackhub/apps/"+url.PathEscape(id)+"/clone", req, on)
}

// Update updates an app, rolling back by itself when the new version fails.
func (c Client) Update(id string, req UpdateRequest, on func(appctl.Event)) (appctl.Event, error) {
	return c.events(http.MethodPost, "/stackhub/apps/"+url.PathEscape(id)+"/update", req, on)
}

// BackupBox backs up every app and the platform state.
func (c Client) BackupBox(on func(appctl.Event)) (appctl.Event, error) {
	return c.events(http.MethodPost, "/stackhub/backup", nil, on)
}

// RestoreBox brings a whole box back from a repository.
func (c Client) RestoreBox(req RepositoryRequest, on func(appctl.Event)) (appctl.Event, error) {
	return c.events(http.MethodPost, "/stackhub/restore", req, on)
}

// SetSchedule sets the backup schedule of an app, or of the box under
// appctl.BoxSchedule; nil removes it.
func (c Client) SetSchedule(id string, s *appctl.Schedule) (appctl.Schedule, error) {
	uri := "/stackhub/apps/" + url.PathEscape(id) + "/schedule"
	if id == appctl.BoxSchedule {
		uri = "/stackhub/backup/schedule"
	}
	var out appctl.Schedule
	if s == nil {
		return out, c.call(http.MethodDelete, uri, nil, nil)
	}
	return out, c.call(http.MethodPut, uri, s, &out)
}

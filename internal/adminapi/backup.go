package adminapi

// Backups, restores, clones and updates of apps, and the backup repository:
//
//	GET    /stackhub/backup/repository            the repository (no password; credentials named, not shown)
//	POST   /stackhub/backup/repository            set it up (RepositoryRequest) → RepositoryAnswer, password shown once
//	POST   /stackhub/apps/{id}/backup             back up now → events
//	GET    /stackhub/apps/{id}/backups            the app's snapshots
//	POST   /stackhub/apps/{id}/restore            RestoreRequest → events
//	POST   /stackhub/apps/{id}/clone              CloneRequest → events
//	POST   /stackhub/apps/{id}/update             UpdateRequest → events
//	GET|PUT|DELETE /stackhub/apps/{id}/schedule   the app's backup schedule and automatic updates (appctl.Schedule)
//	GET|PUT|DELETE /stackhub/backup/schedule      the whole box's backup schedule
//	POST   /stackhub/backup                       the whole box: every app and the platform state → events
//	POST   /stackhub/restore                      RepositoryRequest (password required): the whole box back → events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/backup"
	"github.com/stackhub/stackhub/internal/platform"
	"github.com/stackhub/stackhub/stores"
)

// RepositoryRequest sets the backup repository up. An empty Password makes
// a new one (for a new repository); give the password of an existing
// repository to use it (e.g. on a new machine).
type RepositoryRequest struct {
	URL         string            `json:"url"`
	SFTPCommand string            `json:"sftp_command,omitempty"`
	Env         map[string]string `json:"env,omitempty"`
	Password    string            `json:"password,omitempty"`
}

// RepositoryAnswer describes the repository; Password is only in the
// answer to its setup, once. URL is shown without its password, and
// Credentials names the variables kept sealed (AWS_ACCESS_KEY_ID, …),
// never their values.
type RepositoryAnswer struct {
	URL         string   `json:"url"`
	Kind        string   `json:"kind,omitempty"`
	SFTPCommand string   `json:"sftp_command,omitempty"`
	Credentials []string `json:"credentials,omitempty"`
	Password    string   `json:"password,omitempty"`
	Configured  bool     `json:"configured"`
}

// repositoryAnswer describes repo without its secrets.
func repositoryAnswer(repo backup.Repo) RepositoryAnswer {
	a := RepositoryAnswer{URL: repo.Redacted(), Kind: repo.Kind(), SFTPCommand: repo.SFTPCommand, Configured: true}
	for k := range repo.Env {
		a.Credentials = append(a.Credentials, k)
	}
	sort.Strings(a.Credentials)
	return a
}

// RestoreRequest names the snapshot to restore; empty: the latest.
type RestoreRequest struct {
	Snapshot string `json:"snapshot,omitempty"`
}

// CloneRequest asks for a copy of an app.
type CloneRequest struct {
	NewID     string `json:"new_id"`
	Snapshot  string `json:"snapshot,omitempty"`
	Subdomain string `json:"subdomain,omitempty"`
}

// UpdateRequest asks for an update: to the store's version (To, when set,
// must be it), or to the user's own app folder sent whole (Local).
type UpdateRequest struct {
	To    string    `json:"to,omitempty"`
	Local *LocalApp `json:"local,omitempty"`
}

// serveBackup answers the routes above; it reports whether it did.
func (s *server) serveBackup(w http.ResponseWriter, r *http.Request, p *platform.Platform, parts []string) bool {
	switch {
	case len(parts) == 1 && parts[0] == "backup" && r.Method == http.MethodPost:
		stream(w, r, func(ctx context.Context, progress func(appctl.Event)) error {
			_, err := p.BackupBox(ctx, progress)
			return err
		})
	case len(parts) == 1 && parts[0] == "restore" && r.Method == http.MethodPost:
		var req RepositoryRequest
		if !decodeOptional(w, r, &req) {
			return true
		}
		if req.URL == "" || req.Password == "" {
			writeError(w, 400, errors.New("restore: give the repository (--from) and its password (--password)"))
			return true
		}
		stream(w, r, func(ctx context.Context, progress func(appctl.Event)) error {
			_, err := p.RestoreBox(ctx, backup.Repo{URL: req.URL, SFTPCommand: req.SFTPCommand, Env: req.Env, Password: req.Password}, progress)
			return err
		})
	case len(parts) == 2 && parts[0] == "backup" && parts[1] == "schedule":
		s.schedule(w, r, p, appctl.BoxSchedule)
	case len(parts) == 3 && parts[0] == "apps" && parts[2] == "schedule" && r.Method != http.MethodPost:
		s.schedule(w, r, p, parts[1])
	case len(parts) == 2 && parts[0] == "backup" && parts[1] == "repository":
		s.repository(w, r, p)
	case len(parts) == 3 && parts[0] == "apps" && parts[2] == "backups" && r.Method == http.MethodGet:
		snaps, err := p.Apps.Backups(r.Context(), parts[1])
		if err != nil {
			writeError(w, appctl.HTTPStatus(err), err)
			return true
		}
		writeJSON(w, snaps)
	case len(parts) == 3 && parts[0] == "apps" && r.Method == http.MethodPost:
		id := parts[1]
		switch parts[2] {
		case "backup":
			stream(w, r, func(ctx context.Context, progress func(appctl.Event)) error {
				_, err := p.Apps.Backup(ctx, id, "manual", progress)
				return err
			})
		case "restore":
			var req RestoreRequest
			if !decodeOptional(w, r, &req) {
				return true
			}
			stream(w, r, func(ctx context.Context, progress func(appctl.Event)) error {
				_, err := p.Apps.Restore(ctx, id, req.Snapshot, progress)
				return err
			})
		case "clone":
			var req CloneRequest
			if !decodeOptional(w, r, &req) {
				return true
			}
			stream(w, r, func(ctx context.Context, progress func(appctl.Event)) error {
				_, err := p.Apps.Clone(ctx, id, req.NewID, appctl.CloneOptions{Snapshot: req.Snapshot, Subdomain: req.Subdomain}, progress)
				return err
			})
		case "update":
			var req UpdateRequest
			if !decodeOptional(w, r, &req) {
				return true
			}
			app, err := updateTarget(r.Context(), p, id, req)
			if err != nil {
				writeError(w, appctl.HTTPStatus(err), err)
				return true
			}
			stream(w, r, func(ctx context.Context, progress func(appctl.Event)) error {
				_, err := p.Apps.Update(ctx, app, progress)
				return err
			})
		default:
			return false
		}
	default:
		return false
	}
	return true
}

func decodeOptional(w http.ResponseWriter, r *http.Request, v any) bool {
	if r.ContentLength == 0 {
		return true
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<20)).Decode(v); err != nil {
		writeError(w, 400, fmt.Errorf("read request: %w", err))
		return false
	}
	return true
}

// updateTarget is the app an update installs: the user's own folder, or
// the store's current version of the installed app.
func updateTarget(ctx context.Context, p *platform.Platform, id string, req UpdateRequest) (stores.App, error) {
	st, err := p.Apps.Status(ctx, id)
	if err != nil {
		return stores.App{}, err
	}
	if req.Local != nil {
		app := req.Local.App
		app.Compose, app.Files = req.Local.Compose, req.Local.Files
		app.ID = id
		if app.Store == "" {
			app.Store = st.Store
		}
		return app, nil
	}
	return p.UpdateTarget(ctx, id, req.To)
}

func (s *server) repository(w http.ResponseWriter, r *http.Request, p *platform.Platform) {
	keeper := p.Apps.BackupKeeper()
	switch r.Method {
	case http.MethodGet:
		repo, err := keeper.Repo()
		if errors.Is(err, backup.ErrNotConfigured) {
			writeJSON(w, RepositoryAnswer{})
			return
		} else if err != nil {
			writeError(w, 500, err)
			return
		}
		writeJSON(w, repositoryAnswer(repo))
	case http.MethodPost:
		var req RepositoryRequest
		if !decodeOptional(w, r, &req) {
			return
		}
		repo := backup.Repo{URL: req.URL, SFTPCommand: req.SFTPCommand, Env: req.Env, Password: req.Password}
		pw, err := keeper.Configure(r.Context(), repo)
		if err != nil {
			writeError(w, appctl.HTTPStatus(err), err)
			return
		}
		ans := repositoryAnswer(repo)
		if req.Password == "" {
			ans.Password = pw // generated: shown this once
		}
		writeJSON(w, ans)
	default:
		writeError(w, 405, errors.New("use GET or POST"))
	}
}

func (s *server) schedule(w http.ResponseWriter, r *http.Request, p *platform.Platform, id string) {
	switch r.Method {
	case http.MethodGet:
		sc, ok := p.Apps.GetSchedule(id)
		if !ok {
			writeError(w, 404, fmt.Errorf("no backup schedule for %s: set one with `stackhub apps schedule %s --daily 03:00`", id, id))
			return
		}
		writeJSON(w, sc)
	case http.MethodPut:
		var sc appctl.Schedule
		if !decodeOptional(w, r, &sc) {
			return
		}
		out, err := p.Apps.SetSchedule(id, &sc)
		if err != nil {
			writeError(w, appctl.HTTPStatus(err), err)
			return
		}
		writeJSON(w, out)
	case http.MethodDelete:
		if _, err := p.Apps.SetSchedule(id, nil); err != nil {
			writeError(w, appctl.HTTPStatus(err), err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		writeError(w, 405, errors.New("use GET, PUT or DELETE"))
	}
}

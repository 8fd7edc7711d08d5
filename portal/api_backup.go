// API: an app's updates and backups, as the CLI and the admin API do them
// (the same Platform and appctl methods): update to the store's version
// (rolling back by itself), back up now, list and restore snapshots, and
// the daily backup schedule.

package portal

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/internal/i18n"
)

// v1BackupRoutes registers the update and backup endpoints for admins.
func (p *Portal) v1BackupRoutes(adm fiber.Router) {
	pl := p.needPlatform
	adm.Post("/apps/:id/update", pl, p.apiUpdate)
	adm.Post("/apps/:id/backup", pl, p.apiBackup)
	adm.Get("/apps/:id/backups", pl, p.apiBackups)
	adm.Post("/apps/:id/restore", pl, p.apiRestore)
	adm.Get("/apps/:id/schedule", pl, p.apiSchedule)
	adm.Put("/apps/:id/schedule", pl, p.apiPutSchedule)
	adm.Delete("/apps/:id/schedule", pl, p.apiDeleteSchedule)
}

// optionalBody parses a JSON body into v when there is one.
func optionalBody(c *fiber.Ctx, v any, what string) error {
	if len(c.Body()) == 0 {
		return nil
	}
	if err := c.BodyParser(v); err != nil {
		return bodyError(what)
	}
	return nil
}

// apiUpdate updates an app to its store's version: a backup first, then the
// new images and containers; if the new version fails, the old one comes
// back by itself with its data. The stream ends with the outcome: updated
// (with how long the app was unreachable), or rolled back with the reason
// and the failing services' last log lines (as evidence events).
func (p *Portal) apiUpdate(c *fiber.Ctx) error {
	st, err := p.status(c)
	if err != nil {
		return err
	}
	var in struct {
		To string `json:"to"`
	}
	if err := optionalBody(c, &in, `{"to": "VERSION"} (or nothing: the store's version)`); err != nil {
		return err
	}
	app, err := p.plat().UpdateTarget(c.Context(), st.ID, strings.TrimSpace(in.To))
	if err != nil {
		return opError(err)
	}
	if err := p.needRepository(); err != nil {
		return err
	}
	return p.startOp(c, st.ID, "update", func(ctx context.Context, progress func(appctl.Event)) error {
		res, err := p.plat().Apps.Update(ctx, app, progress)
		return updateOutcome(st.ID, res, err, progress)
	})
}

// updateOutcome turns a failed update's error into one readable message,
// its logs sent apart as evidence (as a failed install's are).
func updateOutcome(id string, res appctl.UpdateResult, err error, progress func(appctl.Event)) error {
	var ue *appctl.UpdateError
	if err == nil || !errors.As(err, &ue) {
		return err
	}
	reason := firstLine(ue.Reason.Error())
	for _, s := range logsByService(ue.Logs) {
		s.State = reason
		progress(appctl.Event{Time: time.Now(), App: id, Phase: PhaseEvidence, Resource: s.Service, Status: reason, Evidence: &s})
	}
	var text i18n.Msg
	switch {
	case ue.RolledBack:
		text = i18n.M("The update of {{.App}} from {{.From}} to {{.To}} failed and was rolled back: {{.Reason}}. Version {{.From}} runs again with its data as it was before the update; it was unreachable for {{.Downtime}}.",
			"App", id, "From", versionArg(ue.From), "To", versionArg(ue.To), "Reason", reason, "Downtime", res.Downtime.Round(time.Millisecond))
	case ue.RollbackErr != nil:
		text = i18n.M("The update of {{.App}} from {{.From}} to {{.To}} failed ({{.Reason}}), and the rollback failed too ({{.Err}}): restore the backup taken before the update (Back up and restore, below).",
			"App", id, "From", versionArg(ue.From), "To", versionArg(ue.To), "Reason", reason, "Err", ue.RollbackErr)
	default:
		return &evidencedError{err: err, msg: firstLine(ue.Error())}
	}
	return &evidencedError{err: err, msg: text.English(), text: text}
}

// logsByService splits "service | line" log lines by service.
func logsByService(logs string) []appctl.ServiceEvidence {
	var out []appctl.ServiceEvidence
	index := map[string]int{}
	for _, ln := range strings.Split(logs, "\n") {
		if strings.TrimSpace(ln) == "" {
			continue
		}
		svc, _, ok := strings.Cut(ln, " | ")
		svc = strings.TrimSpace(svc)
		if !ok || svc == "" || strings.Contains(svc, " ") {
			svc = "app"
		}
		// Compose names a line by its container, the service and a replica
		// number ("web-1").
		if i := strings.LastIndexByte(svc, '-'); i > 0 && strings.Trim(svc[i+1:], "0123456789") == "" && i+1 < len(svc) {
			svc = svc[:i]
		}
		i, seen := index[svc]
		if !seen {
			i = len(out)
			index[svc] = i
			out = append(out, appctl.ServiceEvidence{Service: svc})
		}
		if out[i].Logs != "" {
			out[i].Logs += "\n"
		}
		out[i].Logs += ln
	}
	return out
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// versionArg is a version as an arg of a message: "(unknown version)",
// translated, when there is none.
func versionArg(v string) any {
	if v == "" {
		return i18n.Word("(unknown version)")
	}
	return v
}

// needRepository refuses (424) a backup, restore or update while no backup
// repository is set up, before anything starts: an update is never tried
// without its backup.
func (p *Portal) needRepository() error {
	if _, err := p.plat().Apps.BackupKeeper().Repo(); err != nil {
		return opError(err)
	}
	return nil
}

// repositoryConfigured reports whether backups have somewhere to go.
func (p *Portal) repositoryConfigured() bool {
	return p.plat() != nil && p.needRepository() == nil
}

// apiBackup backs an app up now (stopping it for the snapshot unless it
// declares a backup hook), with progress.
func (p *Portal) apiBackup(c *fiber.Ctx) error {
	st, err := p.status(c)
	if err != nil {
		return err
	}
	if err := p.needRepository(); err != nil {
		return err
	}
	return p.startOp(c, st.ID, "backup", func(ctx context.Context, progress func(appctl.Event)) error {
		_, err := p.plat().Apps.Backup(ctx, st.ID, "manual", progress)
		return err
	})
}

// apiBackups lists an app's snapshots, newest first.
func (p *Portal) apiBackups(c *fiber.Ctx) error {
	st, err := p.status(c)
	if err != nil {
		return err
	}
	snaps, err := p.plat().Apps.Backups(c.Context(), st.ID)
	if err != nil {
		return opError(err)
	}
	if snaps == nil {
		snaps = []appctl.SnapshotInfo{}
	}
	sort.SliceStable(snaps, func(i, j int) bool { return snaps[i].Time.After(snaps[j].Time) })
	return c.JSON(snaps)
}

// apiRestore puts an app back as it was in a snapshot (the latest when
// none is named); the current app stays until the restored one is healthy.
func (p *Portal) apiRestore(c *fiber.Ctx) error {
	st, err := p.status(c)
	if err != nil {
		return err
	}
	var in struct {
		Snapshot string `json:"snapshot"`
	}
	if err := optionalBody(c, &in, `{"snapshot": "ID"} (or nothing: the latest)`); err != nil {
		return err
	}
	if err := p.needRepository(); err != nil {
		return err
	}
	return p.startOp(c, st.ID, "restore", func(ctx context.Context, progress func(appctl.Event)) error {
		_, err := p.plat().Apps.Restore(ctx, st.ID, strings.TrimSpace(in.Snapshot), progress)
		return err
	})
}

func (p *Portal) apiSchedule(c *fiber.Ctx) error {
	st, err := p.status(c)
	if err != nil {
		return err
	}
	sc, ok := p.plat().Apps.GetSchedule(st.ID)
	if !ok {
		return msgError(fiber.StatusNotFound, "no backup schedule for {{.App}}: set one on its page (Backups)", "App", st.ID)
	}
	return c.JSON(sc)
}

// apiPutSchedule sets an app's daily backup schedule: appctl checks it as
// it does for the CLI (HH:MM, retention, update window).
func (p *Portal) apiPutSchedule(c *fiber.Ctx) error {
	st, err := p.status(c)
	if err != nil {
		return err
	}
	var sc appctl.Schedule
	if err := c.BodyParser(&sc); err != nil {
		return bodyError(`{"daily": "HH:MM", "retention": {"daily": 7, "weekly": 4, "monthly": 6}, "auto_update": false, "window": "HH:MM-HH:MM"}`)
	}
	out, err := p.plat().Apps.SetSchedule(st.ID, &sc)
	if err != nil {
		return opError(err)
	}
	return c.JSON(out)
}

func (p *Portal) apiDeleteSchedule(c *fiber.Ctx) error {
	st, err := p.status(c)
	if err != nil {
		return err
	}
	if _, err := p.plat().Apps.SetSchedule(st.ID, nil); err != nil {
		return opError(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

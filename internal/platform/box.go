package platform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/backup"
	"github.com/stackhub/stackhub/internal/kv"
)

// boxTag marks the snapshots of the platform's own state.
const boxTag = "platform"

// boxFile is the file, at the root of a platform snapshot, that holds it.
const boxFile = "platform.json"

// boxSkip are the kv prefixes a whole-box backup leaves out: apps travel in
// their own snapshots, operations and sessions belong to one machine, and
// the repository's settings are sealed with this machine's key.
var boxSkip = []string{"apps/", "ops/", "backup/", "backupstatus/", "auth/session/", "auth/user-session/"}

// boxState is the platform's state in a snapshot: every kv record but the
// skipped ones (users, their 2FA, groups, policies, stores, settings), and
// the snapshot of each app taken with it.
type boxState struct {
	Format int                        `json:"format"`
	Time   time.Time                  `json:"time"`
	Domain string                     `json:"domain"`
	Keys   map[string]json.RawMessage `json:"keys"`
	Apps   map[string]string          `json:"apps"`
}

// BoxResult reports a whole-box backup or restore.
type BoxResult struct {
	Snapshot string            `json:"snapshot,omitempty"`
	Apps     map[string]string `json:"apps"`
	Failed   map[string]string `json:"failed,omitempty"`
}

func skipped(key string) bool {
	for _, p := range boxSkip {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// BackupBox backs up every installed app, then the platform's state with
// the list of those snapshots. An app whose backup fails is reported (and
// the whole backup returns an error), the others are still saved.
func (p *Platform) BackupBox(ctx context.Context, progress func(appctl.Event)) (BoxResult, error) {
	res := BoxResult{Apps: map[string]string{}, Failed: map[string]string{}}
	repo, err := p.Apps.BackupRepo()
	if err != nil {
		return res, fmt.Errorf("back up the box: %w", err)
	}
	if err := repo.Check(ctx); err != nil {
		return res, fmt.Errorf("back up the box: %w", err)
	}
	apps, err := p.Apps.List(ctx)
	if err != nil {
		return res, err
	}
	for _, a := range apps {
		if a.State != appctl.StateInstalled {
			continue
		}
		r, err := p.Apps.Backup(ctx, a.ID, "box", progress)
		if err != nil {
			res.Failed[a.ID] = err.Error()
			progress(appctl.Event{Time: time.Now(), App: a.ID, Phase: appctl.PhaseError, Status: "BACKUP FAILED", Message: err.Error()})
			continue
		}
		res.Apps[a.ID] = r.Snapshot
	}
	st := boxState{Format: 1, Time: time.Now().UTC(), Domain: p.Config.Domain, Keys: map[string]json.RawMessage{}, Apps: res.Apps}
	keys, err := p.DB.Keys("")
	if err != nil {
		return res, err
	}
	for _, k := range keys {
		if skipped(k) {
			continue
		}
		var raw json.RawMessage
		if err := p.DB.Get(k, &raw); err == nil {
			st.Keys[k] = raw
		}
	}
	dir := filepath.Join(p.Config.DataDir, "staging", "platform-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	b, _ := json.Marshal(st)
	if err := os.WriteFile(filepath.Join(dir, boxFile), b, 0o600); err != nil {
		return res, err
	}
	progress(appctl.Event{Time: time.Now(), Phase: appctl.PhaseBackup, Status: fmt.Sprintf("saving the platform state (%d records: users, 2FA, groups, stores, settings)", len(st.Keys))})
	sum, err := repo.Backup(ctx, dir, []string{"."}, []string{"stackhub", boxTag}, nil)
	if err != nil {
		return res, fmt.Errorf("back up the platform state: %w", err)
	}
	res.Snapshot = sum.SnapshotID
	if len(res.Failed) > 0 {
		ids := make([]string, 0, len(res.Failed))
		for id := range res.Failed {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		return res, fmt.Errorf("the backup of %s FAILED (the other apps and the platform state were saved): %s", strings.Join(ids, ", "), res.Failed[ids[0]])
	}
	progress(appctl.Event{Time: time.Now(), Phase: appctl.PhaseDone, Status: "backed up",
		Message: fmt.Sprintf("the box is backed up: %d apps and the platform state (snapshot %.8s)", len(res.Apps), res.Snapshot)})
	return res, nil
}

// RestoreBox brings a whole box back from repo onto this StackHub (a new
// machine): the repository becomes this one's, the platform state (users
// and their 2FA, groups, stores, settings) is loaded, and every app of the
// latest platform snapshot comes back with its data, subdomain and policy.
func (p *Platform) RestoreBox(ctx context.Context, repo backup.Repo, progress func(appctl.Event)) (BoxResult, error) {
	res := BoxResult{Apps: map[string]string{}, Failed: map[string]string{}}
	if err := repo.Check(ctx); err != nil {
		return res, fmt.Errorf("restore the box: %w", err)
	}
	snaps, err := repo.Snapshots(ctx, boxTag)
	if err != nil {
		return res, fmt.Errorf("restore the box: %w", err)
	}
	if len(snaps) == 0 {
		return res, fmt.Errorf("restore the box: %w: %s holds no whole-box backup (`stackhub backup` makes one)", backup.ErrNoSnapshot, repo.Redacted())
	}
	snap := snaps[len(snaps)-1]
	res.Snapshot = snap.ID
	if err := p.Apps.BackupKeeper().Save(repo); err != nil {
		return res, err
	}
	dir := filepath.Join(p.Config.DataDir, "staging", "platform-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	defer os.RemoveAll(dir)
	progress(appctl.Event{Time: time.Now(), Phase: appctl.PhaseRestore, Status: "reading the platform state", Resource: snap.ShortID})
	if err := repo.Restore(ctx, snap.ID, dir); err != nil {
		return res, err
	}
	b, err := os.ReadFile(filepath.Join(dir, boxFile))
	if err != nil {
		return res, fmt.Errorf("snapshot %s is not a whole-box backup: %w", snap.ShortID, err)
	}
	var st boxState
	if err := json.Unmarshal(b, &st); err != nil {
		return res, fmt.Errorf("read the platform state of snapshot %s: %w", snap.ShortID, err)
	}
	err = p.DB.Update(func(tx *kv.Txn) error {
		for k, v := range st.Keys {
			if skipped(k) {
				continue
			}
			if err := tx.Put(k, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("load the platform state: %w", err)
	}
	progress(appctl.Event{Time: time.Now(), Phase: appctl.PhaseRestore, Status: fmt.Sprintf("platform state loaded: %d records", len(st.Keys))})
	for _, sc := range p.runtimeStores() {
		if err := p.addSource(sc); err != nil {
			progress(appctl.Event{Time: time.Now(), Phase: appctl.PhaseError, Status: "store " + sc.Name, Message: err.Error()})
		}
	}
	p.Catalog.Refresh(ctx)
	ids := make([]string, 0, len(st.Apps))
	for id := range st.Apps {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		rec, err := p.Apps.RestoreApp(ctx, id, st.Apps[id], progress)
		if err != nil {
			res.Failed[id] = err.Error()
			progress(appctl.Event{Time: time.Now(), App: id, Phase: appctl.PhaseError, Status: "RESTORE FAILED", Message: err.Error()})
			continue
		}
		res.Apps[id] = rec.URL
	}
	if len(res.Failed) > 0 {
		return res, errors.New("some apps could not be restored: " + strings.Join(keysOf(res.Failed), ", ") + " (the others are back; `stackhub apps list` shows them)")
	}
	progress(appctl.Event{Time: time.Now(), Phase: appctl.PhaseDone, Status: "restored",
		Message: fmt.Sprintf("the box is back: %d apps, users and settings from the backup of %s", len(res.Apps), st.Time.Format(time.RFC3339))})
	return res, nil
}

func keysOf(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// runSchedules runs the due backups and automatic updates once a minute
// until ctx ends.
func (p *Platform) runSchedules(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			p.Apps.RunSchedules(ctx, now, func(ctx context.Context) error {
				_, err := p.BackupBox(ctx, func(appctl.Event) {})
				return err
			})
		}
	}
}

// logUpdates says, after a store refresh, which installed apps the stores
// now have a newer version of (`apps list` and the portal show them too).
func (p *Platform) logUpdates(ctx context.Context) {
	apps, err := p.Apps.List(ctx)
	if err != nil {
		return
	}
	for _, a := range apps {
		if a.Update != nil {
			p.Log.Info("update available", zap.String("app", a.ID), zap.String("from", a.Update.From), zap.String("to", a.Update.To), zap.String("store", a.Update.Store))
		}
	}
}

package appctl

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/stackhub/stackhub/swarm"
)

// ErrMoveNeedsBackup says an app's data cannot follow it to another node
// yet: that takes a backup on the old node and a restore on the new one
// (docs/SWARM.md, "Moving an app").
var ErrMoveNeedsBackup = errors.New("moving an app's data needs a backup and restore")

// MoveNode places an app on a swarm anew (another node, other constraints):
// the stack's services get the new constraints and Swarm reschedules
// them; the relay follows by itself, so the route never changes. An app
// with data (named volumes, or files in its data folder) is refused until
// the data can move with it: its data is local to the node it ran on.
func (m *Manager) MoveNode(ctx context.Context, id string, to swarm.Placement, progress func(Event)) (Record, error) {
	progress = m.stamp(id, progress)
	if !m.OnSwarm() {
		return Record{}, fmt.Errorf("move %s: %w", id, swarm.ErrNotSwarm)
	}
	if err := to.Validate(); err != nil {
		return Record{}, fmt.Errorf("move %s: %w: %w", id, ErrInvalid, err)
	}
	unlock := m.lock(id)
	defer unlock()
	rec, err := m.get(id)
	if err != nil {
		return Record{}, fmt.Errorf("move %s: %w", id, err)
	}
	if !rec.Stack {
		return Record{}, fmt.Errorf("move %s: %w: it was installed as a Compose project on this machine; reinstall it to run it as a stack", id, ErrInvalid)
	}
	p, err := m.recordedProject(ctx, &rec)
	if err != nil {
		return Record{}, fmt.Errorf("move %s: %w", id, err)
	}
	if what := m.dataOf(&rec, p); what != "" {
		return Record{}, fmt.Errorf("move %s: %w: it keeps data in %s, which stays on the node it runs on; back it up, remove the app, and install it with --node on the new node (automatic moves come with StackHub's backups)", id, ErrMoveNeedsBackup, what)
	}
	old := rec.Placement
	rec.Placement, rec.UpdatedAt = to, time.Now().UTC()
	if err := m.db.Put(recordKey(id), rec); err != nil {
		return Record{}, fmt.Errorf("move %s: record desired state: %w", id, err)
	}
	progress(Event{Phase: PhaseCompose, Status: "moving", Message: fmt.Sprintf("new placement %+v", to)})
	if err := m.swarmConverge(ctx, &rec, p, progress); err != nil {
		// Back where it was: the old placement, recorded and deployed.
		rec.Placement = old
		m.db.Put(recordKey(id), rec)
		m.swarmConverge(context.WithoutCancel(ctx), &rec, p, progress)
		return Record{}, fmt.Errorf("move %s: %w", id, err)
	}
	progress(Event{Phase: PhaseDone, Status: "moved", URL: rec.URL})
	return rec, nil
}

// dataOf names the app's data that would stay behind on its node: named
// volumes, bind mounts and files in its data folder ("" when none).
func (m *Manager) dataOf(rec *Record, p *types.Project) string {
	var what []string
	for name, v := range p.Volumes {
		if !v.External {
			what = append(what, "volume "+name)
		}
	}
	for _, s := range p.Services {
		for _, v := range s.Volumes {
			if v.Type == types.VolumeTypeBind {
				what = append(what, "folder "+v.Source)
			}
		}
	}
	if entries, err := os.ReadDir(filepath.Join(m.appDir(rec.ID), "data")); err == nil && len(entries) > 0 {
		what = append(what, "its data folder")
	}
	return strings.Join(what, ", ")
}

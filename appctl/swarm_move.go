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
	"go.uber.org/zap"

	"github.com/stackhub/stackhub/swarm"
)

// ErrMoveNeedsBackup says an app's data cannot follow it to another node
// without a backup repository (docs/SWARM.md, "Moving an app").
var ErrMoveNeedsBackup = errors.New("moving an app's data needs a backup repository")

// MoveNode places an app on a swarm anew (another node, other
// constraints). A stateless app's services just get the new constraints
// and Swarm reschedules them. An app with data (named volumes, bind mounts,
// files in its data folder) moves with it: stopped, backed up on its node,
// restored on the target, started there and checked; the old node's copy
// is deleted only then. On failure it runs again where it was, with the
// data there untouched. The relay follows by itself: the route never
// changes.
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
		data := m.sw.data
		if data == nil {
			data = nodeData{m}
		}
		moved, err := m.moveWithData(ctx, rec, p, to, what, data, progress)
		if err != nil {
			return Record{}, fmt.Errorf("move %s: %w", id, err)
		}
		return moved, nil
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

// moveWithData moves an app with data (what names it) to the one node
// placement to allows, the caller holding its lock:
//
//  1. plan: the node with the data (where it runs) and the target;
//  2. stop the app (scale to 0; requests get the stopped page);
//  3. back the data up on the source node (restic, the app's backups);
//  4. restore it on the target node, what was there kept aside;
//  5. deploy the stack pinned to the target, wait until it answers;
//  6. record the new placement, delete the source node's copy.
//
// A failure in 3-5 puts the app back on the source node with the old
// placement (its data there was only read) and undoes the restore.
func (m *Manager) moveWithData(ctx context.Context, rec Record, p *types.Project, to swarm.Placement, what string, data NodeData, progress func(Event)) (Record, error) {
	repo, err := m.backupRepo()
	if err != nil {
		return Record{}, fmt.Errorf("%w: it keeps data in %s, which moves with a backup and a restore: %w", ErrMoveNeedsBackup, what, err)
	}
	plan, err := swarm.PlanMove(ctx, m.engine.Docker(), rec.ID, rec.Placement, to, m.sw.manager)
	if err != nil {
		return Record{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if plan.From != m.sw.manager || plan.To != m.sw.manager {
		if err := reachableFromNodes(repo); err != nil {
			return Record{}, fmt.Errorf("%w: %w", ErrMoveNeedsBackup, err)
		}
	}
	progress(Event{Phase: PhaseCompose, Status: "moving", Message: fmt.Sprintf("from node %s to node %s with its data (%s)", plan.From, plan.To, what)})
	old, running := rec.Placement, rec.Running
	back := func(cause error) (Record, error) {
		bg := context.WithoutCancel(ctx)
		rec.Placement = old
		if running {
			progress(Event{Phase: PhaseCompose, Status: "starting the app again on node " + plan.From, Message: cause.Error()})
			if err := m.swarmConverge(bg, &rec, p, progress); err != nil {
				m.log.Error("move: start the app again where it was", zap.String("app", rec.ID), zap.Error(err))
			}
		}
		return Record{}, fmt.Errorf("%w; the app is back on node %s with its data untouched", cause, plan.From)
	}

	progress(Event{Phase: PhaseCompose, Status: "stopping the app for the move"})
	m.publish(&rec, "")
	if err := m.swarmStop(ctx, &rec); err != nil {
		return back(fmt.Errorf("stop: %w", err))
	}
	if err := m.waitStackStopped(ctx, &rec); err != nil {
		return back(err)
	}
	snap, err := data.Backup(ctx, plan.From, &rec, progress)
	if err != nil {
		return back(fmt.Errorf("back up its data on %s: %w", plan.From, err))
	}
	undo, done, err := data.Restore(ctx, plan.To, &rec, snap, progress)
	if err != nil {
		return back(fmt.Errorf("restore its data on %s: %w", plan.To, err))
	}
	moved := rec
	moved.Placement = swarm.Placement{Node: plan.To}
	progress(Event{Phase: PhaseCompose, Status: "starting the app on node " + plan.To})
	if err := m.swarmConverge(ctx, &moved, p, progress); err != nil {
		bg := context.WithoutCancel(ctx)
		m.swarmStop(bg, &moved)
		m.waitStackStopped(bg, &moved)
		undo(bg)
		return back(fmt.Errorf("the app did not answer on node %s: %w", plan.To, err))
	}
	moved.UpdatedAt = time.Now().UTC()
	if err := m.db.Put(recordKey(rec.ID), moved); err != nil {
		bg := context.WithoutCancel(ctx)
		m.swarmStop(bg, &moved)
		m.waitStackStopped(bg, &moved)
		undo(bg)
		return back(fmt.Errorf("record the new placement: %w", err))
	}
	done(ctx)
	if !running {
		// Checked on the new node; it goes back to the stopped state it had.
		m.publish(&moved, "")
		m.swarmStop(ctx, &moved)
	}
	if err := data.Clear(ctx, plan.From, &rec); err != nil {
		progress(Event{Phase: PhaseCompose, Status: "warning", Message: fmt.Sprintf("the old copy of the data on node %s could not be deleted: %v; snapshot %s holds it too", plan.From, err, short(snap.ID))})
	}
	progress(Event{Phase: PhaseDone, Status: "moved", URL: moved.URL,
		Message: fmt.Sprintf("%s runs on node %s with its data (snapshot %s)", rec.ID, plan.To, short(snap.ID))})
	return moved, nil
}

// waitStackStopped waits until every task of the app has exited (their
// containers write the data).
func (m *Manager) waitStackStopped(ctx context.Context, rec *Record) error {
	return m.poll(ctx, 300*time.Millisecond, func() (bool, error) {
		stopped, err := swarm.Quiet(ctx, m.engine.Docker(), rec.Project)
		return err == nil && stopped, nil // an error asks again
	}, func() error {
		return fmt.Errorf("the app's tasks did not stop within %s", m.cfg.WaitTimeout)
	})
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

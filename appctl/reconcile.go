package appctl

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/docker/compose/v5/pkg/api"
	"github.com/moby/moby/client"
	"go.uber.org/zap"
)

// Run reconciles every app with Docker, then follows Docker's events until
// Close: a container of an installed app that is started gets its new
// address routed, and one that is destroyed behind StackHub's back is
// recreated. Reconciling runs in the background so the HTTP server starts
// at once; apps are published as each converges.
func (m *Manager) Run() {
	ctx, cancel := context.WithCancel(context.Background())
	m.stop = cancel
	m.done.Add(1)
	go func() {
		defer m.done.Done()
		m.Reconcile(ctx)
		m.watchEvents(ctx)
	}()
}

// Close stops the background work of Run, and removes the platform network
// if no app uses it.
func (m *Manager) Close() {
	if m.stop != nil {
		m.stop()
	}
	m.done.Wait()
	m.removeIdleNetwork()
}

// Reconcile moves every app to its recorded desired state.
func (m *Manager) Reconcile(ctx context.Context) {
	// Restores and updates a crash interrupted go back to the state before
	// them first (restore.go, update.go).
	m.recoverOps(ctx)
	recs, err := m.records()
	if err != nil {
		m.log.Error("reconcile: read app records", zap.Error(err))
		return
	}
	// Publish the apps that are already running first, so routes come back
	// in a second after a restart; slower repairs follow.
	var repair []Record
	for _, rec := range recs {
		if rec.State == StateInstalled && rec.Running {
			if addr, err := m.upstream(ctx, &rec); err == nil {
				m.publish(&rec, addr)
				continue
			}
		}
		if rec.State == StateInstalled && !rec.Running {
			m.publish(&rec, "")
			continue
		}
		repair = append(repair, rec)
	}
	for _, rec := range repair {
		if ctx.Err() != nil {
			return
		}
		m.reconcileApp(ctx, rec.ID)
	}
	m.findOrphans(ctx)
	m.removeLegacyNetwork(ctx)
}

// reconcileApp converges one app; the caller must not hold its lock.
func (m *Manager) reconcileApp(ctx context.Context, id string) {
	unlock := m.lock(id)
	defer unlock()
	rec, err := m.get(id)
	if err != nil {
		return
	}
	log := m.log.With(zap.String("app", id), zap.String("state", string(rec.State)))
	progress := func(e Event) {
		if e.Phase == PhaseError {
			log.Warn("recover", zap.String("resource", e.Resource), zap.String("status", e.Status), zap.String("message", e.Message))
		}
	}
	switch rec.State {
	case StateInstalling:
		log.Info("finishing an install interrupted by a restart")
		p, err := m.startProject(ctx, &rec)
		if err == nil {
			err = m.converge(ctx, &rec, p, progress)
		}
		if err != nil {
			log.Error("interrupted install could not be finished; rolling it back", zap.Error(err))
			m.rollback(ctx, &rec, false, progress)
			rec.State = StateFailed
			rec.Error = err.Error()
			rec.Note = fmt.Sprintf("the install was interrupted by a restart of StackHub at %s and could not be finished, so it was rolled back (its data is kept): install it again, or remove it", rec.UpdatedAt.Format(time.RFC3339))
		} else {
			rec.State = StateInstalled
			rec.Note = fmt.Sprintf("the install was interrupted by a restart of StackHub at %s and was finished after the restart", rec.UpdatedAt.Format(time.RFC3339))
			log.Info("interrupted install finished")
		}
		rec.UpdatedAt = time.Now().UTC()
		if err := m.db.Put(recordKey(id), rec); err != nil {
			log.Error("record recovered state", zap.Error(err))
		}
	case StateRemoving:
		log.Info("finishing a removal interrupted by a restart")
		if err := m.finishRemove(ctx, &rec, progress); err != nil {
			log.Error("finish removal", zap.Error(err))
		}
	case StateInstalled:
		if !rec.Running {
			m.publish(&rec, "")
			return
		}
		p, err := m.startProject(ctx, &rec)
		if err == nil {
			err = m.converge(ctx, &rec, p, progress)
		}
		if err != nil {
			log.Error("bring app back", zap.Error(err))
			m.holdBack(ctx, &rec, err)
		}
	}
}

func (m *Manager) findOrphans(ctx context.Context) {
	list, err := m.engine.Docker().ContainerList(ctx, client.ContainerListOptions{
		All:     true,
		Filters: client.Filters{}.Add("label", LabelInstance+"="+m.cfg.Instance),
	})
	if err != nil {
		return
	}
	recs, _ := m.records()
	known := map[string]bool{}
	for _, r := range recs {
		known[r.Project] = true
	}
	seen := map[string]bool{}
	var orphans []string
	for _, c := range list.Items {
		p := c.Labels[api.ProjectLabel]
		if p != "" && !known[p] && !seen[p] {
			seen[p] = true
			orphans = append(orphans, p)
			m.log.Warn("compose project labelled for this StackHub has no app record; left alone", zap.String("project", p))
		}
	}
	sort.Strings(orphans)
	m.orphansMu.Lock()
	m.orphans = orphans
	m.orphansMu.Unlock()
}

// watchEvents follows container events of this instance until ctx ends,
// reconnecting when the stream breaks.
func (m *Manager) watchEvents(ctx context.Context) {
	for ctx.Err() == nil {
		res := m.engine.Docker().Events(ctx, client.EventsListOptions{
			Filters: client.Filters{}.Add("type", "container").Add("label", LabelInstance+"="+m.cfg.Instance),
		})
	stream:
		for {
			select {
			case <-ctx.Done():
				return
			case err := <-res.Err:
				if ctx.Err() == nil {
					m.log.Warn("docker event stream broke; reconnecting", zap.Error(err))
				}
				break stream
			case msg := <-res.Messages:
				m.onCrashEvent(ctx, string(msg.Action), msg.Actor.ID, msg.Actor.Attributes) // events.go
				m.onContainerEvent(ctx, string(msg.Action), msg.Actor.Attributes[LabelApp])
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
	}
}

func (m *Manager) onContainerEvent(ctx context.Context, action, id string) {
	if id == "" {
		return
	}
	switch action {
	case "start", "destroy":
	default:
		return
	}
	// An operation of our own holds the lock and publishes when done.
	unlock, ok := m.tryLock(id)
	if !ok {
		return
	}
	rec, err := m.get(id)
	if err != nil || rec.State != StateInstalled || !rec.Running {
		unlock()
		return
	}
	if action == "start" {
		if addr, err := m.upstream(ctx, &rec); err == nil {
			if e, ok := m.reg.Lookup(rec.Host); !ok || e.Upstream != addr {
				m.log.Info("app container started; routing to its address", zap.String("app", id), zap.String("upstream", addr))
				m.publish(&rec, addr)
			}
		}
		unlock()
		return
	}
	unlock()
	// A container was removed behind our back: recreate it.
	m.log.Warn("container of a running app was removed outside StackHub; recreating it", zap.String("app", id))
	go m.reconcileApp(ctx, id)
}

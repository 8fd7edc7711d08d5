package appctl

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/docker/compose/v5/pkg/api"
	"github.com/moby/moby/client"
	"go.uber.org/zap"

	"github.com/stackhub/stackhub/internal/i18n"
	"github.com/stackhub/stackhub/internal/kv"
)

// AppEvent is one entry of an app's recent history, as its page and
// GET /api/v1/apps/{id}/events show it.
type AppEvent struct {
	Time   time.Time `json:"time"`
	Kind   string    `json:"kind"`
	Detail string    `json:"detail,omitempty"`
	// MsgID and Args are Detail as a catalog message (see Event.MsgID),
	// for the portal to show it in the page's language.
	MsgID string            `json:"msg_id,omitempty"`
	Args  map[string]string `json:"args,omitempty"`
	Words []string          `json:"words,omitempty"`
}

// The kinds of app events.
const (
	EventInstalled  = "installed"
	EventStarted    = "started"
	EventStopped    = "stopped"
	EventRestarted  = "restarted"
	EventUpdated    = "updated"
	EventSettings   = "settings changed"
	EventMoved      = "moved"
	EventRestored   = "restored"
	EventCrashed    = "crashed"
	EventRecovered  = "recovered"
	EventBackupOK   = "backup ok"
	EventBackupFail = "backup failed"
)

// eventsKept bounds an app's history: the page shows recent events, not a
// log.
const eventsKept = 50

func eventsKey(id string) string { return "app-events/" + id }

// Events returns id's recent events, newest first.
func (m *Manager) Events(id string) ([]AppEvent, error) {
	var list []AppEvent
	if err := m.db.Get(eventsKey(id), &list); err != nil && !errors.Is(err, kv.ErrNotFound) {
		return nil, fmt.Errorf("events of %s: %w", id, err)
	}
	return list, nil
}

// event records that kind happened to id. Losing an event must not fail
// the operation that caused it, so errors are only logged.
func (m *Manager) event(id, kind, detail string) {
	m.recordEvent(id, AppEvent{Time: time.Now().UTC(), Kind: kind, Detail: detail})
}

// eventSay records that kind happened to id, its detail the catalog
// message msgID with its args (name/value pairs, see i18n.M).
func (m *Manager) eventSay(id, kind, msgID string, kv ...any) {
	msg := i18n.M(msgID, kv...)
	m.recordEvent(id, AppEvent{Time: time.Now().UTC(), Kind: kind, Detail: msg.English(), MsgID: msg.ID, Args: msg.Args, Words: msg.Words})
}

func (m *Manager) recordEvent(id string, e AppEvent) {
	kind := e.Kind
	err := m.db.Update(func(t *kv.Txn) error {
		var list []AppEvent
		if err := t.Get(eventsKey(id), &list); err != nil && !errors.Is(err, kv.ErrNotFound) {
			return err
		}
		list = append([]AppEvent{e}, list...)
		if len(list) > eventsKept {
			list = list[:eventsKept]
		}
		return t.Put(eventsKey(id), list)
	})
	if err != nil {
		m.log.Warn("record app event", zap.String("app", id), zap.String("kind", kind), zap.Error(err))
	}
}

// forgetEvents drops a removed app's history: a new app of the same id
// starts without it.
func (m *Manager) forgetEvents(id string) {
	if err := m.db.Delete(eventsKey(id)); err != nil {
		m.log.Warn("drop app events", zap.String("app", id), zap.Error(err))
	}
}

// doneKinds maps the status of an operation's final event to the event it
// records.
var doneKinds = map[string]string{
	"installed":    EventInstalled,
	"cloned":       EventInstalled,
	"started":      EventStarted,
	"stopped":      EventStopped,
	"restarted":    EventRestarted,
	"updated":      EventUpdated,
	"reconfigured": EventSettings,
	"saved":        EventSettings,
	"moved":        EventMoved,
	"restored":     EventRestored,
}

// eventOnDone records the event of an operation that ended well, from its
// final progress event (every operation passes through stamp). A removal
// records nothing: finishRemove drops the app's events with it.
func (m *Manager) eventOnDone(id string, e Event) {
	if e.Phase != PhaseDone {
		return
	}
	if kind, ok := doneKinds[e.Status]; ok {
		m.recordEvent(id, AppEvent{Time: time.Now().UTC(), Kind: kind, Detail: e.Message, MsgID: e.MsgID, Args: e.Args, Words: e.Words})
	}
}

// crashes remembers, per manager and app, a crash that Docker's restart
// policy is about to recover from, so its next start is recorded as the
// recovery.
var crashes sync.Map // crashKey → service name

type crashKey struct {
	m  *Manager
	id string
}

// onCrashEvent records crashes and recoveries of running apps from Docker's
// container events: a container that died or turned unhealthy while no
// operation of StackHub held the app. A dead container Docker does not
// restart (killed, restart policy spent) is brought back by a reconcile.
func (m *Manager) onCrashEvent(ctx context.Context, action, container string, attrs map[string]string) {
	id, svc := attrs[LabelApp], attrs[api.ServiceLabel]
	if id == "" {
		return
	}
	key := crashKey{m, id}
	switch action {
	case "die", "health_status: unhealthy":
	case "start", "health_status: healthy":
		if s, ok := crashes.LoadAndDelete(key); ok {
			m.eventSay(id, EventRecovered, "service {{.Service}} runs again (Docker restarted it)", "Service", s)
		}
		return
	default:
		return
	}
	// Our own operations (stop, restart, update …) hold the lock.
	unlock, ok := m.tryLock(id)
	if !ok {
		return
	}
	rec, err := m.get(id)
	if err != nil || rec.State != StateInstalled || !rec.Running {
		unlock()
		return
	}
	if action != "die" {
		unlock()
		crashes.Store(key, svc)
		m.eventSay(id, EventCrashed, "service {{.Service}} became unhealthy", "Service", svc)
		return
	}
	res, err := m.engine.Docker().ContainerInspect(ctx, container, client.ContainerInspectOptions{})
	unlock()
	if err != nil || res.Container.State == nil {
		return // removed: onContainerEvent recreates it
	}
	st := res.Container.State
	if st.Running && !st.Restarting {
		return // an operation of ours restarted it meanwhile
	}
	// A service meant to run once (restart "no" or "on-failure") that ended
	// well is done, not crashed; StackHub brings back only services meant
	// to keep running, so a failing one-shot is not run in a loop.
	keepRunning := false
	if hc := res.Container.HostConfig; hc != nil {
		keepRunning = hc.RestartPolicy.Name == "always" || hc.RestartPolicy.Name == "unless-stopped"
	}
	if !keepRunning && st.ExitCode == 0 {
		return
	}
	m.eventSay(id, EventCrashed, "service {{.Service}} stopped unexpectedly (exit code {{.Code}})", "Service", svc, "Code", st.ExitCode)
	switch {
	case st.Restarting:
		crashes.Store(key, svc)
	case keepRunning:
		go m.recoverCrash(ctx, id, svc)
	}
}

// recoverCrash brings back an app whose container died and stays dead, and
// records whether that worked.
func (m *Manager) recoverCrash(ctx context.Context, id, svc string) {
	m.reconcileApp(ctx, id)
	rec, err := m.get(id)
	if err != nil || rec.State != StateInstalled || !rec.Running {
		return // removed or stopped meanwhile, or held back (its note says why)
	}
	cs, err := m.engine.Ps(ctx, rec.Project)
	if err != nil {
		return
	}
	for _, c := range cs {
		if c.Service == svc && c.State == "running" {
			m.eventSay(id, EventRecovered, "StackHub started service {{.Service}} again", "Service", svc)
			return
		}
	}
	m.eventSay(id, EventCrashed, "StackHub could not start service {{.Service}} again: `stackhub apps logs {{.App}}` shows why", "Service", svc, "App", id)
}

package declare

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/stackhub/stackhub/appctl"
)

// Manager is what converging needs of appctl.Manager.
type Manager interface {
	Records() ([]appctl.Record, error)
	Changes(appctl.Record, appctl.Desired) []string
	ApplyDeclared(context.Context, appctl.Desired, func(appctl.Event)) (appctl.Record, error)
	SetManaged(id, source, note string) error
	StopUndeclared(ctx context.Context, id, note string, progress func(appctl.Event)) error
	Remove(ctx context.Context, id string, keepData bool, progress func(appctl.Event)) error
}

// Actions a convergence takes on an app.
const (
	ActionInstall   = "install"
	ActionUpdate    = "update"
	ActionAdopt     = "adopt"     // as declared, but not (or elsewhere) marked managed: only the mark changes
	ActionUnchanged = "unchanged" // as declared: not touched
	ActionStop      = "stop"      // no longer declared: stopped, kept
	ActionRemove    = "remove"    // no longer declared, and the config prunes
)

// States of an app's step.
const (
	StatePending = "pending"
	StateWorking = "working"
	StateDone    = "done"
	StateFailed  = "failed"
)

// Step is one app's part of a convergence.
type Step struct {
	App     string   `json:"app"`
	Source  string   `json:"source,omitempty"`
	Action  string   `json:"action"`
	Changes []string `json:"changes,omitempty"`
	State   string   `json:"state"`
	Message string   `json:"message,omitempty"`
	Error   string   `json:"error,omitempty"`
}

// Status is the progress of the latest convergence (GET /stackhub/declared).
type Status struct {
	// Generation counts config loads that declared apps.
	Generation int       `json:"generation"`
	Running    bool      `json:"running"`
	Started    time.Time `json:"started,omitzero"`
	Finished   time.Time `json:"finished,omitzero"`
	Prune      string    `json:"prune,omitempty"`
	Steps      []Step    `json:"steps"`
}

// Converger converges the box to the declared apps, one config load after
// another, in the background (installs take minutes; the config load does
// not wait). A load arriving while one converges runs after it, and only
// the newest waiting load runs.
type Converger struct {
	m   Manager
	log *zap.Logger

	mu      sync.Mutex
	status  Status
	next    *job
	working bool
	idle    *sync.Cond
	ctx     context.Context
	cancel  context.CancelFunc
}

type job struct {
	desired []appctl.Desired
	prune   string
	gen     int
}

// NewConverger returns a converger over m.
func NewConverger(m Manager, log *zap.Logger) *Converger {
	if log == nil {
		log = zap.NewNop()
	}
	c := &Converger{m: m, log: log}
	c.idle = sync.NewCond(&c.mu)
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c
}

// Apply converges to desired in the background; prune is one of the Prune
// modes.
func (c *Converger) Apply(desired []appctl.Desired, prune string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.status.Generation++
	c.next = &job{desired: desired, prune: prune, gen: c.status.Generation}
	if !c.working {
		c.working = true
		go c.work()
	}
}

func (c *Converger) work() {
	for {
		c.mu.Lock()
		j := c.next
		c.next = nil
		if j == nil || c.ctx.Err() != nil {
			c.working = false
			c.idle.Broadcast()
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		c.run(j)
	}
}

// Wait blocks until no convergence runs or waits.
func (c *Converger) Wait() {
	c.mu.Lock()
	for c.working {
		c.idle.Wait()
	}
	c.mu.Unlock()
}

// Close stops after the current step.
func (c *Converger) Close() { c.cancel() }

// Status returns the latest convergence's progress.
func (c *Converger) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.status
	s.Steps = append([]Step(nil), c.status.Steps...)
	return s
}

func (c *Converger) setStep(i int, edit func(*Step)) {
	c.mu.Lock()
	edit(&c.status.Steps[i])
	st := c.status.Steps[i]
	c.mu.Unlock()
	fields := []zap.Field{zap.String("app", st.App), zap.String("action", st.Action), zap.String("state", st.State)}
	if st.Source != "" {
		fields = append(fields, zap.String("declared_at", st.Source))
	}
	if len(st.Changes) > 0 {
		fields = append(fields, zap.Strings("changes", st.Changes))
	}
	switch st.State {
	case StateFailed:
		c.log.Error("declared app: "+st.Error, fields...)
	case StateDone, StateWorking:
		c.log.Info("declared app: "+st.Message, fields...)
	}
}

// plan decides each app's step from the records.
func (c *Converger) plan(j *job) ([]Step, map[string]appctl.Desired, error) {
	recs, err := c.m.Records()
	if err != nil {
		return nil, nil, err
	}
	byID := map[string]appctl.Record{}
	for _, r := range recs {
		byID[r.ID] = r
	}
	want := map[string]appctl.Desired{}
	var steps []Step
	for _, d := range j.desired {
		want[d.App.ID] = d
		st := Step{App: d.App.ID, Source: d.Source, State: StatePending}
		rec, ok := byID[d.App.ID]
		switch {
		case !ok || rec.State == appctl.StateFailed:
			st.Action = ActionInstall
		default:
			st.Changes = c.m.Changes(rec, d)
			switch {
			case len(st.Changes) > 0:
				st.Action = ActionUpdate
			case rec.Managed != d.Source:
				// Installed by hand (or declared on another line now):
				// as declared, so only the mark changes.
				st.Action = ActionAdopt
			default:
				st.Action = ActionUnchanged
			}
		}
		steps = append(steps, st)
	}
	for _, r := range recs {
		if _, ok := want[r.ID]; ok || r.Managed == "" {
			continue
		}
		st := Step{App: r.ID, Source: r.Managed, Action: ActionStop, State: StatePending}
		if j.prune != PruneOff {
			st.Action = ActionRemove
		}
		steps = append(steps, st)
	}
	return steps, want, nil
}

func (c *Converger) run(j *job) {
	steps, want, err := c.plan(j)
	c.mu.Lock()
	c.status = Status{Generation: j.gen, Running: true, Started: time.Now().UTC(), Prune: j.prune, Steps: steps}
	c.mu.Unlock()
	if err != nil {
		c.log.Error("declared apps: read app records", zap.Error(err))
	}
	c.log.Info("converging to the declared apps", zap.Int("declared", len(j.desired)), zap.Int("generation", j.gen))
	for i, st := range steps {
		if c.ctx.Err() != nil {
			break
		}
		c.step(i, st, want[st.App], j.prune)
	}
	c.mu.Lock()
	c.status.Running = false
	c.status.Finished = time.Now().UTC()
	c.mu.Unlock()
	c.log.Info("declared apps converged", zap.Int("generation", j.gen))
}

func (c *Converger) step(i int, st Step, d appctl.Desired, prune string) {
	ctx := c.ctx
	progress := func(appctl.Event) {}
	var err error
	var msg string
	switch st.Action {
	case ActionUnchanged:
		c.setStep(i, func(s *Step) { s.State, s.Message = StateDone, "as declared: not touched" })
		return
	case ActionAdopt:
		err = c.m.SetManaged(st.App, d.Source, "")
		msg = "as declared: marked as managed by the config, not touched"
	case ActionInstall, ActionUpdate:
		c.setStep(i, func(s *Step) { s.State, s.Message = StateWorking, st.Action+" started" })
		_, err = c.m.ApplyDeclared(ctx, d, progress)
		msg = map[string]string{ActionInstall: "installed", ActionUpdate: "updated"}[st.Action]
	case ActionStop:
		note := fmt.Sprintf("no longer declared in the config (it was at %s), so it was stopped; its data is kept: declare it again, or remove it with `stackhub apps remove %s`", st.Source, st.App)
		err = c.m.StopUndeclared(ctx, st.App, note, progress)
		msg = "no longer declared: stopped, data kept"
	case ActionRemove:
		keep := prune != PruneDeleteData
		err = c.m.Remove(ctx, st.App, keep, progress)
		msg = "no longer declared, and the config prunes: removed"
		if keep {
			msg += " (data kept)"
		}
	}
	if err != nil {
		c.setStep(i, func(s *Step) { s.State, s.Error = StateFailed, err.Error() })
		return
	}
	c.setStep(i, func(s *Step) { s.State, s.Message = StateDone, msg })
}

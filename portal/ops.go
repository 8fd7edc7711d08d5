// Long operations (install, start, stop, restart, remove, settings) run in
// the background, detached from the request that started them, and keep
// their progress here so that any page can follow them: the page that
// started one, the home page showing installs in progress, or the same page
// after a reload.

package portal

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/internal/i18n"
)

// maxEvents bounds an operation's kept events; image progress is the bulk,
// and the last events of each resource are what a page shows.
const maxEvents = 2000

// maxOps is how many finished operations are remembered (the app page
// shows an app's recent ones).
const maxOps = 100

// operation is one long operation and its progress so far.
type operation struct {
	ID      string    `json:"id"`
	App     string    `json:"app"`
	Kind    string    `json:"kind"` // install, start, stop, restart, remove, settings
	User    string    `json:"user"`
	Started time.Time `json:"started"`

	mu     sync.Mutex
	events []appctl.Event
	first  int // index of events[0] among all the operation's events
	done   bool
	err    string
	cause  error // the error of err, whose catalog message pages translate
	wake   chan struct{}
}

// OperationView is an operation as the API lists it.
type OperationView struct {
	ID      string        `json:"id"`
	App     string        `json:"app"`
	Kind    string        `json:"kind"`
	User    string        `json:"user"`
	Started time.Time     `json:"started"`
	Done    bool          `json:"done"`
	Error   string        `json:"error,omitempty"`
	Last    *appctl.Event `json:"last,omitempty"`
	// cause is the error of Error, for its translation (localOp).
	cause error
}

func (op *operation) view() OperationView {
	op.mu.Lock()
	defer op.mu.Unlock()
	v := OperationView{ID: op.ID, App: op.App, Kind: op.Kind, User: op.User, Started: op.Started, Done: op.done, Error: op.err, cause: op.cause}
	if n := len(op.events); n > 0 {
		e := op.events[n-1]
		v.Last = &e
	}
	return v
}

func (op *operation) add(e appctl.Event) {
	op.mu.Lock()
	if len(op.events) >= maxEvents {
		drop := maxEvents / 2
		op.events = append(op.events[:0:0], op.events[drop:]...)
		op.first += drop
	}
	op.events = append(op.events, e)
	close(op.wake)
	op.wake = make(chan struct{})
	op.mu.Unlock()
}

func (op *operation) finish(err error) {
	if err != nil {
		ev := appctl.Event{Time: time.Now(), App: op.App, Phase: appctl.PhaseError, Code: statusOf(err), Message: err.Error()}
		var le i18n.Localized
		if errors.As(err, &le) && strings.HasSuffix(ev.Message, le.Message().English()) {
			ev.MsgID, ev.Args, ev.Words = le.Message().ID, le.Message().Args, le.Message().Words
		}
		op.add(ev)
	}
	op.mu.Lock()
	op.done = true
	if err != nil {
		op.err, op.cause = err.Error(), err
	}
	close(op.wake)
	op.wake = make(chan struct{})
	op.mu.Unlock()
}

// since returns the events from index i on, the index after them, whether
// the operation is over, and a channel closed at the next change.
func (op *operation) since(i int) ([]appctl.Event, int, bool, <-chan struct{}) {
	op.mu.Lock()
	defer op.mu.Unlock()
	if i < op.first {
		i = op.first
	}
	evs := append([]appctl.Event(nil), op.events[i-op.first:]...)
	return evs, op.first + len(op.events), op.done, op.wake
}

// operations are the running and recent operations of this portal.
type operations struct {
	mu   sync.Mutex
	list []*operation // oldest first
	seq  atomic.Int64
}

// start runs fn in the background as a new operation of app. An operation
// is not cut short when the browser that asked for it goes away.
func (o *operations) start(app, kind, user string, fn func(context.Context, func(appctl.Event)) error) *operation {
	op := &operation{
		ID:  strconv.FormatInt(time.Now().UnixMilli(), 36) + "-" + strconv.FormatInt(o.seq.Add(1), 10),
		App: app, Kind: kind, User: user, Started: time.Now().UTC(), wake: make(chan struct{}),
	}
	o.mu.Lock()
	o.list = append(o.list, op)
	if n := len(o.list); n > maxOps {
		kept := o.list[:0]
		for i, old := range o.list {
			old.mu.Lock()
			done := old.done
			old.mu.Unlock()
			if !done || i >= n-maxOps {
				kept = append(kept, old)
			}
		}
		o.list = kept
	}
	o.mu.Unlock()
	go func() { op.finish(fn(context.Background(), op.add)) }()
	return op
}

func (o *operations) get(id string) (*operation, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, op := range o.list {
		if op.ID == id {
			return op, true
		}
	}
	return nil, false
}

// views lists operations, newest first: all of them, or those of one app,
// or only the running ones.
func (o *operations) views(app string, runningOnly bool) []OperationView {
	o.mu.Lock()
	list := append([]*operation(nil), o.list...)
	o.mu.Unlock()
	out := []OperationView{}
	for i := len(list) - 1; i >= 0; i-- {
		v := list[i].view()
		if (app != "" && v.App != app) || (runningOnly && v.Done) {
			continue
		}
		out = append(out, v)
	}
	return out
}

// statusOf maps an operation's error to an HTTP status, as the admin API
// does for the CLI.
func statusOf(err error) int { return appctl.HTTPStatus(err) }

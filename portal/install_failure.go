// A failed install shows why: the error, then what each failing service
// showed before the rollback removed it (appctl gathers that evidence:
// its state, its failed healthchecks, its last log lines).

package portal

import (
	"fmt"
	"time"

	"github.com/stackhub/stackhub/appctl"
)

// PhaseEvidence is the progress event of a failed install that carries one
// failing service's evidence (Event.Evidence), one event per service.
const PhaseEvidence appctl.Phase = "evidence"

// failureEvidence sends the evidence of id's install that failed with err
// (and began at since) as PhaseEvidence events, and returns err told in
// one line, as the evidence follows in the stream and not in the error.
func (p *Portal) failureEvidence(id string, since time.Time, err error, progress func(appctl.Event)) error {
	if err == nil {
		return nil
	}
	f, ok := p.plat().Apps.LastInstallFailure(id)
	if !ok || f.Time.Before(since) || len(f.Services) == 0 {
		return err
	}
	for i := range f.Services {
		s := f.Services[i]
		progress(appctl.Event{Time: time.Now(), App: id, Phase: PhaseEvidence, Resource: s.Service, Status: s.State, Evidence: &s})
	}
	return &evidencedError{err: err, msg: fmt.Sprintf("install %s: %s", id, f.Error)}
}

// evidencedError is an install error whose evidence was sent apart; it
// keeps the error's kind (its HTTP status) for statusOf.
type evidencedError struct {
	err error
	msg string
}

func (e *evidencedError) Error() string { return e.msg }
func (e *evidencedError) Unwrap() error { return e.err }

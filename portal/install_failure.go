// A failed install shows why: the error, then what each failing service
// showed before the rollback removed it (appctl gathers that evidence:
// its state, its failed healthchecks, its last log lines).

package portal

import (
	"errors"
	"fmt"
	"time"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/internal/i18n"
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
	// text is msg as a catalog message, when it is one (a failed update's
	// outcome); else the message of err is the one to translate.
	text i18n.Msg
}

// Message is the error's catalog message (see i18n.Localized): text, or
// that of the error it wraps (an install's appctl error).
func (e *evidencedError) Message() i18n.Msg {
	if e.text.ID != "" {
		return e.text
	}
	var le i18n.Localized
	if errors.As(e.err, &le) {
		return le.Message()
	}
	return i18n.Msg{}
}

func (e *evidencedError) Error() string { return e.msg }
func (e *evidencedError) Unwrap() error { return e.err }

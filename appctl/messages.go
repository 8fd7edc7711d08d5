package appctl

import (
	"errors"
	"strings"

	"github.com/stackhub/stackhub/internal/i18n"
)

// say returns e saying the catalog message id with its args (name/value
// pairs, see i18n.M): Message is the English text, as the CLI prints it
// and the logs keep it, and MsgID and Args let the portal show it in the
// page's language. Every id is in internal/i18n/catalog/*.json.
func say(e Event, id string, kv ...any) Event {
	m := i18n.M(id, kv...)
	e.Message, e.MsgID, e.Args, e.Words = m.English(), m.ID, m.Args, m.Words
	return e
}

// sayStatus returns e whose Status is the catalog message id with its args
// (a step that the CLI prints as its status line, with no message): the
// portal shows the status in the page's language from MsgID and Args.
func sayStatus(e Event, id string, kv ...any) Event {
	m := i18n.M(id, kv...)
	e.Status, e.MsgID, e.Args, e.Words = m.English(), m.ID, m.Args, m.Words
	return e
}

// Text is the event's message as a catalog message (an empty ID when the
// message is not one of ours: Docker's words, an app's error).
func (e Event) Text() i18n.Msg { return i18n.Msg{ID: e.MsgID, Args: e.Args, Words: e.Words} }

// Text is the app event's detail as a catalog message (see Event.Text).
func (e AppEvent) Text() i18n.Msg { return i18n.Msg{ID: e.MsgID, Args: e.Args, Words: e.Words} }

// errorf returns the error of the catalog message id (args as name/value
// pairs), which wraps kind (ErrNotInstalled, ErrTaken …) for errors.Is and
// HTTPStatus. Its text is the English message, and the portal shows it in
// the page's language.
func errorf(kind error, id string, kv ...any) error { return i18n.Errorf(kind, id, kv...) }

// sayError returns e saying err: Message is err's text, and when err
// carries a catalog message (an i18n.Localized that its text ends with),
// MsgID and Args are that message, for the portal.
func sayError(e Event, err error) Event {
	e.Message = err.Error()
	var le i18n.Localized
	if errors.As(err, &le) {
		if m := le.Message(); m.ID != "" && strings.HasSuffix(e.Message, m.English()) {
			e.MsgID, e.Args, e.Words = m.ID, m.Args, m.Words
		}
	}
	return e
}

// word is an app's state as an arg of a message: the portal says it in
// the page's language, as its status pills do ("removing" → "删除中").
func word(s State) i18n.Word { return i18n.Word(s) }

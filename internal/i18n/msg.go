package i18n

import (
	"fmt"
	"strings"
	"sync"
	"text/template"
)

// Msg is a catalog message with its arguments, made where the values are
// known (appctl's progress, an error naming an app) and translated where
// the language is (the portal). Its ID is the English text with go-i18n
// placeholders ({{.Name}}); Args are the placeholders' values.
type Msg struct {
	ID   string            `json:"msg_id,omitempty"`
	Args map[string]string `json:"args,omitempty"`
	// Words are the names of the args whose values are words of the
	// catalog themselves (an app's state: "removing"), translated before
	// they fill the message (see Word).
	Words []string `json:"words,omitempty"`
}

// Word is an arg value of M that is a catalog text of its own (an app's
// state such as "removing", which the status pills translate too): the
// English message says it as is, other languages say its translation.
type Word string

// M makes the message id with args given as name/value pairs ("Name",
// rec.Name, "URL", rec.URL); values are formatted with fmt.Sprint, and a
// Word value is translated with the message (see Word).
func M(id string, kv ...any) Msg {
	m := Msg{ID: id}
	if len(kv) > 1 {
		m.Args = make(map[string]string, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			name := fmt.Sprint(kv[i])
			m.Args[name] = fmt.Sprint(kv[i+1])
			if _, ok := kv[i+1].(Word); ok {
				m.Words = append(m.Words, name)
			}
		}
	}
	return m
}

// English is the message's English text: its ID with the placeholders
// filled in. It needs no catalog, so a message is English for the CLI and
// the logs even when the catalog lacks it.
func (m Msg) English() string { return fill(m.ID, m.Args) }

// pairs are the message's args as the name/value pairs T takes, its
// Words translated by lc.
func (m Msg) pairs(lc *Localizer) []any {
	out := make([]any, 0, 2*len(m.Args))
	for k, v := range m.Args {
		if contains(m.Words, k) {
			v = lc.T(v)
		}
		out = append(out, k, v)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Msg translates m: the catalog's text of its ID with its args, or its
// English text when the catalog lacks the ID.
func (lc *Localizer) Msg(m Msg) string {
	if m.ID == "" {
		return ""
	}
	if s := lc.T(m.ID, m.pairs(lc)...); s != m.ID || !strings.Contains(m.ID, "{{") {
		return s
	}
	return m.English()
}

// templates caches the parsed English texts of fill.
var templates sync.Map // id → *template.Template

// fill executes id as a text/template on args (as go-i18n does); an id
// that does not parse comes back as is.
func fill(id string, args map[string]string) string {
	if !strings.Contains(id, "{{") {
		return id
	}
	var t *template.Template
	if v, ok := templates.Load(id); ok {
		t = v.(*template.Template)
	} else {
		var err error
		if t, err = template.New("").Option("missingkey=zero").Parse(id); err != nil {
			return id
		}
		templates.Store(id, t)
	}
	var b strings.Builder
	if args == nil {
		args = map[string]string{}
	}
	if err := t.Execute(&b, args); err != nil {
		return id
	}
	return b.String()
}

// Error is an error whose text is a catalog message: its Error() is the
// English text (for the CLI and the logs), and the portal, finding it with
// errors.As under the context that wraps it (fmt.Errorf("install %s: %w",
// …)), shows the message in the request's language. Err is what it wraps
// for errors.Is and errors.As (a sentinel such as appctl.ErrNotInstalled,
// or the cause); it is not part of the text: a cause worth showing is an
// argument ({{.Err}}).
type Error struct {
	Msg
	Err error
}

// Errorf returns an *Error of the message id (args as name/value pairs,
// see M) that wraps err.
func Errorf(err error, id string, kv ...any) *Error {
	return &Error{Msg: M(id, kv...), Err: err}
}

func (e *Error) Error() string { return e.English() }

func (e *Error) Unwrap() error { return e.Err }

// Message is the catalog message of the error (see Localized).
func (e *Error) Message() Msg { return e.Msg }

// Localized is an error that can say itself in every language of the
// catalog: an *Error, or an error type of another package (the sign-in
// lockout) that keeps its own fields.
type Localized interface {
	error
	Message() Msg
}

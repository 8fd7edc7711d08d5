// Access policies: validation shared by the admin pages, the API and the
// CLI, and user-facing input errors.

package portal

import (
	"errors"
	"strconv"
	"strings"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/internal/auth"
	"github.com/stackhub/stackhub/internal/i18n"
	"github.com/stackhub/stackhub/internal/registry"
)

// SplitList splits a comma-separated list of users, groups or paths, as
// forms and the CLI take them, dropping blanks.
func SplitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// message is the text to show for err: auth's public message, or the text
// of an input error of this package.
func message(err error) string {
	var ie InputError
	if errors.As(err, &ie) {
		return ie.Error()
	}
	return auth.PublicMessage(err)
}

// InputError is a refused input, with a catalog message for the user: its
// Error() is the English text, and the portal says it in the page's
// language (it is an i18n.Localized).
type InputError struct{ msg i18n.Msg }

// inputError is the InputError of the catalog message id with its args
// (name/value pairs, see i18n.M).
func inputError(id string, kv ...any) InputError { return InputError{i18n.M(id, kv...)} }

func (e InputError) Error() string { return e.msg.English() }

// Message is the error's catalog message (see i18n.Localized).
func (e InputError) Message() i18n.Msg { return e.msg }

// PolicyStore keeps an app's access policy and publishes it to the gate;
// the platform's is appctl.Manager, which saves it with the app's record.
type PolicyStore interface {
	SetPolicy(app string, p registry.Policy) error
}

// SetPolicy validates pol and hands it to store. The gate applies it from
// the next request, and it survives restarts of the app and of StackHub.
func SetPolicy(store PolicyStore, app string, pol registry.Policy) error {
	switch pol.Access {
	case registry.Private, registry.Restricted, registry.Public:
	case "":
		pol.Access = registry.Private
	default:
		return inputError("access must be private, restricted or public, not {{.Access}}", "Access", strconv.Quote(string(pol.Access)))
	}
	for i, u := range pol.Users {
		n, err := auth.NormalizeUsername(u)
		if err != nil {
			return err
		}
		pol.Users[i] = n
	}
	for i, g := range pol.Groups {
		n, err := auth.NormalizeUsername(g)
		if err != nil {
			return auth.ErrInvalidGroup
		}
		pol.Groups[i] = n
	}
	for _, pp := range pol.PublicPaths {
		if !strings.HasPrefix(pp, "/") || strings.ContainsAny(pp, " \\%") {
			return inputError("path exception {{.Path}} must be a path starting with /", "Path", strconv.Quote(pp))
		}
	}
	if err := store.SetPolicy(app, pol); err != nil {
		if errors.Is(err, appctl.ErrNotInstalled) {
			return inputError("no app {{.App}} is installed", "App", strconv.Quote(app))
		}
		return err
	}
	return nil
}

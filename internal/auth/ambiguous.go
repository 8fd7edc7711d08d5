package auth

import (
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/stackhub/stackhub/internal/registry"
)

// ErrAmbiguousPath refuses a request whose access rests on a path
// exception while its path could mean another path to the app.
var ErrAmbiguousPath = &Error{"this address has a path that could be read in more than one way (dot segments, encoded '/', '\\', '.' or '%', ';' parameters, or '//'): use the plain path"}

// Decide is the gate's decision for a request to an app with policy p, by
// id, for the URL u as it will be forwarded: Allowed on the decoded path,
// and, when only a public path exception lets the request in, a check that
// the path the app receives (u.EscapedPath(), exactly what the reverse
// proxy sends) cannot be read as another path. An app router may resolve
// "..", decode "%2f" or "%2e", treat '\' as '/', or cut ";params"
// (Tomcat reads "/api/..;/secret" as "/secret"); the gate decided on one
// reading, so it refuses anything that has a second one, with
// ErrAmbiguousPath. Requests allowed by who is asking (a signed-in user
// with access to the whole app) are not affected: their path does not
// change the answer.
func Decide(id Identity, p registry.Policy, u *url.URL) (bool, error) {
	if !Allowed(id, p, u.Path) {
		return false, nil
	}
	if len(p.PublicPaths) == 0 || p.Access == registry.Public {
		return true, nil
	}
	if Allowed(id, registry.Policy{Access: p.Access, Users: p.Users, Groups: p.Groups}, u.Path) {
		return true, nil // allowed without the exceptions
	}
	if AmbiguousPath(u.EscapedPath()) || AmbiguousPath(u.Path) {
		return false, ErrAmbiguousPath
	}
	return true, nil
}

// AmbiguousPath reports whether the request path p (escaped or decoded)
// could name another path to some server: a "." or ".." segment, an
// empty segment ("//"), a backslash, a ';', a control character, invalid
// UTF-8 (overlong forms of '.' or '/'), or a percent-encoded '/', '\',
// '.', '%' or ';'.
func AmbiguousPath(p string) bool {
	if p == "" || p[0] != '/' || !utf8.ValidString(p) {
		return true
	}
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c < 0x20 || c == 0x7f || c == '\\' || c == ';':
			return true
		case c == '%' && i+2 < len(p):
			switch strings.ToLower(p[i+1 : i+3]) {
			case "2f", "5c", "2e", "25", "3b":
				return true
			}
		}
	}
	segs := strings.Split(p[1:], "/")
	for i, s := range segs {
		if s == "." || s == ".." || (s == "" && i < len(segs)-1) {
			return true
		}
	}
	return false
}

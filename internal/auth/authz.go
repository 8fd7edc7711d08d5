package auth

import (
	"path"
	"strings"

	"github.com/stackhub/stackhub/internal/registry"
)

// Identity is who a request belongs to: a snapshot of the user taken from
// the live user entry (updated in place when an admin changes the user).
// The zero Identity is "not signed in".
type Identity struct {
	User   string
	Email  string
	Role   Role
	Groups []string // sorted; shared, read-only
}

// SignedIn reports whether id is a user.
func (id Identity) SignedIn() bool { return id.User != "" }

// IsAdmin reports whether id is an admin.
func (id Identity) IsAdmin() bool { return id.User != "" && id.Role == RoleAdmin }

// InGroup reports whether id is in group g (case-insensitive).
func (id Identity) InGroup(g string) bool {
	for _, x := range id.Groups {
		if strings.EqualFold(x, g) {
			return true
		}
	}
	return false
}

// Allowed is the gate's authorization decision for a request to an app
// with policy p, by id (the zero Identity when there is no valid app
// cookie), for the URL path urlPath.
//
//   - public apps: everyone;
//   - a path matching one of p.PublicPaths: everyone;
//   - otherwise a signed-in user is required, and for restricted apps the
//     user must be listed in p.Users or be in one of p.Groups;
//   - an unknown Access value allows nobody (fail closed).
//
// Path exceptions are matched on the cleaned path ("." and ".." segments
// resolved, duplicate slashes folded), so "/api/../admin" is "/admin" and
// does not match "/api/*". For this to mean anything the gate must pass
// the same path the upstream will act on: the decoded r.URL.Path of the
// request it forwards, after any rewrite, and the upstream must not decode
// it again. As defence in depth, paths that only a confused upstream would
// read differently — containing a backslash, a '%' (double encoding), or a
// control character — never match an exception; they need a sign-in.
//
// Patterns: "/api/*" matches "/api/" and everything below it (not "/api"
// or "/apix"); a pattern ending in "*" otherwise matches by prefix
// ("/hook*" matches "/hook" and "/hooks"); any other pattern matches that
// exact path. A "*" elsewhere has no special meaning.
func Allowed(id Identity, p registry.Policy, urlPath string) bool {
	switch p.Access {
	case registry.Public:
		return true
	case "", registry.Private, registry.Restricted:
	default:
		return false
	}
	if len(p.PublicPaths) > 0 && publicPath(p.PublicPaths, urlPath) {
		return true
	}
	if !id.SignedIn() {
		return false
	}
	if p.Access != registry.Restricted {
		return true
	}
	for _, u := range p.Users {
		if strings.EqualFold(u, id.User) {
			return true
		}
	}
	for _, g := range p.Groups {
		if id.InGroup(g) {
			return true
		}
	}
	return false
}

func publicPath(patterns []string, urlPath string) bool {
	clean, ok := CleanPath(urlPath)
	if !ok {
		return false
	}
	for _, pat := range patterns {
		if pat == "" {
			continue
		}
		if prefix, ok := strings.CutSuffix(pat, "*"); ok {
			if strings.HasPrefix(clean, prefix) {
				return true
			}
		} else if clean == pat {
			return true
		}
	}
	return false
}

// CleanPath returns the path used for policy matching: urlPath with "."
// and ".." segments resolved and duplicate slashes folded, keeping a
// trailing slash ("/api/" stays "/api/"). ok is false for paths that must
// not be matched against exceptions: not starting with '/', or containing
// a backslash, a '%' or a control character. It does not allocate for
// paths that are already clean.
func CleanPath(urlPath string) (clean string, ok bool) {
	if urlPath == "" || urlPath[0] != '/' {
		return "", false
	}
	for i := 0; i < len(urlPath); i++ {
		if c := urlPath[i]; c < 0x20 || c == 0x7f || c == '\\' || c == '%' {
			return "", false
		}
	}
	c := path.Clean(urlPath)
	if c != "/" && strings.HasSuffix(urlPath, "/") {
		c += "/"
	}
	return c, true
}

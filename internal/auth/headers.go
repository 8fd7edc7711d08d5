package auth

import (
	"net/http"
	"strings"
)

// Identity headers the gate sets on requests to apps. Apps may trust them
// because StripClientHeaders removed every client-sent copy first.
const (
	HeaderUser   = "X-Stackhub-User"
	HeaderEmail  = "X-Stackhub-Email"
	HeaderGroups = "X-Stackhub-Groups"
)

// spoofable are the header names (lower case, '-' form) a client must never
// set for an app, in any spelling.
var spoofable = []string{"x-stackhub-user", "x-stackhub-email", "x-stackhub-groups"}

// underscoreOnly are forwarding headers whose '-' spelling the reverse proxy
// replaces itself; only their '_' spelling must be removed here (some app
// servers read x_forwarded_host as the same variable).
var underscoreOnly = []string{"x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-real-ip"}

// SameHeaderName reports whether k equals want (lower case, '-' form) in
// any letter case and with '_' for '-'. It does not allocate: it runs on
// every header of every request.
func SameHeaderName(k, want string) bool {
	if len(k) != len(want) {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		} else if c == '_' {
			c = '-'
		}
		if c != want[i] {
			return false
		}
	}
	return true
}

// StripClientHeaders removes client-sent identity headers (any letter case,
// '_' for '-') and the '_' spellings of the forwarding headers.
func StripClientHeaders(h http.Header) {
	for k := range h {
		if len(k) < 9 || (k[0] != 'x' && k[0] != 'X') {
			continue
		}
		for _, w := range spoofable {
			if SameHeaderName(k, w) {
				delete(h, k)
			}
		}
		if strings.IndexByte(k, '_') >= 0 {
			for _, w := range underscoreOnly {
				if SameHeaderName(k, w) {
					delete(h, k)
				}
			}
		}
	}
}

// SetIdentityHeaders sets the identity headers of a signed-in user.
func SetIdentityHeaders(h http.Header, id Identity) {
	h[HeaderUser] = []string{id.User}
	if id.Email != "" {
		h[HeaderEmail] = []string{id.Email}
	}
	if len(id.Groups) > 0 {
		h[HeaderGroups] = []string{strings.Join(id.Groups, ",")}
	}
}

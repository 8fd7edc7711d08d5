package auth

import (
	"net/url"
	"strings"
)

// A ticket signs in only the browser that asked for it (login CSRF).
// Before sending a signed-out browser to the portal, the gate gives it a
// random nonce in a host-only cookie on the app host (__Host-, so no other
// host of the domain can set it) and puts BindingOf(nonce) in the
// fragment of the return address (ReturnWithBinding): a fragment never
// reaches the app, and the portal carries the return address through the
// sign-in unchanged. The portal binds the ticket to it (IssueTicket), and
// the callback redeems it only with the same nonce cookie (RedeemTicket).
// An attacker who takes the callback URL of their own sign-in and opens it
// in a victim's browser fails: the victim's browser holds another nonce,
// or none.

// bindFragment starts the fragment that carries a binding.
const bindFragment = "stackhub-bind="

// NewBrowserNonce returns a fresh nonce for the gate's cookie.
func NewBrowserNonce() string { return randomToken(32) }

// ValidNonce reports whether v looks like a nonce of NewBrowserNonce.
func ValidNonce(v string) bool {
	if len(v) != 43 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// BindingOf is the value a ticket is bound to for nonce: a digest, so the
// nonce itself never leaves the app host.
func BindingOf(nonce string) string { return digest("bind", nonce) }

func validBinding(b string) bool {
	if len(b) != 64 {
		return false
	}
	return strings.Trim(b, "0123456789abcdef") == ""
}

// ReturnWithBinding appends the binding of nonce to the return URL back.
func ReturnWithBinding(back, nonce string) string {
	if i := strings.IndexByte(back, '#'); i >= 0 {
		back = back[:i]
	}
	return back + "#" + bindFragment + BindingOf(nonce)
}

// ReturnBinding returns the binding carried by a return URL, "" if none.
func ReturnBinding(u *url.URL) string {
	b, ok := strings.CutPrefix(u.Fragment, bindFragment)
	if !ok || !validBinding(b) {
		return ""
	}
	return b
}

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

// HeaderRealIP is set by the gate to Caddy's resolved client address (the
// connection's address, or X-Forwarded-For only from trusted proxies).
const HeaderRealIP = "X-Real-Ip"

// spoofable are the header names (lower case, '-' form) a client must never
// set for an app, in any spelling: our identity headers, and the headers
// apps and their frameworks read as the client's address or as the "real"
// URL behind a proxy (a client could otherwise pose as a LAN address or
// make a framework route to another path than the one the gate checked).
// Caddy's reverse proxy does not touch any of them.
var spoofable = []string{
	"x-stackhub-user", "x-stackhub-email", "x-stackhub-groups", "x-stackhub-client-ip",
	"x-real-ip", "forwarded", "true-client-ip", "x-client-ip", "client-ip", "x-cluster-client-ip",
	"cf-connecting-ip", "fastly-client-ip", "x-proxyuser-ip", "x-original-forwarded-for",
	"x-original-url", "x-rewrite-url", "x-original-uri", "x-original-host", "x-host",
	"x-forwarded-port", "x-forwarded-prefix", "x-forwarded-server", "x-forwarded-ssl",
	"x-forwarded-scheme", "x-forwarded-uri", "x-url-scheme", "front-end-https",
}

// underscoreOnly are forwarding headers whose '-' spelling the reverse proxy
// replaces itself (from the connection, unless the client is a trusted
// proxy); only their '_' spelling must be removed here (some app servers
// read x_forwarded_host as the same variable).
var underscoreOnly = []string{"x-forwarded-for", "x-forwarded-host", "x-forwarded-proto"}

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

// StripClientHeaders removes client-sent identity, client-address and
// original-URL headers (any letter case, '_' for '-') and the '_'
// spellings of the forwarding headers.
func StripClientHeaders(h http.Header) {
	for k := range h {
		if len(k) < 6 { // the shortest name below, "x-host"
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

// SetClientIP sets X-Real-IP to the client address Caddy resolved, so an
// app that reads it gets a value we vouch for (StripClientHeaders removed
// the client's). An empty ip leaves the header absent.
func SetClientIP(h http.Header, ip string) {
	if ip != "" {
		h[HeaderRealIP] = []string{ip}
	}
}

// StripCookie removes the cookie called name from the request's Cookie
// headers and keeps every other cookie as sent. The gate's own cookies are
// credentials for the gate: an app (or anything it logs) never sees them.
func StripCookie(h http.Header, name string) {
	vals := h["Cookie"]
	if len(vals) == 0 {
		return
	}
	out := vals[:0]
	for _, v := range vals {
		if !strings.Contains(v, name) {
			out = append(out, v)
			continue
		}
		parts := strings.Split(v, ";")
		kept := parts[:0]
		for _, p := range parts {
			n, _, _ := strings.Cut(p, "=")
			if strings.TrimSpace(n) != name {
				kept = append(kept, p)
			}
		}
		if nv := strings.TrimSpace(strings.Join(kept, ";")); nv != "" {
			out = append(out, nv)
		}
	}
	if len(out) == 0 {
		delete(h, "Cookie")
		return
	}
	h["Cookie"] = out
}

package auth

import (
	"net/url"
	"strings"
)

// maxReturnLen bounds a return URL; real ones are far shorter, and long
// ones only serve to hide something.
const maxReturnLen = 4096

// SafeReturn validates a post-login return address (a "return" query
// parameter, a ticket's path) so the login cannot be used as an open
// redirect. It accepts only:
//
//   - a path on the current host: starting with exactly one "/", or
//   - an absolute https URL whose host (lower-cased, without port and
//     trailing dot) allowedHosts accepts, with no user info.
//
// It refuses everything else, including "//evil" and "/\evil" (browsers
// read both as another host), "\\evil", other schemes ("javascript:",
// "data:", "http:" …), "https:evil" and "https:///evil", "https://good@evil"
// and any '@' or '%' in the host part, raw spaces, control characters,
// backslashes and non-ASCII bytes (browsers normalise these differently
// from Go's parser), malformed percent-encoding, and encoded variants of
// the above ("/%2f%2fevil", "/%5cevil", "/%252f%252fevil"): the input is
// percent-decoded up to three times and every level is checked, because
// somewhere between us and the browser a layer may decode once more.
//
// The returned string is the address to redirect to: the input for a path,
// a re-serialised URL with a normalised host for an absolute one.
func SafeReturn(raw string, allowedHosts func(host string) bool) (string, bool) {
	return SafeReturnScheme(raw, "https", allowedHosts)
}

// SafeReturnScheme is SafeReturn for a platform served with another
// scheme: scheme must be "https" or "http" (plain-HTTP local setups).
func SafeReturnScheme(raw, scheme string, allowedHosts func(host string) bool) (string, bool) {
	if scheme != "https" && scheme != "http" {
		return "", false
	}
	if raw == "" || len(raw) > maxReturnLen || !printableASCII(raw) {
		return "", false
	}
	// Every decoding level must be free of control characters and
	// backslashes, and, for a path, must not turn into "//host".
	rel := raw[0] == '/'
	s := raw
	for level := 0; ; level++ {
		if strings.ContainsAny(s, "\\") || hasControl(s) || (rel && (strings.HasPrefix(s, "//") || !strings.HasPrefix(s, "/"))) {
			return "", false
		}
		d, err := url.PathUnescape(s)
		if err != nil {
			return "", false
		}
		if d == s {
			break
		}
		if level == 3 {
			return "", false // still changing after three decodings
		}
		s = d
	}
	if rel {
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || dotSlashSlash(u) {
			return "", false
		}
		return raw, true
	}
	// Absolute: "<scheme>://authority/…", authority without '@' or '%'.
	prefix := scheme + "://"
	if len(raw) <= len(prefix) || !strings.EqualFold(raw[:len(prefix)], prefix) {
		return "", false
	}
	authority := raw[len(prefix):]
	if i := strings.IndexAny(authority, "/?#"); i >= 0 {
		authority = authority[:i]
	}
	if authority == "" || strings.ContainsAny(authority, "@%") {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != scheme || u.User != nil || u.Opaque != "" || u.Host != authority || dotSlashSlash(u) {
		return "", false
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if !validHost(host) && !validHost("["+host+"]") {
		return "", false
	}
	if port := u.Port(); port != "" {
		if len(port) > 5 || strings.Trim(port, "0123456789") != "" {
			return "", false
		}
	}
	if allowedHosts == nil || !allowedHosts(host) {
		return "", false
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if p := u.Port(); p != "" {
		host += ":" + p
	}
	u.Host = host
	return u.String(), true
}

// dotSlashSlash reports whether u's path, once a browser resolved its dot
// segments, starts with "//" ("/.//evil", "/x/..//evil", "/%2e//evil",
// "https://good//evil"). The browser stays on our host, but client code
// that later redirects to location.pathname would leave it. Every
// percent-decoding level of the path is checked.
func dotSlashSlash(u *url.URL) bool {
	p := u.EscapedPath()
	for range 4 {
		if strings.HasPrefix(resolveDots(p), "//") {
			return true
		}
		d, err := url.PathUnescape(p)
		if err != nil || d == p {
			return err != nil
		}
		p = d
	}
	return true
}

// resolveDots removes dot segments the way the WHATWG URL parser does,
// including its percent-encoded forms ("%2e", ".%2E", …).
func resolveDots(p string) string {
	if !strings.HasPrefix(p, "/") {
		return p
	}
	segs := strings.Split(p[1:], "/")
	out := make([]string, 0, len(segs))
	for i, seg := range segs {
		last := i == len(segs)-1
		switch strings.ToLower(seg) {
		case ".", "%2e":
			if last {
				out = append(out, "")
			}
		case "..", ".%2e", "%2e.", "%2e%2e":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, seg)
		}
	}
	return "/" + strings.Join(out, "/")
}

// safeRelative reports whether p is a safe path on the current host.
func safeRelative(p string) bool {
	out, ok := SafeReturn(p, nil)
	return ok && out == p
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

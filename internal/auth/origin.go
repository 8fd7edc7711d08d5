package auth

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// ErrCrossSite refuses a state-changing request that a browser sent for
// another site's page.
var ErrCrossSite = &Error{"this request came from another site: use the button on StackHub's own page"}

// CrossSite reports why a request with headers h is not a same-origin
// request to origin ("https://host[:port]"), or nil when it is:
//
//   - an Origin header must be origin itself ("null" is refused too);
//   - without Origin, a Referer must be on origin (browsers that send
//     neither Origin nor Sec-Fetch-Site still send a Referer, unless a
//     policy suppresses it);
//   - Sec-Fetch-Site, when present, must be "same-origin" or "none" (the
//     user typed the address).
//
// A request with none of these headers (a command-line client) passes:
// callers that need more ask for a token as well.
func CrossSite(h http.Header, origin string) error {
	if o := h.Get("Origin"); o != "" {
		if !strings.EqualFold(o, origin) {
			return errors.New("Origin " + o + " is not " + origin)
		}
	} else if ref := h.Get("Referer"); ref != "" {
		u, err := url.Parse(ref)
		if err != nil || !strings.EqualFold(u.Scheme+"://"+u.Host, origin) {
			return errors.New("Referer " + ref + " is not on " + origin)
		}
	}
	switch sfs := h.Get("Sec-Fetch-Site"); sfs {
	case "", "same-origin", "none":
	default:
		return errors.New("Sec-Fetch-Site is " + sfs)
	}
	return nil
}

// LogoutToken is the anti-CSRF token of an app host's sign-out form for
// the app session token appToken: only a page of that host, rendered for
// that browser, knows it.
func LogoutToken(appToken string) string { return digest("logout", appToken) }

// ValidLogoutToken checks a sign-out form's token in constant time.
func ValidLogoutToken(appToken, got string) bool {
	return appToken != "" && ctEqual(LogoutToken(appToken), got)
}

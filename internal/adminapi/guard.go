package adminapi

import (
	"errors"
	"net"
	"net/http"

	"github.com/stackhub/stackhub/internal/auth"
)

// guard protects the API beyond what Caddy's admin endpoint checks.
//
// The API controls the whole box (install apps, add admins), and Caddy's
// admin endpoint has no password: its protection is where it listens. So
// a request must arrive on a loopback or unix-socket listener, or on
// Caddy's remote admin listener (admin.remote in a JSON config), which
// requires a TLS client certificate whose key the config lists: the
// explicit option and the credential. A request that reached a plain
// listener bound beyond loopback (`admin 0.0.0.0:2019`) is refused.
//
// And a browser request must come from the endpoint's own origin. Caddy
// checks Origin (or, when a browser sends Sec-Fetch-Mode, the Referer);
// a request that carries only a Referer — a browser or a fetch from
// another page that sends neither Origin nor Sec-Fetch headers — passes
// Caddy unchecked, so the Referer, when present, must name this endpoint,
// and Sec-Fetch-Site must be same-origin when sent.
func guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := listenerAllowed(r); err != nil {
			writeError(w, http.StatusForbidden, err)
			return
		}
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		// With an Origin, Caddy has checked it against the endpoint's
		// allowed origins (which may list a separate admin UI).
		if r.Header.Get("Origin") != "" {
			next.ServeHTTP(w, r)
			return
		}
		if err := auth.CrossSite(r.Header, scheme+"://"+r.Host); err != nil {
			writeError(w, http.StatusForbidden, errors.New("cross-site request refused ("+err.Error()+"): the admin API only answers the stackhub command line"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func listenerAllowed(r *http.Request) error {
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		return nil // Caddy's remote admin: a verified client certificate
	}
	switch a := r.Context().Value(http.LocalAddrContextKey).(type) {
	case *net.UnixAddr:
		return nil
	case *net.TCPAddr:
		if a.IP.IsLoopback() {
			return nil
		}
	}
	return errors.New("the StackHub admin API answers only on loopback or a unix socket, or on Caddy's remote admin endpoint with a client certificate (admin.remote): bind the admin endpoint to 127.0.0.1 or a unix socket, and reach it over SSH")
}

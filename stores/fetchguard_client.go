package stores

import (
	"errors"
	"net/http"
	"time"
)

// GuardedClient returns an http.Client that connects only where a store
// fetcher may (see fetchGuard) for fetches on behalf of the store at
// origin, the URL the admin gave for it: other code that fetches URLs a
// store names (the portal's icons) uses it, so a hostile store cannot make
// StackHub connect to its own services or the LAN. With origin "" (a store
// in a folder, the built-in store) only public addresses are allowed.
func GuardedClient(origin string, timeout time.Duration) (*http.Client, error) {
	if origin == "" {
		return (&fetchGuard{proxies: map[string]bool{}}).client(timeout), nil
	}
	g, err := newFetchGuard(origin)
	if err != nil {
		return nil, err
	}
	return g.client(timeout), nil
}

// IsForbiddenAddress reports whether err is a guarded client's refusal to
// connect to a local or private address.
func IsForbiddenAddress(err error) bool { return errors.Is(err, errForbiddenAddress) }

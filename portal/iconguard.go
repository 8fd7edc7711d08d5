// A store names its apps' icon URLs, and the portal fetches them: through
// the store fetcher's guard (stores.GuardedClient), so a hostile store
// cannot make StackHub connect to its own services (Caddy's admin API on
// loopback, cloud metadata) or to a LAN the admin did not point it at. An
// icon on the store's own origin is allowed as the store's archive is.

package portal

import (
	"net/http"
	"strings"
	"time"

	"github.com/stackhub/stackhub/stores"
)

// storeOrigin returns the URL of the store named store, or "" for a store
// in a folder (or one that is gone): its icons may come from public
// addresses only.
func (p *Portal) storeOrigin(store string) string {
	for _, s := range p.plat().Catalog.Status() {
		if s.Name == store && (strings.HasPrefix(s.Location, "http://") || strings.HasPrefix(s.Location, "https://")) {
			return s.Location
		}
	}
	return ""
}

// iconClient returns the client that fetches icons of the store at origin.
func iconClient(origin string) *http.Client {
	c, err := stores.GuardedClient(origin, 5*time.Second)
	if err != nil { // an unparsable store URL: public addresses only
		c, _ = stores.GuardedClient("", 5*time.Second)
	}
	return c
}

package stores

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A store's archive URL comes from an admin, but the server behind it —
// and every server it redirects to, and the DNS answers for their names —
// may be anybody's. StackHub fetches as root on a box whose loopback holds
// Caddy's admin endpoint (StackHub's whole API) and whose LAN holds the
// user's other devices. So the fetcher connects only where the admin
// pointed it:
//
//   - loopback, link-local (169.254.0.0/16, fe80::/10: cloud metadata),
//     unspecified and multicast addresses: only when the store URL itself
//     names such an address (127.0.0.1, [::1], localhost: a mirror on this
//     box) and only on that same host and port, never via a redirect to
//     another port or a DNS name that resolves there (DNS rebinding);
//   - private addresses (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7):
//     only when the store URL names a private address or a local name (one
//     label, or under .lan, .local, .home.arpa, .internal): a LAN mirror.
//     A public name that resolves to one (rebinding) is refused;
//   - anything else (the Internet): always.
//
// The address checked is the one actually dialed (net.Dialer.Control),
// after DNS resolution, so a name that resolves to 127.0.0.1 is caught at
// connection time. Redirects must stay on http(s); at most 10 are followed.
// A proxy from the environment (HTTPS_PROXY …) is the admin's choice and
// is dialed without these checks; it then decides where requests go.

// errForbiddenAddress is the refusal of a connection or redirect.
var errForbiddenAddress = errors.New("refused: a store may not make StackHub connect to this machine's own services or to local networks it was not pointed at")

type addrClass int

const (
	classPublic addrClass = iota
	classPrivate
	classLocal // loopback, link-local, unspecified, multicast
)

func classify(a netip.Addr) addrClass {
	a = a.Unmap()
	switch {
	case a.IsLoopback(), a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast(), a.IsUnspecified(), a.IsMulticast(), a.IsInterfaceLocalMulticast():
		return classLocal
	case a.IsPrivate(), netip.MustParsePrefix("100.64.0.0/10").Contains(a):
		return classPrivate
	}
	return classPublic
}

// fetchGuard holds the decisions of one store's fetches.
type fetchGuard struct {
	origin     string // host:port of the store URL, lower case
	originHost string
	localOK    bool // the store URL names a local address itself

	resolver *net.Resolver // nil: the system's (tests set one)

	privateOK bool // the store URL names a private address or a local name

	mu      sync.Mutex
	proxies map[string]bool // host:port of proxies from the environment
}

func newFetchGuard(rawURL string) (*fetchGuard, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	g := &fetchGuard{origin: hostPort(u), originHost: strings.ToLower(u.Hostname()), proxies: map[string]bool{}}
	if g.originHost == "localhost" {
		g.localOK = true
	} else if localName(g.originHost) {
		g.privateOK = true
	} else if a, err := netip.ParseAddr(g.originHost); err == nil {
		switch classify(a) {
		case classLocal:
			g.localOK = true
		case classPrivate:
			g.privateOK = true
		}
	}
	return g, nil
}

func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return strings.ToLower(net.JoinHostPort(u.Hostname(), port))
}

// localName reports whether host is a name only a local network resolves.
func localName(host string) bool {
	if _, err := netip.ParseAddr(host); err == nil {
		return false
	}
	if !strings.Contains(host, ".") {
		return true
	}
	for _, s := range []string{".lan", ".local", ".home.arpa", ".internal"} {
		if strings.HasSuffix(host, s) {
			return true
		}
	}
	return false
}

// allowed reports whether the fetcher may connect to ip for a request to
// target (host:port as in the URL).
func (g *fetchGuard) allowed(target string, ip netip.Addr) bool {
	switch classify(ip) {
	case classLocal:
		return g.localOK && strings.EqualFold(target, g.origin)
	case classPrivate:
		return g.privateOK
	}
	return true
}

// client returns an http.Client that enforces the guard.
func (g *fetchGuard) client(timeout time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = func(r *http.Request) (*url.URL, error) {
		p, err := http.ProxyFromEnvironment(r)
		if p != nil {
			g.mu.Lock()
			g.proxies[hostPort(p)] = true
			g.mu.Unlock()
		}
		return p, err
	}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		g.mu.Lock()
		proxy := g.proxies[strings.ToLower(addr)]
		g.mu.Unlock()
		d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Resolver: g.resolver}
		if !proxy {
			d.Control = func(_, address string, _ syscall.RawConn) error {
				ap, err := netip.ParseAddrPort(address)
				if err != nil {
					return fmt.Errorf("connect to %s: %w", address, err)
				}
				if !g.allowed(addr, ap.Addr()) {
					return fmt.Errorf("connect to %s (%s): %w", addr, ap.Addr(), errForbiddenAddress)
				}
				return nil
			}
		}
		return d.DialContext(ctx, network, addr)
	}
	return &http.Client{
		Timeout:   timeout,
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return errors.New("more than 10 redirects")
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("redirect to %s: not http(s)", req.URL.Redacted())
			}
			// A literal address is refused here already, with the
			// redirect named; names are checked when dialed.
			if a, err := netip.ParseAddr(req.URL.Hostname()); err == nil && !g.allowed(hostPort(req.URL), a) {
				return fmt.Errorf("redirect to %s: %w", req.URL.Redacted(), errForbiddenAddress)
			}
			if h := strings.ToLower(req.URL.Hostname()); (h == "localhost" || strings.HasSuffix(h, ".localhost")) && hostPort(req.URL) != g.origin {
				return fmt.Errorf("redirect to %s: %w", req.URL.Redacted(), errForbiddenAddress)
			}
			return nil
		},
	}
}

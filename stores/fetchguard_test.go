package stores

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// countingServer answers every request with a store archive and counts
// the requests that reached it.
func countingServer(t *testing.T, body []byte) (*httptest.Server, *atomic.Int64) {
	var hits atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write(body)
	}))
	t.Cleanup(ts.Close)
	return ts, &hits
}

// redirector answers every request with a redirect to target.
func redirector(t *testing.T, target func() string) *httptest.Server {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target(), http.StatusFound)
	}))
	t.Cleanup(ts.Close)
	return ts
}

// rebindingResolver is a resolver whose DNS server answers every name
// with 127.0.0.1, as an attacker's DNS would after a rebinding.
func rebindingResolver(t *testing.T) *net.Resolver {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		if q.Question[0].Qtype == dns.TypeA {
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 1}, A: net.IPv4(127, 0, 0, 1)})
		}
		w.WriteMsg(m)
	})}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", pc.LocalAddr().String())
	}}
}

// TestStoreFetchRefusesRedirectsToThisMachine: a store URL on a test
// server (loopback, allowed because the admin named it) that redirects to
// another port of this machine — as it would to the admin endpoint — by
// address, by "localhost", or by a name that resolves to 127.0.0.1: each
// is refused with a clear error and the target never sees a request.
func TestStoreFetchRefusesRedirectsToThisMachine(t *testing.T) {
	archive := makeZip(t, []entry{{name: "s/alpha/compose.yaml", body: nativeApp("Alpha", "nginx:1.27.0")}})
	target, hits := countingServer(t, archive)
	port := target.URL[strings.LastIndexByte(target.URL, ':')+1:]
	resolver := rebindingResolver(t)
	for _, to := range []string{
		target.URL + "/store.zip",
		"http://localhost:" + port + "/store.zip",
		"http://[::1]:" + port + "/store.zip",
		"http://169.254.169.254/latest/meta-data/",
		"http://0.0.0.0:" + port + "/store.zip",
		"http://rebind.example:" + port + "/store.zip",
		"file:///etc/hostname",
	} {
		origin := redirector(t, func() string { return to })
		g, err := newFetchGuard(origin.URL + "/store.zip")
		if err != nil {
			t.Fatal(err)
		}
		g.resolver = resolver
		src, _ := NewArchiveSource("evil", origin.URL+"/store.zip", FormatAuto, t.TempDir())
		src.Client = g.client(10 * time.Second)
		apps, err := src.Load(context.Background())
		if err == nil || len(apps) != 0 {
			t.Errorf("redirect to %s: %d apps, %v", to, len(apps), err)
			continue
		}
		if !errors.Is(err, errForbiddenAddress) && !strings.Contains(err.Error(), "not http(s)") {
			t.Errorf("redirect to %s: unclear error %v", to, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the redirect target was reached %d times", n)
	}
	// A name that resolves to this machine is refused as the store URL
	// itself too (rebinding of the admin's own URL).
	g, _ := newFetchGuard("http://store.example:" + port + "/store.zip")
	g.resolver = resolver
	src, _ := NewArchiveSource("rebound", "http://store.example:"+port+"/store.zip", FormatAuto, t.TempDir())
	src.Client = g.client(10 * time.Second)
	if _, err := src.Load(context.Background()); !errors.Is(err, errForbiddenAddress) || hits.Load() != 0 {
		t.Errorf("rebound store URL: %v (%d hits)", err, hits.Load())
	}
	// The store URL's own server (named by address) works, redirects on
	// it included; that is how the other tests serve their stores.
	var same *httptest.Server
	same = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/real.zip" {
			http.Redirect(w, r, same.URL+"/real.zip", http.StatusFound)
			return
		}
		w.Write(archive)
	}))
	defer same.Close()
	src, _ = NewArchiveSource("mirror", same.URL+"/store.zip", FormatAuto, t.TempDir())
	if apps, err := src.Load(context.Background()); err != nil || len(apps) != 1 {
		t.Errorf("the admin's own loopback mirror: %d apps, %v", len(apps), err)
	}
}

func TestFetchGuardAddressClasses(t *testing.T) {
	pub, _ := newFetchGuard("https://github.com/o/r/archive/main.zip")
	lan, _ := newFetchGuard("http://192.168.1.10:8080/store.zip")
	nas, _ := newFetchGuard("http://nas.lan/store.zip")
	for _, c := range []struct {
		g      *fetchGuard
		target string
		ip     string
		want   bool
	}{
		{pub, "github.com:443", "140.82.121.4", true},
		{pub, "github.com:443", "127.0.0.1", false},
		{pub, "github.com:443", "10.0.0.5", false},
		{pub, "codeload.github.com:443", "192.168.1.1", false},
		{pub, "x:443", "169.254.169.254", false},
		{pub, "x:443", "::ffff:127.0.0.1", false},
		{pub, "x:443", "fe80::1", false},
		{lan, "192.168.1.10:8080", "192.168.1.10", true},
		{lan, "nas.lan:80", "192.168.1.11", true},
		{lan, "x:2019", "127.0.0.1", false},
		{nas, "nas.lan:80", "192.168.1.11", true},
		{nas, "nas.lan:80", "127.0.0.1", false},
	} {
		if got := c.g.allowed(c.target, netip.MustParseAddr(c.ip)); got != c.want {
			t.Errorf("%s → %s (%s): %v, want %v", c.g.origin, c.target, c.ip, got, c.want)
		}
	}
}

package dns_test

import (
	"net/netip"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/stackhub/stackhub/dns"
	"github.com/stackhub/stackhub/internal/registry"
)

// registrySource is the adapter the platform uses: the registry is the one
// source of DNS answers (DESIGN.md invariant 2).
type registrySource struct{ r *registry.Registry }

func (s registrySource) Has(host string) bool {
	_, ok := s.r.Lookup(host)
	return ok
}

func (s registrySource) Version() uint64 { return s.r.Version() }

func (s registrySource) Hosts() []string {
	var out []string
	for _, e := range s.r.Entries() {
		out = append(out, e.Host)
	}
	return out
}

// Publishing and withdrawing an app in the real registry shows in the next
// answer of a running server, with no restart.
func TestRegistryChangesAreVisibleWithoutRestart(t *testing.T) {
	reg := registry.New()
	s, err := dns.New(dns.Config{
		Zone:   "home.example.com",
		Addrs:  []netip.Addr{netip.MustParseAddr("192.168.1.10")},
		Source: registrySource{reg},
	})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(t.Context()) })

	ask := func(name string, qtype uint16) *mdns.Msg {
		t.Helper()
		c := &mdns.Client{Timeout: 2 * time.Second}
		r, _, err := c.Exchange((&mdns.Msg{}).SetQuestion(name, qtype), addr)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	serial := func() uint32 { return ask("home.example.com.", mdns.TypeSOA).Answer[0].(*mdns.SOA).Serial }

	s0 := serial()
	if r := ask("vault.home.example.com.", mdns.TypeA); r.Rcode != mdns.RcodeNameError {
		t.Fatalf("before install: want NXDOMAIN:\n%v", r)
	}
	reg.Put(registry.Entry{App: "vault", Host: "vault.home.example.com", Upstream: "10.0.0.2:80"})
	if r := ask("vault.home.example.com.", mdns.TypeA); r.Rcode != mdns.RcodeSuccess || len(r.Answer) != 1 {
		t.Fatalf("after install: want the box's address:\n%v", r)
	}
	s1 := serial()
	if s1 == s0 {
		t.Fatal("SOA serial did not move with the registry")
	}
	listed := false
	for _, rec := range s.Records() {
		if rec.Name == "vault.home.example.com." && rec.Type == "A" {
			listed = true
		}
	}
	if !listed {
		t.Fatalf("Records() does not list the app: %v", s.Records())
	}
	reg.DeleteApp("vault")
	if r := ask("vault.home.example.com.", mdns.TypeA); r.Rcode != mdns.RcodeNameError {
		t.Fatalf("after removal: want NXDOMAIN:\n%v", r)
	}
	if serial() == s1 {
		t.Fatal("SOA serial did not move on removal")
	}
}

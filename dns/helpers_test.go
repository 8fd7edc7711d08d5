package dns

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

const testZone = "home.example.com."

var (
	boxV4 = netip.MustParseAddr("192.168.1.10")
	boxV6 = netip.MustParseAddr("fd00::10")
)

// bigTXT is about 2 KB of TXT: more than any UDP answer we send.
var bigTXT = func() string {
	var parts []string
	for i := range 10 {
		parts = append(parts, `"`+strings.Repeat(string(rune('a'+i)), 200)+`"`)
	}
	return "big TXT " + strings.Join(parts, " ")
}()

// mediumTXT is about 700 bytes: too big for 512, fine for EDNS 1232.
var mediumTXT = `medium TXT "` + strings.Repeat("m", 230) + `" "` + strings.Repeat("n", 230) + `" "` + strings.Repeat("o", 230) + `"`

func testConfig(src RecordSource) Config {
	return Config{
		Zone:   "Home.Example.Com",
		Addrs:  []netip.Addr{boxV4, boxV6},
		Source: src,
		Extra: []string{
			`@ CAA 0 issue "letsencrypt.org"`,
			`@ TXT "v=spf1 -all"`,
			`nas 120 A 192.168.1.20`,
			bigTXT,
			mediumTXT,
		},
	}
}

func newServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// startServer starts s on loopback and stops it when the test ends.
func startServer(t testing.TB, s *Server) string {
	t.Helper()
	addr, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return addr
}

type queryOpt struct {
	edns    uint16 // 0: no OPT record
	do      bool
	version uint8
}

func exchange(t testing.TB, addr, network, name string, qtype uint16, o queryOpt) *mdns.Msg {
	t.Helper()
	m := &mdns.Msg{}
	m.SetQuestion(name, qtype)
	if o.edns > 0 {
		m.SetEdns0(o.edns, o.do)
		m.IsEdns0().SetVersion(o.version)
	}
	c := &mdns.Client{Net: network, Timeout: 3 * time.Second}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s %s %s: %v", network, name, mdns.TypeToString[qtype], err)
	}
	if r.Id != m.Id {
		t.Fatalf("id %d, want %d", r.Id, m.Id)
	}
	return r
}

func rrStrings(rrs []mdns.RR) []string {
	var out []string
	for _, rr := range rrs {
		out = append(out, rr.String())
	}
	return out
}

package dns

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"
)

var (
	insider  = netip.MustParseAddrPort("192.168.1.50:40000")
	outsider = netip.MustParseAddrPort("203.0.113.5:40000")
)

// fuzzServer has every kind of name: fixed, extra, ACME (with an empty
// non-terminal), app hosts. It does not forward: the fuzzer must not touch
// the network.
func fuzzServer(t testing.TB) *Server {
	cfg := testConfig(NewHostSet("vault.home.example.com", "wiki.home.example.com"))
	cfg.PublicZone = true
	cfg.ACME = NewACMEStore()
	if err := cfg.ACME.Append("_acme-challenge.home.example.com", "one", "two"); err != nil {
		t.Fatal(err)
	}
	if err := cfg.ACME.Append("_acme-challenge.deep.sub.home.example.com", "three"); err != nil {
		t.Fatal(err)
	}
	return newServer(t, cfg)
}

// seedPackets are real queries of every shape the server meets, for the
// committed seed corpus and the path-agreement test.
func seedPackets() map[string][]byte {
	seeds := map[string][]byte{}
	add := func(name string, m *mdns.Msg) {
		p, err := m.Pack()
		if err != nil {
			panic(fmt.Sprintf("%s: %v", name, err))
		}
		seeds[name] = p
	}
	q := func(name string, qtype uint16) *mdns.Msg {
		m := (&mdns.Msg{}).SetQuestion(name, qtype)
		m.Id = 0x1234
		return m
	}
	add("apex-a", q("home.example.com.", mdns.TypeA))
	add("my-aaaa", q("my.home.example.com.", mdns.TypeAAAA))
	add("app-mixed-case", q("VaUlT.Home.Example.Com.", mdns.TypeA))
	add("nxdomain", q("nope.home.example.com.", mdns.TypeA))
	add("nodata", q("vault.home.example.com.", mdns.TypeMX))
	add("ns", q("home.example.com.", mdns.TypeNS))
	add("soa", q("home.example.com.", mdns.TypeSOA))
	add("caa", q("home.example.com.", mdns.TypeCAA))
	add("acme-txt", q("_acme-challenge.home.example.com.", mdns.TypeTXT))
	add("ent", q("sub.home.example.com.", mdns.TypeA))
	add("any", q("home.example.com.", mdns.TypeANY))
	add("axfr", q("home.example.com.", mdns.TypeAXFR))
	add("other-zone", q("example.org.", mdns.TypeA))
	add("root", q(".", mdns.TypeNS))
	big := q("big.home.example.com.", mdns.TypeTXT)
	big.SetEdns0(4096, true)
	add("big-txt-edns-do", big)
	v1 := q("home.example.com.", mdns.TypeA)
	v1.SetEdns0(1232, false)
	v1.IsEdns0().SetVersion(1)
	add("edns-version-1", v1)
	cookie := q("my.home.example.com.", mdns.TypeA)
	cookie.SetEdns0(1232, false)
	cookie.IsEdns0().Option = append(cookie.IsEdns0().Option, &mdns.EDNS0_COOKIE{Code: mdns.EDNS0COOKIE, Cookie: "0123456789abcdef"})
	add("edns-cookie", cookie)
	chaos := q("version.bind.", mdns.TypeTXT)
	chaos.Question[0].Qclass = mdns.ClassCHAOS
	add("chaos", chaos)
	two := q("home.example.com.", mdns.TypeA)
	two.Question = append(two.Question, two.Question[0])
	add("two-questions", two)
	notify := (&mdns.Msg{}).SetNotify("home.example.com.")
	notify.Id = 0x1234 // fixed, so the corpus is reproducible
	add("notify", notify)
	resp := q("home.example.com.", mdns.TypeA)
	resp.Response = true
	add("response", resp)
	escaped := q(`we\.ird.home.example.com.`, mdns.TypeA)
	add("escaped-dot", escaped)

	// A question name that is a compression pointer to itself: a loop.
	loop := []byte{0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1}
	seeds["pointer-loop"] = loop
	short := seeds["apex-a"]
	seeds["truncated"] = short[:len(short)-3]
	seeds["header-only"] = short[:headerLen]
	return seeds
}

// TestWriteFuzzSeedCorpus regenerates testdata/fuzz/FuzzHandler when
// STACKHUB_DNS_WRITE_CORPUS=1; otherwise it checks the committed corpus
// still holds every seed.
func TestWriteFuzzSeedCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzHandler")
	for name, p := range seedPackets() {
		file := filepath.Join(dir, "seed-"+name)
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", p)
		if os.Getenv("STACKHUB_DNS_WRITE_CORPUS") == "1" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(file)
		if err != nil || string(got) != want {
			t.Errorf("seed %s missing or stale (regenerate with STACKHUB_DNS_WRITE_CORPUS=1): %v", name, err)
		}
	}
}

// FuzzHandler feeds arbitrary bytes to the handler as a UDP and a TCP
// packet from an allowed and a foreign client. The server must not panic,
// every answer must unpack and keep the query's ID, UDP answers must fit
// the client's size, and whenever the wire path answers, the message path
// must give the same answer.
func FuzzHandler(f *testing.F) {
	for _, p := range seedPackets() {
		f.Add(p)
	}
	s := fuzzServer(f)
	out := make([]byte, mdns.MaxMsgSize)
	f.Fuzz(func(t *testing.T, pkt []byte) {
		for _, remote := range []netip.AddrPort{insider, outsider} {
			for _, udp := range []bool{true, false} {
				n := s.handle(pkt, out, remote, udp)
				if n == 0 {
					continue
				}
				resp := &mdns.Msg{}
				if err := resp.Unpack(out[:n]); err != nil {
					t.Fatalf("our answer does not unpack: %v\n%x", err, out[:n])
				}
				if !resp.Response || resp.Id != binary.BigEndian.Uint16(pkt) {
					t.Fatalf("answer is not a response to this query: %v", resp)
				}
				if udp {
					if limit := queryUDPLimit(pkt, s.set.maxUDP); n > limit {
						t.Fatalf("UDP answer of %d bytes, client takes %d", n, limit)
					}
				}
				checkPathsAgree(t, s, pkt, remote, udp)
			}
		}
	})
}

func queryUDPLimit(pkt []byte, max uint16) int {
	r := &mdns.Msg{}
	if r.Unpack(pkt) != nil {
		return mdns.MinMsgSize
	}
	if opt := r.IsEdns0(); opt != nil {
		return udpLimit(true, opt.UDPSize(), max)
	}
	return mdns.MinMsgSize
}

// checkPathsAgree compares the wire path's answer, if it gives one, with
// the message path's answer to the same packet.
func checkPathsAgree(t testing.TB, s *Server, pkt []byte, remote netip.AddrPort, udp bool) {
	t.Helper()
	allowed := s.Allowed(remote.Addr())
	wire := make([]byte, mdns.MaxMsgSize)
	n := s.answerWire(pkt, wire, allowed, udp)
	if n == 0 {
		return
	}
	fast := &mdns.Msg{}
	if err := fast.Unpack(wire[:n]); err != nil {
		t.Fatalf("wire answer does not unpack: %v", err)
	}
	req := &mdns.Msg{}
	if err := req.Unpack(pkt); err != nil {
		t.Fatalf("wire path answered a packet miekg/dns rejects (%v):\n%x", err, pkt)
	}
	m := s.reply(context.Background(), req, allowed, udp)
	if m == nil {
		t.Fatalf("wire path answered, message path would not")
	}
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	slow := &mdns.Msg{}
	if err := slow.Unpack(b); err != nil {
		t.Fatal(err)
	}
	if fast.String() != slow.String() {
		t.Fatalf("paths disagree for\n%v\nwire:\n%v\nmessage:\n%v", req, fast, slow)
	}
}

// TestWirePathMatchesMessagePath runs the agreement check over every seed
// and a grid of names, types, EDNS settings and clients.
func TestWirePathMatchesMessagePath(t *testing.T) {
	s := fuzzServer(t)
	names := []string{
		"home.example.com.", "HOME.example.com.", "my.home.example.com.", "ns1.home.example.com.",
		"vault.home.example.com.", "Wiki.Home.Example.Com.", "nas.home.example.com.", "nope.home.example.com.",
		"x.vault.home.example.com.", "_acme-challenge.home.example.com.", "sub.home.example.com.",
		"deep.sub.home.example.com.", "_acme-challenge.deep.sub.home.example.com.", "medium.home.example.com.",
		"big.home.example.com.", "example.org.", ".",
	}
	types := []uint16{mdns.TypeA, mdns.TypeAAAA, mdns.TypeNS, mdns.TypeSOA, mdns.TypeTXT, mdns.TypeCAA, mdns.TypeMX, mdns.TypeDS}
	answered := 0
	for _, name := range names {
		for _, qtype := range types {
			for _, edns := range []uint16{0, 512, 1232, 4096} {
				m := (&mdns.Msg{}).SetQuestion(name, qtype)
				m.CheckingDisabled = qtype == mdns.TypeDS
				if edns > 0 {
					m.SetEdns0(edns, qtype == mdns.TypeA)
				}
				p, err := m.Pack()
				if err != nil {
					t.Fatal(err)
				}
				for _, remote := range []netip.AddrPort{insider, outsider} {
					for _, udp := range []bool{true, false} {
						if s.answerWire(p, make([]byte, mdns.MaxMsgSize), s.Allowed(remote.Addr()), udp) > 0 {
							answered++
						}
						checkPathsAgree(t, s, p, remote, udp)
					}
				}
			}
		}
	}
	for name, p := range seedPackets() {
		t.Run(name, func(t *testing.T) {
			for _, remote := range []netip.AddrPort{insider, outsider} {
				checkPathsAgree(t, s, p, remote, true)
				checkPathsAgree(t, s, p, remote, false)
			}
		})
	}
	if answered == 0 || !strings.Contains(s.Zone(), "example") {
		t.Fatal("the wire path answered nothing")
	}
}

package dns

import (
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

func TestZoneAnswers(t *testing.T) {
	hosts := NewHostSet("vault.home.example.com", "nextcloud.home.example.com")
	s := newServer(t, testConfig(hosts))
	addr := startServer(t, s)

	type want struct {
		rcode  int
		answer []string // RR strings, in any order
		extra  []string
		soaNS  bool // SOA in authority (negative answers)
	}
	a := func(name, typ, val string, ttl string) string {
		return name + "\t" + ttl + "\tIN\t" + typ + "\t" + val
	}
	cases := []struct {
		name  string
		qtype uint16
		want  want
	}{
		{"home.example.com.", mdns.TypeA, want{answer: []string{a("home.example.com.", "A", "192.168.1.10", "60")}}},
		{"home.example.com.", mdns.TypeAAAA, want{answer: []string{a("home.example.com.", "AAAA", "fd00::10", "60")}}},
		{"my.home.example.com.", mdns.TypeA, want{answer: []string{a("my.home.example.com.", "A", "192.168.1.10", "60")}}},
		{"my.home.example.com.", mdns.TypeAAAA, want{answer: []string{a("my.home.example.com.", "AAAA", "fd00::10", "60")}}},
		{"vault.home.example.com.", mdns.TypeA, want{answer: []string{a("vault.home.example.com.", "A", "192.168.1.10", "60")}}},
		{"nextcloud.home.example.com.", mdns.TypeAAAA, want{answer: []string{a("nextcloud.home.example.com.", "AAAA", "fd00::10", "60")}}},
		{"VaUlT.HoMe.ExAmPlE.CoM.", mdns.TypeA, want{answer: []string{a("VaUlT.HoMe.ExAmPlE.CoM.", "A", "192.168.1.10", "60")}}},
		{"MY.home.example.COM.", mdns.TypeA, want{answer: []string{a("MY.home.example.COM.", "A", "192.168.1.10", "60")}}},
		{"nas.home.example.com.", mdns.TypeA, want{answer: []string{a("nas.home.example.com.", "A", "192.168.1.20", "120")}}},
		{"ns1.home.example.com.", mdns.TypeA, want{answer: []string{a("ns1.home.example.com.", "A", "192.168.1.10", "60")}}},
		{"home.example.com.", mdns.TypeNS, want{
			answer: []string{a("home.example.com.", "NS", "ns1.home.example.com.", "60")},
			extra:  []string{a("ns1.home.example.com.", "A", "192.168.1.10", "60"), a("ns1.home.example.com.", "AAAA", "fd00::10", "60")},
		}},
		{"home.example.com.", mdns.TypeTXT, want{answer: []string{a("home.example.com.", "TXT", `"v=spf1 -all"`, "60")}}},
		{"home.example.com.", mdns.TypeCAA, want{answer: []string{a("home.example.com.", "CAA", `0 issue "letsencrypt.org"`, "60")}}},
		// Unknown name: NXDOMAIN; known name, other type: NODATA.
		{"nope.home.example.com.", mdns.TypeA, want{rcode: mdns.RcodeNameError, soaNS: true}},
		{"x.vault.home.example.com.", mdns.TypeA, want{rcode: mdns.RcodeNameError, soaNS: true}},
		{"vault.home.example.com.", mdns.TypeTXT, want{soaNS: true}},
		{"vault.home.example.com.", mdns.TypeMX, want{soaNS: true}},
		{"my.home.example.com.", mdns.TypeCAA, want{soaNS: true}},
		{"home.example.com.", mdns.TypeMX, want{soaNS: true}},
		// RFC 8482: ANY gets one synthesised HINFO.
		{"home.example.com.", mdns.TypeANY, want{answer: []string{a("home.example.com.", "HINFO", `"RFC8482" ""`, "60")}}},
	}
	for _, network := range []string{"udp", "tcp"} {
		for _, tc := range cases {
			t.Run(network+"/"+tc.name+"/"+mdns.TypeToString[tc.qtype], func(t *testing.T) {
				r := exchange(t, addr, network, tc.name, tc.qtype, queryOpt{})
				if r.Rcode != tc.want.rcode {
					t.Fatalf("rcode %s, want %s\n%v", mdns.RcodeToString[r.Rcode], mdns.RcodeToString[tc.want.rcode], r)
				}
				if !r.Authoritative {
					t.Errorf("AA bit not set")
				}
				if r.RecursionAvailable {
					t.Errorf("RA set without forwarding")
				}
				if r.Question[0].Name != tc.name {
					t.Errorf("question %q, want the client's spelling %q", r.Question[0].Name, tc.name)
				}
				if got := rrStrings(r.Answer); !sameSet(got, tc.want.answer) {
					t.Errorf("answer\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want.answer, "\n"))
				}
				if got := rrStrings(r.Extra); !sameSet(got, tc.want.extra) {
					t.Errorf("additional\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want.extra, "\n"))
				}
				if tc.want.soaNS {
					if len(r.Ns) != 1 {
						t.Fatalf("authority %v, want the SOA", r.Ns)
					}
					soa, ok := r.Ns[0].(*mdns.SOA)
					if !ok || soa.Hdr.Name != testZone || soa.Minttl != 60 {
						t.Errorf("authority %v, want the zone's SOA", r.Ns[0])
					}
				} else if len(r.Ns) != 0 {
					t.Errorf("authority %v, want none", r.Ns)
				}
			})
		}
	}
}

func TestSOA(t *testing.T) {
	hosts := NewHostSet()
	s := newServer(t, Config{Zone: "home.example.com", Addrs: []netip.Addr{boxV4}, Source: hosts, Hostmaster: "first.last@example.com"})
	addr := startServer(t, s)
	r := exchange(t, addr, "udp", "Home.Example.Com.", mdns.TypeSOA, queryOpt{})
	if r.Rcode != mdns.RcodeSuccess || len(r.Answer) != 1 || !r.Authoritative {
		t.Fatalf("SOA answer:\n%v", r)
	}
	soa := r.Answer[0].(*mdns.SOA)
	if soa.Hdr.Name != "Home.Example.Com." || soa.Ns != "ns1.home.example.com." || soa.Mbox != `first\.last.example.com.` {
		t.Fatalf("SOA %v", soa)
	}
	before := soa.Serial
	hosts.Add("vault.home.example.com")
	soa = exchange(t, addr, "tcp", "home.example.com.", mdns.TypeSOA, queryOpt{}).Answer[0].(*mdns.SOA)
	if soa.Serial == before {
		t.Fatalf("serial stayed %d after the source changed", before)
	}
}

func TestWrongZoneRefusedWithoutForwarding(t *testing.T) {
	s := newServer(t, testConfig(nil))
	addr := startServer(t, s)
	for _, network := range []string{"udp", "tcp"} {
		for _, name := range []string{"example.org.", "example.com.", "xhome.example.com.", "."} {
			r := exchange(t, addr, network, name, mdns.TypeA, queryOpt{edns: 1232})
			if r.Rcode != mdns.RcodeRefused || r.Authoritative || len(r.Answer) != 0 {
				t.Errorf("%s %s: want REFUSED without AA, got\n%v", network, name, r)
			}
		}
	}
}

func TestTruncationThenTCP(t *testing.T) {
	s := newServer(t, testConfig(nil))
	addr := startServer(t, s)
	for _, o := range []queryOpt{{}, {edns: 4096}} {
		r := exchange(t, addr, "udp", "big.home.example.com.", mdns.TypeTXT, o)
		if !r.Truncated {
			t.Fatalf("edns %d: a 2 KB answer over UDP must set TC:\n%v", o.edns, r)
		}
		if r.Rcode != mdns.RcodeSuccess || !r.Authoritative {
			t.Fatalf("truncated answer rcode %s", mdns.RcodeToString[r.Rcode])
		}
		if o.edns > 0 && r.IsEdns0() == nil {
			t.Fatalf("truncated EDNS answer lost its OPT record")
		}
		full := exchange(t, addr, "tcp", "big.home.example.com.", mdns.TypeTXT, o)
		if full.Truncated || len(full.Answer) != 1 || len(full.Answer[0].(*mdns.TXT).Txt) != 10 {
			t.Fatalf("TCP retry: TC=%v, want the whole 10-string TXT:\n%v", full.Truncated, full)
		}
	}
	// The same through miekg's client, which retries by itself only if
	// asked; check the explicit sequence a stub resolver performs.
	c := &mdns.Client{Net: "udp", Timeout: 2 * time.Second}
	m := (&mdns.Msg{}).SetQuestion("BIG.home.example.com.", mdns.TypeTXT)
	r, _, err := c.Exchange(m, addr)
	if err != nil || !r.Truncated {
		t.Fatalf("udp: %v, %v", r, err)
	}
	c.Net = "tcp"
	if r, _, err = c.Exchange(m, addr); err != nil || r.Truncated || len(r.Answer) != 1 || r.Answer[0].Header().Name != "BIG.home.example.com." {
		t.Fatalf("tcp: %v, %v", r, err)
	}
}

func TestEDNS(t *testing.T) {
	s := newServer(t, testConfig(nil))
	addr := startServer(t, s)
	const name = "medium.home.example.com."

	// No EDNS: 512 bytes, so the 700-byte answer is truncated.
	if r := exchange(t, addr, "udp", name, mdns.TypeTXT, queryOpt{}); !r.Truncated || r.IsEdns0() != nil {
		t.Fatalf("no EDNS: want TC and no OPT:\n%v", r)
	}
	// The client's size is honoured both ways.
	if r := exchange(t, addr, "udp", name, mdns.TypeTXT, queryOpt{edns: 600}); !r.Truncated {
		t.Fatalf("EDNS 600: want TC:\n%v", r)
	}
	r := exchange(t, addr, "udp", name, mdns.TypeTXT, queryOpt{edns: 1232, do: true})
	if r.Truncated || len(r.Answer) != 1 {
		t.Fatalf("EDNS 1232: want the whole answer:\n%v", r)
	}
	opt := r.IsEdns0()
	if opt == nil || opt.UDPSize() != 1232 || !opt.Do() || opt.Version() != 0 {
		t.Fatalf("OPT not echoed as expected: %v", opt)
	}
	// Small answers through the wire path echo OPT too.
	r = exchange(t, addr, "udp", "home.example.com.", mdns.TypeA, queryOpt{edns: 4096})
	if opt := r.IsEdns0(); opt == nil || opt.UDPSize() != 1232 || opt.Do() {
		t.Fatalf("OPT on a small answer: %v", opt)
	}
	// Unknown EDNS version: BADVERS (RFC 6891 §6.1.3).
	r = exchange(t, addr, "udp", "home.example.com.", mdns.TypeA, queryOpt{edns: 1232, version: 1})
	if r.Rcode != mdns.RcodeBadVers || len(r.Answer) != 0 || r.IsEdns0() == nil {
		t.Fatalf("EDNS version 1: want BADVERS:\n%v", r)
	}
}

func TestACMEChallenges(t *testing.T) {
	acme := NewACMEStore()
	hosts := NewHostSet("vault.home.example.com")
	cfg := testConfig(hosts)
	cfg.ACME = acme
	s := newServer(t, cfg)
	addr := startServer(t, s)
	txt := func(name string) (int, []string) {
		r := exchange(t, addr, "udp", name, mdns.TypeTXT, queryOpt{edns: 1232})
		var vals []string
		for _, rr := range r.Answer {
			vals = append(vals, rr.(*mdns.TXT).Txt...)
		}
		slices.Sort(vals)
		return r.Rcode, vals
	}

	apex := "_acme-challenge.home.example.com."
	if rc, _ := txt(apex); rc != mdns.RcodeNameError {
		t.Fatalf("before append: %s, want NXDOMAIN", mdns.RcodeToString[rc])
	}
	// Wildcard and apex ordered together: two values at one name.
	if err := acme.Append("_ACME-challenge.home.example.com", "wildcard-token", "apex-token"); err != nil {
		t.Fatal(err)
	}
	if err := acme.Append("_acme-challenge.vault.home.example.com.", "vault-token"); err != nil {
		t.Fatal(err)
	}
	if rc, vals := txt(apex); rc != mdns.RcodeSuccess || !slices.Equal(vals, []string{"apex-token", "wildcard-token"}) {
		t.Fatalf("after append: %s %v", mdns.RcodeToString[rc], vals)
	}
	if _, vals := txt("_acme-challenge.VAULT.home.example.com."); !slices.Equal(vals, []string{"vault-token"}) {
		t.Fatalf("vault challenge: %v", vals)
	}
	// The app host under the challenge name still resolves.
	if r := exchange(t, addr, "udp", "vault.home.example.com.", mdns.TypeA, queryOpt{}); len(r.Answer) != 1 {
		t.Fatalf("vault A next to its challenge:\n%v", r)
	}
	// A challenge for a host not (yet) published makes that host an empty
	// non-terminal: NODATA, not NXDOMAIN.
	if err := acme.Append("_acme-challenge.new.home.example.com", "new-token"); err != nil {
		t.Fatal(err)
	}
	if r := exchange(t, addr, "udp", "new.home.example.com.", mdns.TypeA, queryOpt{}); r.Rcode != mdns.RcodeSuccess || len(r.Answer) != 0 || len(r.Ns) != 1 {
		t.Fatalf("empty non-terminal: want NODATA:\n%v", r)
	}

	if n, err := acme.Delete(apex, "wildcard-token"); err != nil || n != 1 {
		t.Fatalf("delete: %d, %v", n, err)
	}
	if _, vals := txt(apex); !slices.Equal(vals, []string{"apex-token"}) {
		t.Fatalf("after delete of one: %v", vals)
	}
	if _, err := acme.Delete(apex); err != nil {
		t.Fatal(err)
	}
	if rc, _ := txt(apex); rc != mdns.RcodeNameError {
		t.Fatalf("after delete of all: %s, want NXDOMAIN", mdns.RcodeToString[rc])
	}

	// Only challenge names are accepted, and only this zone's are served.
	if err := acme.Append("www.home.example.com", "x"); err == nil {
		t.Fatal("append of a non-challenge name accepted")
	}
	if err := acme.Append("_acme-challenge.other.org", "elsewhere"); err != nil {
		t.Fatal(err)
	}
	if r := exchange(t, addr, "udp", "_acme-challenge.other.org.", mdns.TypeTXT, queryOpt{}); r.Rcode != mdns.RcodeRefused {
		t.Fatalf("other zone's challenge: %s, want REFUSED", mdns.RcodeToString[r.Rcode])
	}
}

func TestACMEStoreRefcountAndLimits(t *testing.T) {
	var a ACMEStore // the zero value works
	n := "_acme-challenge.example.com"
	if err := a.Append(n, "v"); err != nil {
		t.Fatal(err)
	}
	if err := a.Append(n, "v"); err != nil {
		t.Fatal(err)
	}
	if removed, _ := a.Delete(n, "v"); removed != 0 || len(a.Values(n)) != 1 {
		t.Fatalf("one of two appends deleted: removed %d, values %v", removed, a.Values(n))
	}
	if removed, _ := a.Delete(n, "v"); removed != 1 || len(a.Values(n)) != 0 {
		t.Fatalf("second delete: removed %d, values %v", removed, a.Values(n))
	}
	if err := a.Append(n, strings.Repeat("x", 256)); err == nil {
		t.Fatal("256-byte TXT string accepted")
	}
	if err := a.Append(n, ""); err == nil {
		t.Fatal("empty value accepted")
	}
	if _, err := a.Delete("bad name"); err == nil {
		t.Fatal("delete with a bad name accepted")
	}
	for i := range maxACMEValues {
		if err := a.Append(n, strings.Repeat("v", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Append(n, "one-too-many"); err == nil {
		t.Fatal("more than the per-name limit accepted")
	}
}

func TestAllowList(t *testing.T) {
	s := newServer(t, testConfig(nil))
	for addr, want := range map[string]bool{
		"127.0.0.1":          true,
		"::1":                true,
		"10.1.2.3":           true,
		"172.16.0.1":         true,
		"172.31.255.255":     true,
		"192.168.1.5":        true,
		"::ffff:192.168.1.5": true,
		"169.254.1.1":        true,
		"fe80::1%eth0":       true,
		"fd12:3456::1":       true,
		"8.8.8.8":            false,
		"172.32.0.1":         false,
		"100.64.0.1":         false,
		"203.0.113.5":        false,
		"2001:db8::1":        false,
		"::ffff:8.8.8.8":     false,
	} {
		if got := s.Allowed(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Allowed(%s) = %v, want %v", addr, got, want)
		}
	}
	custom := newServer(t, Config{Zone: "z.test", Addrs: []netip.Addr{boxV4}, Allow: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}})
	if !custom.Allowed(netip.MustParseAddr("203.0.113.5")) || custom.Allowed(netip.MustParseAddr("127.0.0.1")) {
		t.Fatal("a configured allow list replaces the default")
	}
}

// Tests only have loopback, so a foreign client is simulated at the
// handler: the same code the UDP and TCP loops run, with the client's
// address as it would arrive.
func TestNonAllowedClient(t *testing.T) {
	upstream, _ := startUpstream(t)
	outsider := netip.MustParseAddrPort("203.0.113.5:5353")
	ask := func(s *Server, name string, udp bool) *mdns.Msg {
		t.Helper()
		q := (&mdns.Msg{}).SetQuestion(name, mdns.TypeA)
		q.SetEdns0(1232, false)
		p, err := q.Pack()
		if err != nil {
			t.Fatal(err)
		}
		out := make([]byte, mdns.MaxMsgSize)
		n := s.handle(p, out, outsider, udp)
		r := &mdns.Msg{}
		if err := r.Unpack(out[:n]); err != nil {
			t.Fatalf("unpack response: %v", err)
		}
		return r
	}

	cfg := testConfig(NewHostSet("vault.home.example.com"))
	cfg.Forward = []string{upstream}
	private := newServer(t, cfg)
	for _, udp := range []bool{true, false} {
		for _, name := range []string{"home.example.com.", "vault.home.example.com.", "example.org."} {
			if r := ask(private, name, udp); r.Rcode != mdns.RcodeRefused || len(r.Answer) != 0 || r.RecursionAvailable {
				t.Errorf("private zone, outsider asks %s: want REFUSED:\n%v", name, r)
			}
		}
	}

	cfg.PublicZone = true
	public := newServer(t, cfg)
	if r := ask(public, "vault.home.example.com.", true); r.Rcode != mdns.RcodeSuccess || len(r.Answer) != 1 || r.RecursionAvailable {
		t.Errorf("public zone: outsider should get the zone's answer without RA:\n%v", r)
	}
	if r := ask(public, "nope.home.example.com.", true); r.Rcode != mdns.RcodeNameError {
		t.Errorf("public zone: want NXDOMAIN:\n%v", r)
	}
	// Never an open resolver, even with forwarding configured.
	if r := ask(public, "example.org.", true); r.Rcode != mdns.RcodeRefused || len(r.Answer) != 0 {
		t.Errorf("public zone: outsider must not get forwarding:\n%v", r)
	}
}

func TestMalformedPackets(t *testing.T) {
	s := newServer(t, testConfig(nil))
	addr := startServer(t, s)
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	read := func() []byte {
		_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		buf := make([]byte, 2048)
		n, err := c.Read(buf)
		if err != nil {
			return nil
		}
		return buf[:n]
	}
	// Too short for a header: dropped.
	_, _ = c.Write([]byte{1, 2, 3})
	if b := read(); b != nil {
		t.Fatalf("answer to a 3-byte packet: %x", b)
	}
	// A header claiming a question that is not there: FORMERR.
	_, _ = c.Write([]byte{0xAB, 0xCD, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 7, 'e'})
	b := read()
	r := &mdns.Msg{}
	if b == nil || r.Unpack(b) != nil || r.Id != 0xABCD || r.Rcode != mdns.RcodeFormatError || !r.Response {
		t.Fatalf("want FORMERR, got %x (%v)", b, r)
	}
	// A response sent to us: never answered (no loops, no reflection).
	resp := (&mdns.Msg{}).SetQuestion("home.example.com.", mdns.TypeA)
	resp.Response = true
	p, _ := resp.Pack()
	_, _ = c.Write(p)
	if b := read(); b != nil {
		t.Fatalf("answer to a response: %x", b)
	}
	// Two questions: FORMERR.
	two := (&mdns.Msg{}).SetQuestion("home.example.com.", mdns.TypeA)
	two.Question = append(two.Question, mdns.Question{Name: "my.home.example.com.", Qtype: mdns.TypeA, Qclass: mdns.ClassINET})
	p, _ = two.Pack()
	_, _ = c.Write(p)
	if b := read(); b == nil || r.Unpack(b) != nil || r.Rcode != mdns.RcodeFormatError {
		t.Fatalf("two questions: want FORMERR, got %v", r)
	}
	// Another opcode: NOTIMP.
	notify := (&mdns.Msg{}).SetNotify("home.example.com.")
	p, _ = notify.Pack()
	_, _ = c.Write(p)
	if b := read(); b == nil || r.Unpack(b) != nil || r.Rcode != mdns.RcodeNotImplemented {
		t.Fatalf("NOTIFY: want NOTIMP, got %v", r)
	}
	// Zone transfers are refused over TCP.
	if r := exchange(t, addr, "tcp", "home.example.com.", mdns.TypeAXFR, queryOpt{}); r.Rcode != mdns.RcodeRefused {
		t.Fatalf("AXFR: want REFUSED, got\n%v", r)
	}
	// After all that the server still answers, over both transports.
	for _, network := range []string{"udp", "tcp"} {
		if r := exchange(t, addr, network, "home.example.com.", mdns.TypeA, queryOpt{}); len(r.Answer) != 1 {
			t.Fatalf("%s after garbage: %v", network, r)
		}
	}
	// TCP garbage closes that connection only.
	tc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = tc.Write([]byte{0, 3, 1, 2, 3})
	_ = tc.SetReadDeadline(time.Now().Add(2 * time.Second))
	if n, err := tc.Read(make([]byte, 10)); err == nil {
		t.Fatalf("TCP: %d bytes in reply to a 3-byte message", n)
	}
	tc.Close()
}

func TestRecordsListing(t *testing.T) {
	acme := NewACMEStore()
	cfg := testConfig(NewHostSet("vault.home.example.com", "wiki.home.example.com"))
	cfg.ACME = acme
	cfg.Extra = cfg.Extra[:3]
	s := newServer(t, cfg)
	if err := acme.Append("_acme-challenge.home.example.com", "tok"); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, r := range s.Records() {
		lines = append(lines, r.String())
	}
	got := strings.Join(lines, "\n")
	for _, want := range []string{
		"home.example.com.\t60\tIN\tA\t192.168.1.10",
		"home.example.com.\t60\tIN\tNS\tns1.home.example.com.",
		"home.example.com.\t60\tIN\tCAA\t0 issue \"letsencrypt.org\"",
		"_acme-challenge.home.example.com.\t60\tIN\tTXT\t\"tok\"",
		"my.home.example.com.\t60\tIN\tAAAA\tfd00::10",
		"nas.home.example.com.\t120\tIN\tA\t192.168.1.20",
		"vault.home.example.com.\t60\tIN\tA\t192.168.1.10",
		"wiki.home.example.com.\t60\tIN\tAAAA\tfd00::10",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Records() lacks %q; got\n%s", want, got)
		}
	}
	if !strings.HasPrefix(lines[0], "home.example.com.\t60\tIN\tSOA\tns1.home.example.com. hostmaster.home.example.com. ") {
		t.Errorf("first record %q, want the SOA", lines[0])
	}
}

func TestConfigErrors(t *testing.T) {
	base := func() Config { return Config{Zone: "home.example.com", Addrs: []netip.Addr{boxV4}} }
	for name, mutate := range map[string]func(*Config){
		"no zone":          func(c *Config) { c.Zone = "" },
		"root zone":        func(c *Config) { c.Zone = "." },
		"bad zone":         func(c *Config) { c.Zone = "a..b" },
		"no address":       func(c *Config) { c.Addrs = nil },
		"unspecified addr": func(c *Config) { c.Addrs = []netip.Addr{netip.IPv4Unspecified()} },
		"extra outside":    func(c *Config) { c.Extra = []string{"www.example.org. A 1.2.3.4"} },
		"extra SOA":        func(c *Config) { c.Extra = []string{"@ SOA a. b. 1 2 3 4 5"} },
		"extra CNAME":      func(c *Config) { c.Extra = []string{"x CNAME y"} },
		"extra garbage":    func(c *Config) { c.Extra = []string{"x WHAT 1"} },
		"extra two":        func(c *Config) { c.Extra = []string{"x A 1.2.3.4\ny A 1.2.3.5"} },
		"upstream name":    func(c *Config) { c.Forward = []string{"dns.quad9.net"} },
		"bad prefix":       func(c *Config) { c.Allow = []netip.Prefix{{}} },
	} {
		c := base()
		mutate(&c)
		if _, err := New(c); err == nil {
			t.Errorf("%s: New accepted %+v", name, c)
		} else if !strings.HasPrefix(err.Error(), "dns: ") {
			t.Errorf("%s: error %q lacks context", name, err)
		}
	}
	if _, err := New(base()); err != nil {
		t.Fatalf("minimal config: %v", err)
	}
}

func TestShutdown(t *testing.T) {
	s := newServer(t, testConfig(nil))
	addr, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	exchange(t, addr, "tcp", "home.example.com.", mdns.TypeA, queryOpt{})
	// An idle TCP connection must not hold Shutdown up.
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	time.Sleep(50 * time.Millisecond)
	if err := s.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if err := s.ServeUDP(pc); err != ErrServerClosed {
		t.Fatalf("ServeUDP after Shutdown: %v", err)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

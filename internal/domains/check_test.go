package domains

import (
	"context"
	"net"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"
)

// stub serves records (name → "CNAME target" or an IPv4 address) on
// loopback UDP and TCP and returns its address.
func stub(t *testing.T, records map[string]string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	h := mdns.HandlerFunc(func(w mdns.ResponseWriter, r *mdns.Msg) {
		m := new(mdns.Msg)
		m.SetReply(r)
		m.Authoritative = true
		for _, q := range r.Question {
			name := q.Name
			for range 5 {
				v, ok := records[strings.TrimSuffix(strings.ToLower(name), ".")]
				if !ok {
					if len(m.Answer) == 0 {
						m.Rcode = mdns.RcodeNameError
					}
					break
				}
				hdr := mdns.RR_Header{Name: name, Class: mdns.ClassINET, Ttl: 60}
				if target, ok := strings.CutPrefix(v, "CNAME "); ok {
					hdr.Rrtype = mdns.TypeCNAME
					m.Answer = append(m.Answer, &mdns.CNAME{Hdr: hdr, Target: mdns.Fqdn(target)})
					name = mdns.Fqdn(target)
					continue
				}
				if q.Qtype == mdns.TypeA {
					hdr.Rrtype = mdns.TypeA
					m.Answer = append(m.Answer, &mdns.A{Hdr: hdr, A: net.ParseIP(v)})
				}
				break
			}
		}
		w.WriteMsg(m)
	})
	udp := &mdns.Server{PacketConn: pc, Handler: h}
	tcp := &mdns.Server{Listener: ln, Handler: h}
	go udp.ActivateAndServe()
	go tcp.ActivateAndServe()
	t.Cleanup(func() { udp.Shutdown(); tcp.Shutdown() })
	return pc.LocalAddr().String()
}

func TestCheck(t *testing.T) {
	r := Resolver(stub(t, map[string]string{
		"alpha.home.example.com": "192.0.2.10",
		"photos.example.org":     "CNAME alpha.home.example.com",
		"pics.example.org":       "192.0.2.10",
		"example.net":            "192.0.2.10",
		"wrong.example.org":      "203.0.113.7",
		"elsewhere.example.org":  "CNAME cdn.example.com",
		"cdn.example.com":        "198.51.100.1",
	}))
	for _, c := range []struct {
		name     string
		ok, apex bool
		record   string
		explain  []string
	}{
		{"photos.example.org", true, false, "photos.example.org. CNAME alpha.home.example.com.", []string{"points at", "CNAME alpha.home.example.com"}},
		{"pics.example.org", true, false, "pics.example.org. CNAME alpha.home.example.com.", []string{"192.0.2.10"}},
		{"example.net", true, true, "example.net. A 192.0.2.10", nil},
		{"wrong.example.org", false, false, "wrong.example.org. CNAME alpha.home.example.com.", []string{"does not point", "203.0.113.7", "192.0.2.10", "--force"}},
		{"elsewhere.example.org", false, false, "elsewhere.example.org. CNAME alpha.home.example.com.", []string{"CNAME cdn.example.com", "198.51.100.1"}},
		{"missing.example.org", false, false, "missing.example.org. CNAME alpha.home.example.com.", []string{"does not exist"}},
	} {
		res := Check(context.Background(), r, c.name, "alpha.home.example.com", "home.example.com")
		if res.OK != c.ok || res.Apex != c.apex || res.Record != c.record {
			t.Errorf("%s: ok %v apex %v record %q, want %v %v %q (%+v)", c.name, res.OK, res.Apex, res.Record, c.ok, c.apex, c.record, res)
		}
		for _, w := range c.explain {
			if !strings.Contains(res.Explain(), w) {
				t.Errorf("%s: explanation lacks %q:\n%s", c.name, w, res.Explain())
			}
		}
	}
}

// Package stubdns is a DNS server for tests of custom domains: the public
// DNS as StackHub's domain check sees it (internal/domains), on loopback.
package stubdns

import (
	"net"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"
)

// Serve answers records (name → "CNAME target" or an IPv4 address) over
// UDP and TCP on loopback until the test ends, and returns its address
// ("127.0.0.1:port", a platform.Config.Resolver). The name "*" stands
// for every name without a record of its own ({"*": "127.0.0.1"} points
// all names at loopback, as ACME tests need); without it other names do
// not exist (NXDOMAIN).
func Serve(t testing.TB, records map[string]string) string {
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
			for range 5 { // follow CNAMEs a few steps
				v, ok := records[strings.TrimSuffix(strings.ToLower(name), ".")]
				if !ok {
					v, ok = records["*"]
				}
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

package dns

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"strings"

	mdns "github.com/miekg/dns"
)

// ServeDNS implements miekg/dns's Handler: it is the message path of the
// chain (gate → zone → forward), used for every query the wire path does
// not take. The client's address for the allow list comes from
// w.RemoteAddr; a *net.UDPAddr means the response is bounded by the
// client's UDP size and truncated (TC bit) if it does not fit.
func (s *Server) ServeDNS(w mdns.ResponseWriter, r *mdns.Msg) {
	remote := addrOf(w.RemoteAddr())
	_, udp := w.RemoteAddr().(*net.UDPAddr)
	m := s.reply(s.ctx, r, s.Allowed(remote.Addr()), udp)
	if m == nil {
		return
	}
	if err := w.WriteMsg(m); err != nil {
		s.log.Debug("dns: write response", "client", remote, "error", err)
	}
}

// reply builds the response to r, or nil when r must not be answered (it
// is itself a response: answering those would make loops and reflection).
func (s *Server) reply(ctx context.Context, r *mdns.Msg, allowed, udp bool) *mdns.Msg {
	if r.Response {
		return nil
	}
	m := &mdns.Msg{}
	m.Id = r.Id
	m.Response = true
	m.Opcode = r.Opcode
	m.RecursionDesired = r.RecursionDesired
	m.CheckingDisabled = r.CheckingDisabled
	if len(r.Question) > 0 {
		m.Question = r.Question[:1]
	}

	opt, optCount := r.IsEdns0(), 0
	for _, rr := range r.Extra {
		if rr.Header().Rrtype == mdns.TypeOPT {
			optCount++
		}
	}

	switch {
	case r.Opcode != mdns.OpcodeQuery:
		m.Rcode = mdns.RcodeNotImplemented
	case len(r.Question) != 1 || optCount > 1:
		m.Rcode = mdns.RcodeFormatError
	case opt != nil && opt.Version() != 0:
		m.Rcode = mdns.RcodeBadVers
	default:
		s.chain(ctx, r, m, opt, allowed)
	}

	if opt != nil {
		m.SetEdns0(s.set.maxUDP, opt.Do())
	}
	if udp {
		size := uint16(0)
		if opt != nil {
			size = opt.UDPSize()
		}
		m.Truncate(udpLimit(opt != nil, size, s.set.maxUDP))
	} else {
		m.Compress = true
	}
	return m
}

// chain runs gate → zone → forward for a well-formed query.
func (s *Server) chain(ctx context.Context, r, m *mdns.Msg, opt *mdns.OPT, allowed bool) {
	q := r.Question[0]
	lname := strings.ToLower(q.Name)
	inZone := q.Qclass == mdns.ClassINET && mdns.IsSubDomain(s.set.zone, lname)
	switch {
	case !allowed && !(inZone && s.set.public):
		m.Rcode = mdns.RcodeRefused
		return
	case inZone:
		s.answerZone(m, q, lname)
	case q.Qclass == mdns.ClassINET && s.fwd != nil:
		s.fwd.forward(ctx, q, opt != nil && opt.Do(), m)
	default:
		m.Rcode = mdns.RcodeRefused
		return
	}
	m.RecursionAvailable = allowed && s.fwd != nil
}

// answerZone is the zone step: an authoritative answer from the snapshot.
func (s *Server) answerZone(m *mdns.Msg, q mdns.Question, lname string) {
	switch q.Qtype {
	case mdns.TypeAXFR, mdns.TypeIXFR:
		// No zone transfers: the zone is the registry, not a file.
		m.Rcode = mdns.RcodeRefused
		return
	case mdns.TypeMAILA, mdns.TypeMAILB, mdns.TypeOPT:
		m.Rcode = mdns.RcodeNotImplemented
		return
	}
	m.Authoritative = true
	sn := s.current()
	if q.Qtype == mdns.TypeANY {
		// RFC 8482: a minimal answer, so ANY cannot amplify.
		if _, rcode := sn.resolve([]byte(lname), mdns.TypeA, s.src); rcode != mdns.RcodeSuccess {
			m.Rcode = rcode
			m.Ns = []mdns.RR{sn.soa}
			return
		}
		m.Answer = []mdns.RR{&mdns.HINFO{
			Hdr: mdns.RR_Header{Name: q.Name, Rrtype: mdns.TypeHINFO, Class: mdns.ClassINET, Ttl: s.set.ttl},
			Cpu: "RFC8482",
		}}
		return
	}
	set, rcode := sn.resolve([]byte(lname), q.Qtype, s.src)
	m.Rcode = rcode
	if set == nil {
		m.Ns = []mdns.RR{sn.soa}
		return
	}
	m.Answer = make([]mdns.RR, len(set.answer))
	for i, rr := range set.answer {
		c := mdns.Copy(rr)
		c.Header().Name = q.Name // answer in the question's case
		m.Answer[i] = c
	}
	m.Extra = append(m.Extra, set.extra...)
}

// formErr is the reply to a packet miekg/dns cannot unpack: a bare header
// with FORMERR, when the header at least is readable and is a query.
// Anything less is dropped, since there is no one sure to answer.
func formErr(p, out []byte) int {
	if len(p) < headerLen || len(out) < headerLen {
		return 0
	}
	flags := binary.BigEndian.Uint16(p[2:])
	if flags&flagQR != 0 {
		return 0
	}
	copy(out[0:2], p[0:2])
	binary.BigEndian.PutUint16(out[2:], flagQR|flags&(opcodeMask|flagRD|flagCD)|mdns.RcodeFormatError)
	clear(out[4:headerLen])
	return headerLen
}

// addrOf extracts the address of a net.Addr without a lookup.
func addrOf(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.AddrPort()
	case *net.TCPAddr:
		return a.AddrPort()
	}
	if a == nil {
		return netip.AddrPort{}
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

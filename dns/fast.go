package dns

import (
	"encoding/binary"

	mdns "github.com/miekg/dns"
)

const (
	headerLen = 12
	optLen    = 11 // root owner, type, class (size), TTL, empty RDATA
)

// wireQuery is what the wire path needs from a query. It lives on the
// stack: the name buffer is the longest possible presentation of a name
// made of the plain characters the wire path accepts.
type wireQuery struct {
	flags   uint16
	qEnd    int // end of the question section
	qtype   uint16
	edns    bool
	do      bool
	udpSize uint16
	nameLen int
	name    [255]byte // lower-case presentation form with the trailing dot
}

// nameChar maps the bytes the wire path accepts in a label (letters,
// digits, '-' and '_') to their lower case, and every other byte to 0.
var nameChar = func() (t [256]byte) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = byte(c)
		t[c-'a'+'A'] = byte(c)
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c)
	}
	t['-'], t['_'] = '-', '_'
	return t
}()

// parseQuery reads a plain query: one question with an uncompressed name of
// letters, digits, '-' and '_', class IN, and at most an OPT record of
// EDNS version 0. Anything else returns false and goes the message path,
// which knows every corner of the protocol.
func parseQuery(p []byte, q *wireQuery) bool {
	if len(p) < headerLen+5 {
		return false
	}
	q.flags = binary.BigEndian.Uint16(p[2:])
	if q.flags&(flagQR|opcodeMask|flagTC) != 0 {
		return false
	}
	if binary.BigEndian.Uint16(p[4:]) != 1 || binary.BigEndian.Uint16(p[6:]) != 0 || binary.BigEndian.Uint16(p[8:]) != 0 {
		return false
	}
	ar := binary.BigEndian.Uint16(p[10:])
	if ar > 1 {
		return false
	}
	off := headerLen
	n := 0
	for {
		if off >= len(p) {
			return false
		}
		l := int(p[off])
		off++
		if l == 0 {
			break
		}
		if l > 63 || off+l > len(p) || n+l+1 > len(q.name) || off-headerLen+l > 254 {
			return false // pointers, extended labels, overlong names
		}
		for _, c := range p[off : off+l] {
			lc := nameChar[c]
			if lc == 0 {
				return false
			}
			q.name[n] = lc
			n++
		}
		q.name[n] = '.'
		n++
		off += l
	}
	if n == 0 {
		q.name[0] = '.'
		n = 1
	}
	q.nameLen = n
	if off+4 > len(p) {
		return false
	}
	q.qtype = binary.BigEndian.Uint16(p[off:])
	if binary.BigEndian.Uint16(p[off+2:]) != mdns.ClassINET {
		return false
	}
	off += 4
	q.qEnd = off
	q.edns = false
	q.do = false
	if ar == 1 {
		// The OPT pseudo-record: root owner, type 41, class = UDP size,
		// TTL = extended rcode, version, flags; then options.
		if off+optLen > len(p) || p[off] != 0 || binary.BigEndian.Uint16(p[off+1:]) != mdns.TypeOPT {
			return false
		}
		if p[off+6] != 0 { // EDNS version: only 0 exists; others get BADVERS on the message path
			return false
		}
		q.udpSize = binary.BigEndian.Uint16(p[off+3:])
		q.do = p[off+7]&0x80 != 0
		rdlen := int(binary.BigEndian.Uint16(p[off+9:]))
		off += optLen
		if off+rdlen != len(p) {
			return false
		}
		// Options are ignored (RFC 6891 §6.1.2), but must be well formed
		// so the two paths agree on what a valid query is.
		for o := off; o < len(p); {
			if o+4 > len(p) {
				return false
			}
			o += 4 + int(binary.BigEndian.Uint16(p[o+2:]))
			if o > len(p) {
				return false
			}
		}
		q.edns = true
		off = len(p)
	}
	return off == len(p)
}

// inZone reports whether a lower-case FQDN is the zone or below it. The
// wire path's names hold no escaped dots, so a suffix test is exact.
func (s *Server) inZone(name []byte) bool {
	z := s.set.zone
	if len(name) < len(z) || string(name[len(name)-len(z):]) != z {
		return false
	}
	return len(name) == len(z) || name[len(name)-len(z)-1] == '.'
}

// refused is the template for queries we will not serve.
var refused = &tmpl{flags: flagQR | mdns.RcodeRefused}

// answerWire answers p into out on the wire path and returns the response
// length, or 0 when the message path must take the query. It does not
// allocate for fixed names; an app host costs one small string for
// RecordSource.Has.
func (s *Server) answerWire(p, out []byte, allowed, udp bool) int {
	var q wireQuery
	if !parseQuery(p, &q) {
		return 0
	}
	name := q.name[:q.nameLen]
	inZone := s.inZone(name)
	if !allowed && !(inZone && s.set.public) {
		return s.writeTmpl(p, out, &q, refused, udp, false)
	}
	if !inZone {
		if s.fwd != nil {
			return 0
		}
		return s.writeTmpl(p, out, &q, refused, udp, false)
	}
	switch q.qtype {
	case mdns.TypeANY, mdns.TypeAXFR, mdns.TypeIXFR, mdns.TypeMAILA, mdns.TypeMAILB, mdns.TypeOPT:
		return 0
	}
	sn := s.current()
	set, rcode := sn.resolve(name, q.qtype, s.src)
	t := sn.nxdomain
	switch {
	case set != nil:
		t = set.wire
	case rcode == mdns.RcodeSuccess:
		t = sn.nodata
	}
	return s.writeTmpl(p, out, &q, t, udp, allowed && s.fwd != nil)
}

// writeTmpl assembles ID + flags + counts + the query's own question + the
// template body + our OPT. It returns 0 when the result would not fit, so
// the message path can truncate properly.
func (s *Server) writeTmpl(p, out []byte, q *wireQuery, t *tmpl, udp, ra bool) int {
	size := q.qEnd + len(t.body)
	if q.edns {
		size += optLen
	}
	limit := mdns.MaxMsgSize
	if udp {
		limit = udpLimit(q.edns, q.udpSize, s.set.maxUDP)
	}
	if size > limit || size > len(out) {
		return 0
	}
	flags := t.flags | q.flags&(flagRD|flagCD)
	if ra {
		flags |= flagRA
	}
	ar := t.ar
	if q.edns {
		ar++
	}
	copy(out[0:2], p[0:2])
	binary.BigEndian.PutUint16(out[2:], flags)
	binary.BigEndian.PutUint16(out[4:], 1)
	binary.BigEndian.PutUint16(out[6:], t.an)
	binary.BigEndian.PutUint16(out[8:], t.ns)
	binary.BigEndian.PutUint16(out[10:], ar)
	n := headerLen
	n += copy(out[n:], p[headerLen:q.qEnd])
	n += copy(out[n:], t.body)
	if q.edns {
		o := out[n : n+optLen]
		o[0] = 0
		binary.BigEndian.PutUint16(o[1:], mdns.TypeOPT)
		binary.BigEndian.PutUint16(o[3:], s.set.maxUDP)
		o[5], o[6], o[7], o[8] = 0, 0, 0, 0
		if q.do {
			o[7] = 0x80
		}
		o[9], o[10] = 0, 0
		n += optLen
	}
	return n
}

// udpLimit is the largest UDP response a client can take: 512 without
// EDNS, else its advertised size, clamped to [512, our maximum].
func udpLimit(edns bool, size, max uint16) int {
	if !edns || size < mdns.MinMsgSize {
		return mdns.MinMsgSize
	}
	if size > max {
		return int(max)
	}
	return int(size)
}

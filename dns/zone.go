package dns

import (
	"fmt"
	"sort"
	"strings"

	mdns "github.com/miekg/dns"
)

// Header flag bits, as laid out in the second 16-bit word of a message.
const (
	flagQR = 1 << 15
	flagAA = 1 << 10
	flagTC = 1 << 9
	flagRD = 1 << 8
	flagRA = 1 << 7
	flagAD = 1 << 5
	flagCD = 1 << 4

	opcodeMask = 0xF << 11
)

// tmpl is a prebuilt response minus the parts that come from the query:
// the ID, the RD and CD bits, the question and the OPT record. Every answer
// record's owner is the question name, written as a compression pointer to
// offset 12, so one template serves every spelling (and, for app hosts,
// every name) of the question.
type tmpl struct {
	flags      uint16 // QR, AA and the rcode
	an, ns, ar uint16
	body       []byte // answer, authority and additional sections
}

// rrset is one type at one name, in both forms: records for the message
// path and a template for the wire path.
type rrset struct {
	qtype  uint16
	answer []mdns.RR // owner is the canonical name; callers rewrite it to the question's
	extra  []mdns.RR // additional section (glue for NS)
	wire   *tmpl
}

// node is a name of the zone with the types it holds. A node with no sets
// is an empty non-terminal (a parent of a deeper name): NODATA, not
// NXDOMAIN.
type node struct {
	sets []*rrset // few per name, so a slice beats a map
}

func (n *node) get(qtype uint16) *rrset {
	if n == nil {
		return nil
	}
	for _, s := range n.sets {
		if s.qtype == qtype {
			return s
		}
	}
	return nil
}

// snapshot is everything the zone answers, immutable once built. It is
// rebuilt when the record source's or the ACME store's version moves, which
// is rare, so queries only ever load a pointer.
type snapshot struct {
	srcVer, acmeVer uint64
	serial          uint32
	soa             *mdns.SOA
	static          map[string]*node // lower-case FQDN → fixed names, extras, ACME names and their parents
	app             *node            // what every source host answers (owner ".")
	nodata          *tmpl
	nxdomain        *tmpl
}

// resolve is the zone's one lookup, shared by the wire and message paths so
// they cannot disagree. name is a lower-case FQDN inside the zone. It returns
// the matching set, or nil with NOERROR for NODATA and NXDOMAIN for a name
// that does not exist. Fixed names win over source hosts for the types they
// hold; a source host also answers types its fixed node lacks (an ACME name
// below an app makes the app's name a fixed empty node, yet it must still
// resolve).
func (sn *snapshot) resolve(name []byte, qtype uint16, src RecordSource) (*rrset, int) {
	st := sn.static[string(name)] // no allocation: map index of a converted []byte
	if set := st.get(qtype); set != nil {
		return set, mdns.RcodeSuccess
	}
	if src != nil && len(name) > 1 && src.Has(string(name[:len(name)-1])) {
		return sn.app.get(qtype), mdns.RcodeSuccess
	}
	if st != nil {
		return nil, mdns.RcodeSuccess
	}
	return nil, mdns.RcodeNameError
}

// build makes the snapshot for the given source version and ACME records.
func (s *Server) build(srcVer, acmeVer uint64, acme map[string][]string) (*snapshot, error) {
	st := s.set
	sn := &snapshot{
		srcVer:  srcVer,
		acmeVer: acmeVer,
		// The base is the start time, so the serial keeps growing across
		// restarts as long as fewer changes happen than seconds pass.
		serial: s.serialBase + uint32(srcVer) + uint32(acmeVer),
		static: map[string]*node{},
	}
	sn.soa = &mdns.SOA{
		Hdr:     mdns.RR_Header{Name: st.zone, Rrtype: mdns.TypeSOA, Class: mdns.ClassINET, Ttl: st.ttl},
		Ns:      st.ns[0],
		Mbox:    st.hostmaster,
		Serial:  sn.serial,
		Refresh: 3600,
		Retry:   600,
		Expire:  604800,
		Minttl:  st.ttl,
	}

	// Collect records per name and type first, then freeze them.
	recs := map[string]map[uint16][]mdns.RR{}
	add := func(rr mdns.RR) {
		name := rr.Header().Name
		if recs[name] == nil {
			recs[name] = map[uint16][]mdns.RR{}
		}
		t := rr.Header().Rrtype
		recs[name][t] = append(recs[name][t], rr)
	}
	boxRecords := func(name string) []mdns.RR {
		var out []mdns.RR
		for _, a := range st.v4 {
			out = append(out, &mdns.A{
				Hdr: mdns.RR_Header{Name: name, Rrtype: mdns.TypeA, Class: mdns.ClassINET, Ttl: st.ttl},
				A:   a.AsSlice(),
			})
		}
		for _, a := range st.v6 {
			out = append(out, &mdns.AAAA{
				Hdr:  mdns.RR_Header{Name: name, Rrtype: mdns.TypeAAAA, Class: mdns.ClassINET, Ttl: st.ttl},
				AAAA: a.AsSlice(),
			})
		}
		return out
	}

	add(sn.soa)
	for _, ns := range st.ns {
		add(&mdns.NS{Hdr: mdns.RR_Header{Name: st.zone, Rrtype: mdns.TypeNS, Class: mdns.ClassINET, Ttl: st.ttl}, Ns: ns})
	}
	boxNames := []string{st.zone, "my." + st.zone}
	for _, ns := range st.ns {
		if mdns.IsSubDomain(st.zone, ns) {
			boxNames = append(boxNames, ns)
		}
	}
	seen := map[string]bool{}
	for _, n := range boxNames {
		if !seen[n] {
			seen[n] = true
			for _, rr := range boxRecords(n) {
				add(rr)
			}
		}
	}
	for _, rr := range st.extra {
		add(mdns.Copy(rr))
	}
	for name, vals := range acme {
		if !mdns.IsSubDomain(st.zone, name) {
			continue // another server's zone
		}
		for _, v := range vals {
			add(&mdns.TXT{Hdr: mdns.RR_Header{Name: name, Rrtype: mdns.TypeTXT, Class: mdns.ClassINET, Ttl: st.ttl}, Txt: []string{v}})
		}
	}

	// Glue: the in-zone name servers' addresses, sent with NS answers.
	var glue []mdns.RR
	for _, ns := range st.ns {
		for _, t := range []uint16{mdns.TypeA, mdns.TypeAAAA} {
			glue = append(glue, recs[ns][t]...)
		}
	}

	for name, types := range recs {
		n := &node{}
		for t, rrs := range types {
			set := &rrset{qtype: t, answer: rrs}
			if t == mdns.TypeNS {
				set.extra = glue
			}
			w, err := buildTmpl(mdns.RcodeSuccess, rrs, nil, set.extra)
			if err != nil {
				return nil, fmt.Errorf("dns: zone %s: %s %s: %w", st.zone, name, mdns.TypeToString[t], err)
			}
			set.wire = w
			n.sets = append(n.sets, set)
		}
		sort.Slice(n.sets, func(i, j int) bool { return n.sets[i].qtype < n.sets[j].qtype })
		sn.static[name] = n
	}
	// Empty non-terminals between each name and the apex.
	for name := range recs {
		for p := parentName(name); p != "" && mdns.IsSubDomain(st.zone, p); p = parentName(p) {
			if sn.static[p] == nil {
				sn.static[p] = &node{}
			}
		}
	}

	sn.app = &node{}
	for _, rr := range boxRecords(".") {
		t := rr.Header().Rrtype
		set := sn.app.get(t)
		if set == nil {
			set = &rrset{qtype: t}
			sn.app.sets = append(sn.app.sets, set)
		}
		set.answer = append(set.answer, rr)
	}
	for _, set := range sn.app.sets {
		w, err := buildTmpl(mdns.RcodeSuccess, set.answer, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("dns: zone %s: app records: %w", st.zone, err)
		}
		set.wire = w
	}

	var err error
	if sn.nodata, err = buildTmpl(mdns.RcodeSuccess, nil, []mdns.RR{sn.soa}, nil); err != nil {
		return nil, fmt.Errorf("dns: zone %s: NODATA template: %w", st.zone, err)
	}
	if sn.nxdomain, err = buildTmpl(mdns.RcodeNameError, nil, []mdns.RR{sn.soa}, nil); err != nil {
		return nil, fmt.Errorf("dns: zone %s: NXDOMAIN template: %w", st.zone, err)
	}
	return sn, nil
}

// parentName strips the first label of an FQDN; "" above the root.
func parentName(name string) string {
	i, end := mdns.NextLabel(name, 0)
	if end || i >= len(name) {
		return ""
	}
	return name[i:]
}

// buildTmpl packs sections into a template. Answer owners are written as a
// pointer to the question; everything else is uncompressed, so the bytes do
// not depend on where the question ends.
func buildTmpl(rcode int, answer, ns, extra []mdns.RR) (*tmpl, error) {
	t := &tmpl{
		flags: flagQR | flagAA | uint16(rcode&0xF),
		an:    uint16(len(answer)),
		ns:    uint16(len(ns)),
		ar:    uint16(len(extra)),
	}
	scratch := make([]byte, mdns.MaxMsgSize)
	var err error
	for _, rr := range answer {
		if t.body, err = appendRR(t.body, rr, true, scratch); err != nil {
			return nil, err
		}
	}
	for _, rrs := range [][]mdns.RR{ns, extra} {
		for _, rr := range rrs {
			if t.body, err = appendRR(t.body, rr, false, scratch); err != nil {
				return nil, err
			}
		}
	}
	return t, nil
}

func appendRR(b []byte, rr mdns.RR, ownerIsQuestion bool, scratch []byte) ([]byte, error) {
	if ownerIsQuestion {
		rr = mdns.Copy(rr)
		rr.Header().Name = "." // one zero byte, replaced by the pointer below
	}
	off, err := mdns.PackRR(rr, scratch, 0, nil, false)
	if err != nil {
		return nil, fmt.Errorf("pack %s: %w", strings.ReplaceAll(rr.String(), "\t", " "), err)
	}
	if ownerIsQuestion {
		b = append(b, 0xC0, 12)
		return append(b, scratch[1:off]...), nil
	}
	return append(b, scratch[:off]...), nil
}

package dns

import (
	"sort"
	"strconv"
	"strings"

	mdns "github.com/miekg/dns"
)

// Record is one record the zone answers, for listings such as
// `stackhub dns records`.
type Record struct {
	Name  string `json:"name"` // FQDN with the trailing dot
	Type  string `json:"type"`
	TTL   uint32 `json:"ttl"`
	Value string `json:"value"` // RDATA in zone-file form
}

// String formats r as a zone-file line.
func (r Record) String() string {
	return r.Name + "\t" + strconv.FormatUint(uint64(r.TTL), 10) + "\tIN\t" + r.Type + "\t" + r.Value
}

// Records lists what the zone answers right now: SOA, NS, the fixed
// names, extra records, ACME challenges and — if the source implements
// [HostLister] — every app host. Sorted by name (apex first), then type.
func (s *Server) Records() []Record {
	sn := s.current()
	var out []Record
	addRR := func(rr mdns.RR, owner string) {
		h := rr.Header()
		out = append(out, Record{
			Name:  owner,
			Type:  mdns.TypeToString[h.Rrtype],
			TTL:   h.Ttl,
			Value: strings.TrimPrefix(rr.String(), h.String()),
		})
	}
	for name, n := range sn.static {
		for _, set := range n.sets {
			for _, rr := range set.answer {
				addRR(rr, name)
			}
		}
	}
	if l, ok := s.src.(HostLister); ok {
		for _, h := range l.Hosts() {
			name := strings.ToLower(mdns.Fqdn(h))
			if !mdns.IsSubDomain(s.set.zone, name) {
				continue
			}
			for _, set := range sn.app.sets {
				if sn.static[name].get(set.qtype) != nil {
					continue // a fixed record of that type wins, as in resolve
				}
				for _, rr := range set.answer {
					addRR(rr, name)
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Name != b.Name {
			return nameLess(a.Name, b.Name)
		}
		if ta, tb := typeOrder(a.Type), typeOrder(b.Type); ta != tb {
			return ta < tb
		}
		return a.Value < b.Value
	})
	return out
}

// typeOrder puts SOA first, as in a zone file, then types by number.
func typeOrder(t string) int {
	if t == "SOA" {
		return -1
	}
	return int(mdns.StringToType[t])
}

// nameLess orders names the DNS way: compared label by label from the
// right, so the apex comes first and each name sits under its parent.
func nameLess(a, b string) bool {
	la, lb := mdns.SplitDomainName(a), mdns.SplitDomainName(b)
	for i, j := len(la)-1, len(lb)-1; i >= 0 && j >= 0; i, j = i-1, j-1 {
		if la[i] != lb[j] {
			return la[i] < lb[j]
		}
	}
	return len(la) < len(lb)
}

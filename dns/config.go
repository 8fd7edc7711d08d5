package dns

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
)

// Config configures a [Server]. Only Zone and Addrs are required.
type Config struct {
	// Zone is the base domain served authoritatively, e.g.
	// "home.example.com" (case and a trailing dot do not matter).
	Zone string

	// Addrs are the box's addresses: IPv4 ones are answered as A records
	// and IPv6 ones as AAAA records for the apex, my.<zone>, every app host
	// and in-zone name server hosts. At least one is required.
	Addrs []netip.Addr

	// Source says which app hosts exist; nil means none (only the fixed
	// names answer). It is read on every query, so hosts appear and
	// disappear with no restart.
	Source RecordSource

	// ACME holds the _acme-challenge TXT records. Nil makes a private
	// store (see [Server.ACME]); pass a shared one so pending challenges
	// survive a config reload that rebuilds the server.
	ACME *ACMEStore

	// NS are the zone's name server host names. The default is
	// ns1.<zone>, which is then answered with Addrs (glue). Names outside
	// the zone get no glue.
	NS []string

	// Hostmaster is the SOA contact, as a domain name
	// ("hostmaster.example.com") or an address ("admin@example.com").
	// The default is hostmaster.<zone>.
	Hostmaster string

	// TTL is used for every answer of the zone and as the SOA minimum
	// (the negative-caching TTL). Short, because apps come and go. The
	// default is 60 seconds.
	TTL uint32

	// Extra are additional static records in zone-file syntax, relative
	// names taken relative to the zone: `@ CAA 0 issue "letsencrypt.org"`,
	// `@ TXT "v=spf1 -all"`, `nas A 192.168.1.20`. Owners must be inside
	// the zone; SOA, NS, CNAME and DNAME are not accepted because the zone
	// owns those.
	Extra []string

	// Allow lists the client networks that get answers and forwarding.
	// Nil means [DefaultAllow]; an empty non-nil slice allows no one.
	Allow []netip.Prefix

	// PublicZone answers the zone (never forwarding) to clients outside
	// Allow. It must be on when the domain is delegated to the box, since
	// ACME validators and public resolvers then query it directly.
	PublicZone bool

	// Forward lists upstream resolvers ("9.9.9.9", "[2620:fe::fe]:53")
	// for names outside the zone, tried in order. Empty means no
	// forwarding: such names are REFUSED.
	Forward []string

	// ForwardTimeout bounds each upstream exchange; default 2 s.
	ForwardTimeout time.Duration

	// CacheSize bounds the forward cache in entries; 0 means the default
	// (10,000) and a negative value disables the cache.
	CacheSize int

	// MaxUDPSize caps UDP responses (and is advertised in our OPT
	// record). Clients that advertise less get less; 0 means 1232, the
	// DNS flag day 2020 size that avoids IP fragmentation.
	MaxUDPSize uint16

	// Logger receives errors that have no caller to return to (a failed
	// upstream, a read error). Nil discards them.
	Logger *slog.Logger
}

const (
	defaultTTL       = 60
	defaultMaxUDP    = 1232
	defaultCacheSize = 10000
	defaultTimeout   = 2 * time.Second
)

// DefaultAllow returns the default client allow list: loopback, the
// private ranges of RFC 1918 and RFC 4193 (fc00::/7) and link-local, i.e.
// the places a LAN client can come from.
func DefaultAllow() []netip.Prefix {
	return []netip.Prefix{
		netip.MustParsePrefix("127.0.0.0/8"),
		netip.MustParsePrefix("::1/128"),
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("172.16.0.0/12"),
		netip.MustParsePrefix("192.168.0.0/16"),
		netip.MustParsePrefix("fc00::/7"),
		netip.MustParsePrefix("169.254.0.0/16"),
		netip.MustParsePrefix("fe80::/10"),
	}
}

// settings is a validated Config, normalised once so the query path never
// re-checks anything.
type settings struct {
	zone       string // lower-case FQDN with the trailing dot
	v4, v6     []netip.Addr
	ns         []string // FQDNs
	hostmaster string   // FQDN
	ttl        uint32
	extra      []mdns.RR
	allow      []netip.Prefix
	public     bool
	forward    []string // host:port
	timeout    time.Duration
	cacheSize  int
	maxUDP     uint16
}

func (c *Config) settings() (*settings, error) {
	st := &settings{
		ttl:       c.TTL,
		public:    c.PublicZone,
		timeout:   c.ForwardTimeout,
		cacheSize: c.CacheSize,
		maxUDP:    c.MaxUDPSize,
	}
	if st.ttl == 0 {
		st.ttl = defaultTTL
	}
	if st.timeout <= 0 {
		st.timeout = defaultTimeout
	}
	if st.cacheSize == 0 {
		st.cacheSize = defaultCacheSize
	}
	if st.maxUDP == 0 {
		st.maxUDP = defaultMaxUDP
	}
	if st.maxUDP < mdns.MinMsgSize {
		st.maxUDP = mdns.MinMsgSize
	}

	zone := strings.ToLower(mdns.Fqdn(strings.TrimSpace(c.Zone)))
	if zone == "." {
		return nil, fmt.Errorf("dns: zone is required")
	}
	if _, ok := mdns.IsDomainName(zone); !ok {
		return nil, fmt.Errorf("dns: zone %q is not a valid domain name", c.Zone)
	}
	st.zone = zone

	if len(c.Addrs) == 0 {
		return nil, fmt.Errorf("dns: zone %s: at least one box address is required", zone)
	}
	for _, a := range c.Addrs {
		if !a.IsValid() || a.IsUnspecified() {
			return nil, fmt.Errorf("dns: zone %s: box address %q is not usable", zone, a)
		}
		a = a.Unmap()
		if a.Is4() {
			st.v4 = append(st.v4, a)
		} else {
			st.v6 = append(st.v6, a.WithZone(""))
		}
	}

	nsNames := c.NS
	if len(nsNames) == 0 {
		nsNames = []string{"ns1." + zone}
	}
	for _, n := range nsNames {
		n = strings.ToLower(mdns.Fqdn(strings.TrimSpace(n)))
		if _, ok := mdns.IsDomainName(n); !ok || n == "." {
			return nil, fmt.Errorf("dns: zone %s: name server %q is not a valid host name", zone, n)
		}
		st.ns = append(st.ns, n)
	}

	hm, err := hostmasterName(c.Hostmaster, zone)
	if err != nil {
		return nil, err
	}
	st.hostmaster = hm

	for i, text := range c.Extra {
		rr, err := parseExtra(text, zone, st.ttl)
		if err != nil {
			return nil, fmt.Errorf("dns: zone %s: extra record %d: %w", zone, i+1, err)
		}
		st.extra = append(st.extra, rr)
	}

	if c.Allow == nil {
		st.allow = DefaultAllow()
	} else {
		for _, p := range c.Allow {
			if !p.IsValid() {
				return nil, fmt.Errorf("dns: zone %s: allow list entry %q is not a valid prefix", zone, p)
			}
			// Compare unmapped addresses against unmapped prefixes.
			if p.Addr().Is4In6() && p.Bits() >= 96 {
				p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			}
			st.allow = append(st.allow, p.Masked())
		}
	}

	for _, up := range c.Forward {
		hp, err := upstreamAddr(up)
		if err != nil {
			return nil, fmt.Errorf("dns: zone %s: %w", zone, err)
		}
		st.forward = append(st.forward, hp)
	}
	return st, nil
}

// hostmasterName turns the SOA contact into the RNAME domain form.
func hostmasterName(s, zone string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "hostmaster." + zone, nil
	}
	if local, domain, ok := strings.Cut(s, "@"); ok {
		// In RNAME the first label is the mailbox; dots inside it must be
		// escaped or they would read as label separators.
		s = strings.ReplaceAll(local, ".", `\.`) + "." + domain
	}
	s = strings.ToLower(mdns.Fqdn(s))
	if _, ok := mdns.IsDomainName(s); !ok {
		return "", fmt.Errorf("dns: zone %s: hostmaster %q is not a valid name", zone, s)
	}
	return s, nil
}

// parseExtra parses one zone-file line relative to the zone.
func parseExtra(text, zone string, ttl uint32) (mdns.RR, error) {
	zp := mdns.NewZoneParser(strings.NewReader(text), zone, "")
	zp.SetDefaultTTL(ttl)
	rr, ok := zp.Next()
	if err := zp.Err(); err != nil {
		return nil, fmt.Errorf("parse %q: %w", text, err)
	}
	if !ok || rr == nil {
		return nil, fmt.Errorf("parse %q: no record", text)
	}
	if _, more := zp.Next(); more {
		return nil, fmt.Errorf("parse %q: one record per entry", text)
	}
	h := rr.Header()
	h.Name = strings.ToLower(h.Name)
	if !mdns.IsSubDomain(zone, h.Name) {
		return nil, fmt.Errorf("%s is outside the zone", h.Name)
	}
	if h.Class != mdns.ClassINET {
		return nil, fmt.Errorf("%s: only class IN is served", h.Name)
	}
	switch h.Rrtype {
	case mdns.TypeSOA, mdns.TypeNS, mdns.TypeCNAME, mdns.TypeDNAME, mdns.TypeOPT:
		return nil, fmt.Errorf("%s: type %s is managed by the zone itself", h.Name, mdns.TypeToString[h.Rrtype])
	}
	return rr, nil
}

// upstreamAddr accepts "ip" or "ip:port"; host names are refused because
// resolving them would need the resolver being configured.
func upstreamAddr(s string) (string, error) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.String(), nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return net.JoinHostPort(a.String(), "53"), nil
	}
	return "", fmt.Errorf("upstream %q is not an IP address or IP:port", s)
}

package caddymodules

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"

	"github.com/stackhub/stackhub/dns"
	"github.com/stackhub/stackhub/internal/adminapi"
	"github.com/stackhub/stackhub/internal/platform"
)

// DNSConfig is the `dns` subblock of the stackhub global option: it makes
// the stackhub app serve the platform's zone (the base domain) with the
// dns package: the apex, my.<domain> and every installed app's host
// resolve to the box, _acme-challenge TXT records come from
// dns.providers.stackhub, and other names are optionally forwarded.
//
// The zone is the stackhub block's `domain`; answers follow the app
// registry, so an app resolves from the moment it is installed until it is
// removed, with no reload. Listeners are Caddy's (SO_REUSEPORT), so a
// config reload never closes the port.
//
// Caddyfile (inside the stackhub global option block):
//
//	stackhub {
//		domain home.example.com
//		dns {
//			listen     :53                      # UDP and TCP; repeatable; default :53
//			address    192.168.1.10 fd00::10    # the box's addresses answered (A/AAAA)
//			forward    9.9.9.9 1.1.1.1          # resolve other names upstream (LAN clients only)
//			allow      10.0.0.0/8 192.168.0.0/16 # who may query; default loopback + private ranges
//			public                              # answer the zone to anyone (domain delegated to the box)
//			ns         ns1.home.example.com     # the zone's name servers; default ns1.<domain>
//			hostmaster admin@example.com        # SOA contact
//			ttl        60                       # seconds, or a duration (1m)
//			record     @ CAA 0 issue "letsencrypt.org"   # extra records, zone-file syntax; repeatable
//			cache      10000                    # forward cache entries; 0 default, -1 off
//			forward_timeout 2s
//		}
//	}
//
// `address` defaults to the listen IP when that is a specific address,
// otherwise to the machine's primary outgoing address.
type DNSConfig struct {
	// Listen are network addresses to serve on, UDP and TCP each; default ":53".
	Listen []string `json:"listen,omitempty"`
	// Addresses are the box's IPs answered for the zone's names.
	Addresses []string `json:"addresses,omitempty"`
	// Forward are upstream resolvers ("9.9.9.9", "[2620:fe::fe]:53").
	Forward []string `json:"forward,omitempty"`
	// Allow are client networks (CIDR or single IPs); empty: dns.DefaultAllow.
	Allow []string `json:"allow,omitempty"`
	// Public answers the zone (never forwarding) to clients outside Allow.
	Public bool `json:"public,omitempty"`
	// NS are the zone's name server host names.
	NS []string `json:"ns,omitempty"`
	// Hostmaster is the SOA contact.
	Hostmaster string `json:"hostmaster,omitempty"`
	// TTL of every answer.
	TTL caddy.Duration `json:"ttl,omitempty"`
	// Records are extra records in zone-file syntax, relative to the zone.
	Records []string `json:"records,omitempty"`
	// CacheSize bounds the forward cache (0: default, negative: off).
	CacheSize int `json:"cache_size,omitempty"`
	// ForwardTimeout bounds each upstream exchange.
	ForwardTimeout caddy.Duration `json:"forward_timeout,omitempty"`

	server    *dns.Server
	addrs     []caddy.NetworkAddress
	listeners []interface{ Close() error }
	log       *zap.Logger
}

// unmarshal reads the `dns { … }` subblock; d is on the `dns` token.
func (c *DNSConfig) unmarshal(d *caddyfile.Dispenser) error {
	if d.NextArg() {
		return d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		key := d.Val()
		args := d.RemainingArgs()
		need := func(n int) error {
			if len(args) < n {
				return d.ArgErr()
			}
			return nil
		}
		switch key {
		case "listen":
			if err := need(1); err != nil {
				return err
			}
			c.Listen = append(c.Listen, args...)
		case "address":
			if err := need(1); err != nil {
				return err
			}
			c.Addresses = append(c.Addresses, args...)
		case "forward":
			if err := need(1); err != nil {
				return err
			}
			c.Forward = append(c.Forward, args...)
		case "allow":
			if err := need(1); err != nil {
				return err
			}
			c.Allow = append(c.Allow, args...)
		case "public":
			if len(args) != 0 {
				return d.ArgErr()
			}
			c.Public = true
		case "ns":
			if err := need(1); err != nil {
				return err
			}
			c.NS = append(c.NS, args...)
		case "hostmaster":
			if len(args) != 1 {
				return d.ArgErr()
			}
			c.Hostmaster = args[0]
		case "ttl":
			if len(args) != 1 {
				return d.ArgErr()
			}
			ttl, err := parseSecondsOrDuration(args[0])
			if err != nil {
				return d.Errf("ttl %q: %v", args[0], err)
			}
			c.TTL = caddy.Duration(ttl)
		case "record":
			if err := need(2); err != nil {
				return err
			}
			c.Records = append(c.Records, joinZoneArgs(args))
		case "cache":
			if len(args) != 1 {
				return d.ArgErr()
			}
			n, err := strconv.Atoi(args[0])
			if err != nil {
				return d.Errf("cache %q is not a number of entries", args[0])
			}
			c.CacheSize = n
		case "forward_timeout":
			if len(args) != 1 {
				return d.ArgErr()
			}
			t, err := caddy.ParseDuration(args[0])
			if err != nil || t <= 0 {
				return d.Errf("forward_timeout %q is not a duration", args[0])
			}
			c.ForwardTimeout = caddy.Duration(t)
		default:
			return d.Errf("unknown dns option %q (known: listen, address, forward, allow, public, ns, hostmaster, ttl, record, cache, forward_timeout)", key)
		}
	}
	return nil
}

// parseSecondsOrDuration reads "60" as seconds, or a duration ("1m").
func parseSecondsOrDuration(s string) (time.Duration, error) {
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	d, err := caddy.ParseDuration(s)
	if err != nil || d < time.Second {
		return 0, errors.New("want seconds or a duration of at least 1s")
	}
	return d, nil
}

// joinZoneArgs rebuilds a zone-file line from Caddyfile tokens, quoting
// the ones the tokenizer unquoted that need it (TXT values with spaces).
func joinZoneArgs(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t;\"") {
			a = strconv.Quote(a)
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}

// registrySource adapts the platform's registry to dns.RecordSource: the
// registry is the one source of DNS answers (DESIGN.md invariant 2). The
// platform's own hosts (apex, my.<domain>) are fixed names of the zone.
type registrySource struct{ p *platform.Platform }

func (s registrySource) Has(host string) bool {
	_, ok := s.p.Registry.Lookup(host)
	return ok
}

func (s registrySource) Version() uint64 { return s.p.Registry.Version() }

func (s registrySource) Hosts() []string {
	entries := s.p.Registry.Entries()
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		out = append(out, e.Host)
	}
	return out
}

// provision builds the zone server for p (no sockets yet: Start opens them).
func (c *DNSConfig) provision(ctx caddy.Context, p *platform.Platform) error {
	c.log = ctx.Logger().Named("dns")
	listen := c.Listen
	if len(listen) == 0 {
		listen = []string{":53"}
	}
	c.addrs = nil
	for _, l := range listen {
		na, err := caddy.ParseNetworkAddressWithDefaults(l, "udp", 53)
		if err != nil {
			return fmt.Errorf("stackhub dns: listen %q: %v", l, err)
		}
		if na.PortRangeSize() != 1 {
			return fmt.Errorf("stackhub dns: listen %q: one port, not a range", l)
		}
		switch na.Network {
		case "udp", "udp4", "udp6", "tcp", "tcp4", "tcp6":
		default:
			return fmt.Errorf("stackhub dns: listen %q: only UDP/TCP addresses are served", l)
		}
		c.addrs = append(c.addrs, na)
	}

	var addrs []netip.Addr
	for _, a := range c.Addresses {
		ip, err := netip.ParseAddr(a)
		if err != nil {
			return fmt.Errorf("stackhub dns: address %q is not an IP address", a)
		}
		addrs = append(addrs, ip)
	}
	if len(addrs) == 0 {
		ip, err := defaultBoxAddress(c.addrs[0])
		if err != nil {
			return err
		}
		c.log.Info("answering the zone with this address; set `address` in the dns block to change it", zap.Stringer("address", ip))
		addrs = append(addrs, ip)
	}

	var allow []netip.Prefix
	for _, a := range c.Allow {
		pfx, err := parsePrefixOrAddr(a)
		if err != nil {
			return fmt.Errorf("stackhub dns: allow %q: %v", a, err)
		}
		allow = append(allow, pfx)
	}

	srv, err := dns.New(dns.Config{
		Zone:           p.Config.Domain,
		Addrs:          addrs,
		Source:         registrySource{p},
		ACME:           p.ACME,
		NS:             c.NS,
		Hostmaster:     c.Hostmaster,
		TTL:            uint32(time.Duration(c.TTL) / time.Second),
		Extra:          c.Records,
		Allow:          allow,
		PublicZone:     c.Public,
		Forward:        c.Forward,
		ForwardTimeout: time.Duration(c.ForwardTimeout),
		CacheSize:      c.CacheSize,
		Logger:         ctx.Slogger(),
	})
	if err != nil {
		return fmt.Errorf("stackhub %w", err)
	}
	c.server = srv
	return nil
}

// parsePrefixOrAddr reads "10.0.0.0/8" or a single address.
func parsePrefixOrAddr(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// defaultBoxAddress is the listen IP when specific, else the address the
// machine uses to reach the outside (no packet is sent).
func defaultBoxAddress(na caddy.NetworkAddress) (netip.Addr, error) {
	if ip, err := netip.ParseAddr(na.Host); err == nil && !ip.IsUnspecified() {
		return ip.Unmap(), nil
	}
	for _, probe := range []string{"192.0.2.1:53", "[2001:db8::1]:53"} {
		conn, err := net.Dial("udp", probe)
		if err != nil {
			continue
		}
		ap, err := netip.ParseAddrPort(conn.LocalAddr().String())
		conn.Close()
		if err == nil && !ap.Addr().IsLoopback() && !ap.Addr().IsUnspecified() {
			return ap.Addr().Unmap(), nil
		}
	}
	return netip.Addr{}, errors.New("stackhub dns: cannot tell the box's LAN address: set `address <ip>` in the dns block")
}

// start opens UDP and TCP listeners through Caddy and serves them.
func (c *DNSConfig) start(ctx context.Context) error {
	for _, na := range c.addrs {
		udp, tcp := na, na
		switch na.Network {
		case "tcp", "tcp4", "tcp6":
			udp.Network = "udp" + strings.TrimPrefix(na.Network, "tcp")
		default:
			tcp.Network = "tcp" + strings.TrimPrefix(na.Network, "udp")
		}
		pcAny, err := udp.Listen(ctx, 0, net.ListenConfig{})
		if err != nil {
			c.closeListeners()
			return fmt.Errorf("stackhub dns: listen %s: %w", udp, err)
		}
		pc, ok := pcAny.(net.PacketConn)
		if !ok {
			c.closeListeners()
			return fmt.Errorf("stackhub dns: listen %s: not a packet socket (%T)", udp, pcAny)
		}
		c.listeners = append(c.listeners, pc)
		lnAny, err := tcp.Listen(ctx, 0, net.ListenConfig{})
		if err != nil {
			c.closeListeners()
			return fmt.Errorf("stackhub dns: listen %s: %w", tcp, err)
		}
		ln, ok := lnAny.(net.Listener)
		if !ok {
			c.closeListeners()
			return fmt.Errorf("stackhub dns: listen %s: not a stream socket (%T)", tcp, lnAny)
		}
		c.listeners = append(c.listeners, ln)
		go func() {
			if err := c.server.ServeUDP(pc); err != nil && !errors.Is(err, dns.ErrServerClosed) {
				c.log.Error("serving DNS over UDP", zap.Stringer("address", udp), zap.Error(err))
			}
		}()
		go func() {
			if err := c.server.ServeTCP(ln); err != nil && !errors.Is(err, dns.ErrServerClosed) {
				c.log.Error("serving DNS over TCP", zap.Stringer("address", tcp), zap.Error(err))
			}
		}()
		c.log.Info("serving the zone", zap.String("zone", c.server.Zone()), zap.String("address", na.JoinHostPort(0)))
	}
	return nil
}

func (c *DNSConfig) closeListeners() {
	for _, l := range c.listeners {
		_ = l.Close()
	}
	c.listeners = nil
}

// stop closes this config's sockets (the next config's, sharing the port
// through SO_REUSEPORT, stay open) and waits briefly for handlers.
func (c *DNSConfig) stop() error {
	if c == nil || c.server == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := c.server.Shutdown(ctx)
	c.listeners = nil // Shutdown closed them
	return err
}

// runningDNS is the zone server of the running config, for the admin API.
var runningDNS atomic.Pointer[DNSConfig]

func init() {
	adminapi.DNSRecords = func() ([]dns.Record, bool) {
		c := runningDNS.Load()
		if c == nil {
			return nil, false
		}
		return c.server.Records(), true
	}
}

// provisionDNS builds the zone server when the stackhub block has a dns
// subblock; the stackhub app calls it once its platform is open.
func (a *App) provisionDNS(ctx caddy.Context) error {
	if a.DNS == nil {
		return nil
	}
	return a.DNS.provision(ctx, a.platform)
}

// startDNS opens the zone server's sockets.
func (a *App) startDNS() error {
	if a.DNS == nil {
		return nil
	}
	if err := a.DNS.start(context.Background()); err != nil {
		_ = a.DNS.stop()
		return err
	}
	runningDNS.Store(a.DNS)
	return nil
}

// stopDNS closes this config's zone server.
func (a *App) stopDNS() error {
	if a.DNS == nil {
		return nil
	}
	runningDNS.CompareAndSwap(a.DNS, nil)
	return a.DNS.stop()
}

package caddymodules

import (
	"context"
	"fmt"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/libdns/libdns"
	"go.uber.org/zap"

	"github.com/stackhub/stackhub/dns"
)

func init() {
	caddy.RegisterModule(DNSProvider{})
}

// DNSProvider is a libdns provider that publishes DNS-01 challenges in
// StackHub's own zone: AppendRecords and DeleteRecords write the
// _acme-challenge TXT values into the platform's ACME store, which the
// zone server (the `dns` block of the stackhub options) answers at once.
// It makes wildcard certificates possible with no external DNS service
// once the domain is delegated to the box (NS records at the registrar,
// and `public` in the dns block so validators get answers).
//
// Only TXT records named _acme-challenge.* are accepted: the provider
// cannot be used to publish anything else.
//
// Caddyfile:
//
//	*.home.example.com {
//		tls {
//			dns stackhub
//		}
//	}
//
// or for every site, in the global options:
//
//	{
//		acme_dns stackhub
//	}
type DNSProvider struct {
	acme *dns.ACMEStore
	log  *zap.Logger
}

// CaddyModule returns the Caddy module information.
func (DNSProvider) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "dns.providers.stackhub", New: func() caddy.Module { return new(DNSProvider) }}
}

// Provision takes the platform's ACME store.
func (p *DNSProvider) Provision(ctx caddy.Context) error {
	p.log = ctx.Logger()
	v, err := ctx.App("stackhub")
	if err != nil {
		return fmt.Errorf("dns.providers.stackhub needs the stackhub app: %w", err)
	}
	app := v.(*App)
	if app.platform == nil {
		return fmt.Errorf("dns.providers.stackhub: the stackhub app has no platform")
	}
	if app.DNS == nil {
		p.log.Warn("dns.providers.stackhub is used but StackHub serves no DNS zone: add a `dns { … }` block to the stackhub options, or DNS-01 challenges will not be answered")
	}
	p.acme = app.platform.ACME
	return nil
}

// challengeName turns a libdns record name into the absolute challenge name.
func challengeName(rr libdns.RR, zone string) (string, error) {
	if !strings.EqualFold(rr.Type, "TXT") {
		return "", fmt.Errorf("dns.providers.stackhub publishes ACME challenge TXT records only, not %s", rr.Type)
	}
	name := libdns.AbsoluteName(rr.Name, zone)
	if !strings.HasPrefix(strings.ToLower(name), dns.ACMEPrefix) {
		return "", fmt.Errorf("dns.providers.stackhub publishes %s* records only, not %s", dns.ACMEPrefix, name)
	}
	return name, nil
}

// AppendRecords publishes challenge TXT records in the zone.
func (p *DNSProvider) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	var done []libdns.Record
	for _, rec := range recs {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		rr := rec.RR()
		name, err := challengeName(rr, zone)
		if err != nil {
			return done, err
		}
		if err := p.acme.Append(name, rr.Data); err != nil {
			return done, err
		}
		p.log.Debug("published ACME challenge", zap.String("name", name))
		done = append(done, libdns.TXT{Name: rr.Name, TTL: rr.TTL, Text: rr.Data})
	}
	return done, nil
}

// DeleteRecords withdraws challenge TXT records; absent ones are ignored.
// An empty value withdraws every value of the name.
func (p *DNSProvider) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	var done []libdns.Record
	for _, rec := range recs {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		rr := rec.RR()
		if rr.Type == "" {
			rr.Type = "TXT"
		}
		name, err := challengeName(rr, zone)
		if err != nil {
			return done, err
		}
		var values []string
		if rr.Data != "" {
			values = []string{rr.Data}
		}
		n, err := p.acme.Delete(name, values...)
		if err != nil {
			return done, err
		}
		if n > 0 {
			done = append(done, libdns.TXT{Name: rr.Name, TTL: rr.TTL, Text: rr.Data})
		}
	}
	return done, nil
}

// UnmarshalCaddyfile reads `dns stackhub` (no further arguments).
func (p *DNSProvider) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the provider name
	if d.NextArg() {
		return d.ArgErr()
	}
	if d.NextBlock(d.Nesting()) {
		return d.Errf("dns stackhub takes no options (configure the zone in the stackhub dns block)")
	}
	return nil
}

// Interface guards
var (
	_ caddy.Provisioner     = (*DNSProvider)(nil)
	_ libdns.RecordAppender = (*DNSProvider)(nil)
	_ libdns.RecordDeleter  = (*DNSProvider)(nil)
	_ caddyfile.Unmarshaler = (*DNSProvider)(nil)
)

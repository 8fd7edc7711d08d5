// API: the names StackHub serves, with their certificates, and the DNS
// records of its zone when it serves one.

package portal

import (
	"sort"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/stackhub/stackhub/dns"
)

// Certificate is a certificate in Caddy's storage.
type Certificate struct {
	Names    []string  `json:"names"`
	Issuer   string    `json:"issuer"`
	NotAfter time.Time `json:"not_after"`
}

// HostView is one name StackHub serves.
type HostView struct {
	Host string `json:"host"`
	// App is the app served there; "" for the portal and the apex.
	App         string       `json:"app,omitempty"`
	Certificate *Certificate `json:"certificate,omitempty"`
}

// Hosts is the answer to GET /api/v1/hosts.
type Hosts struct {
	Domain string     `json:"domain"`
	Hosts  []HostView `json:"hosts"`
	// DNS are the zone's records; ServesDNS is false when StackHub serves
	// no zone.
	ServesDNS bool         `json:"serves_dns"`
	DNS       []dns.Record `json:"dns,omitempty"`
}

// covers reports whether a certificate name (maybe a wildcard) covers host.
func covers(name, host string) bool {
	if name == host {
		return true
	}
	if rest, ok := strings.CutPrefix(name, "*."); ok {
		_, parent, found := strings.Cut(host, ".")
		return found && parent == rest
	}
	return false
}

// certificateFor returns the certificate of certs that covers host and
// lasts longest, or nil.
func certificateFor(certs []Certificate, host string) *Certificate {
	var best *Certificate
	for i, c := range certs {
		for _, n := range c.Names {
			if covers(n, host) && (best == nil || c.NotAfter.After(best.NotAfter)) {
				best = &certs[i]
			}
		}
	}
	return best
}

func (p *Portal) hosts() Hosts {
	out := Hosts{Domain: p.cfg.Domain, Hosts: []HostView{}}
	var certs []Certificate
	if p.cfg.Certificates != nil {
		certs = p.cfg.Certificates()
	}
	find := func(host string) *Certificate { return certificateFor(certs, host) }
	out.Hosts = append(out.Hosts, HostView{Host: "my." + p.cfg.Domain, Certificate: find("my." + p.cfg.Domain)})
	entries := p.cfg.Registry.Entries()
	sort.Slice(entries, func(i, j int) bool { return entries[i].Host < entries[j].Host })
	for _, e := range entries {
		out.Hosts = append(out.Hosts, HostView{Host: e.Host, App: e.App, Certificate: find(e.Host)})
	}
	if p.cfg.DNSRecords != nil {
		out.DNS, out.ServesDNS = p.cfg.DNSRecords()
	}
	return out
}

func (p *Portal) apiHosts(c *fiber.Ctx) error { return c.JSON(p.hosts()) }

package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// dnsCaddyfile is a Caddyfile for in with the stackhub dns block listening
// on dnsAddr; dnsExtra goes inside the dns block and sites after the
// global options.
func dnsCaddyfile(in *instance, dnsAddr, dnsExtra, sites string) string {
	return fmt.Sprintf(`{
	admin %s
	persist_config off
	default_bind 127.0.0.1
	http_port %d
	https_port %d
	skip_install_trust
	storage file_system {
		root %s/caddy
	}
	stackhub {
		domain %s
		data %s
		https_port %d
		dns {
			listen %s
			%s
		}
	}
}
%s`, in.admin, in.httpPort, in.httpsPort, in.data, in.domain, in.data, in.httpsPort, dnsAddr, dnsExtra, sites)
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// ask sends one query over net ("udp" or "tcp") and fails the test on a
// transport error.
func ask(t *testing.T, server, network, name string, qtype uint16) *mdns.Msg {
	t.Helper()
	c := &mdns.Client{Net: network, Timeout: 3 * time.Second}
	m := new(mdns.Msg)
	m.SetQuestion(mdns.Fqdn(name), qtype)
	var r *mdns.Msg
	var err error
	for range 3 { // UDP: a lost datagram is retried, as a stub resolver would
		if r, _, err = c.Exchange(m, server); err == nil {
			return r
		}
	}
	t.Fatalf("%s %s query for %s: %v", network, mdns.TypeToString[qtype], name, err)
	return nil
}

// wantA checks an authoritative answer with exactly the address ip.
func wantA(t *testing.T, r *mdns.Msg, name, ip string) {
	t.Helper()
	if r.Rcode != mdns.RcodeSuccess || !r.Authoritative || len(r.Answer) != 1 {
		t.Fatalf("%s: want one authoritative A answer:\n%v", name, r)
	}
	a, ok := r.Answer[0].(*mdns.A)
	if !ok || a.A.String() != ip || !strings.EqualFold(a.Hdr.Name, mdns.Fqdn(name)) {
		t.Fatalf("%s: want A %s:\n%v", name, ip, r)
	}
}

// wantNXDOMAIN checks a negative answer carrying the zone's SOA.
func wantNXDOMAIN(t *testing.T, r *mdns.Msg, name, zone string) {
	t.Helper()
	if r.Rcode != mdns.RcodeNameError || len(r.Answer) != 0 || len(r.Ns) != 1 {
		t.Fatalf("%s: want NXDOMAIN with the SOA:\n%v", name, r)
	}
	if soa, ok := r.Ns[0].(*mdns.SOA); !ok || soa.Hdr.Name != mdns.Fqdn(zone) {
		t.Fatalf("%s: authority is not the zone's SOA:\n%v", name, r)
	}
}

// TestDNSZoneFollowsInstalledApps runs `stackhub run` with a dns block on a
// loopback port and queries it with a real DNS client over UDP and TCP:
// the apex, my. and an installed app resolve to the configured address,
// unknown names are NXDOMAIN, names outside the zone are refused (no
// forwarding configured); the app's record appears on install and goes on
// removal with no restart; `stackhub dns records` lists it; a config
// reload keeps the port and serves the new settings.
func TestDNSZoneFollowsInstalledApps(t *testing.T) {
	in := newInstance(t, "home.example.com")
	dnsAddr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	const box = "192.0.2.10"
	path := writeFile(t, "Caddyfile", dnsCaddyfile(in, dnsAddr, "address "+box+"\n\t\t\tttl 60", ""))
	in.args = []string{"run", "--config", path}
	in.start()

	zone := in.domain
	app := "alpha." + zone
	for _, network := range []string{"udp", "tcp"} {
		wantA(t, ask(t, dnsAddr, network, zone, mdns.TypeA), zone, box)
		wantA(t, ask(t, dnsAddr, network, "my."+zone, mdns.TypeA), "my."+zone, box)
		wantA(t, ask(t, dnsAddr, network, "MY.Home.Example.COM", mdns.TypeA), "MY.Home.Example.COM", box)
		wantNXDOMAIN(t, ask(t, dnsAddr, network, app, mdns.TypeA), app, zone)
		wantNXDOMAIN(t, ask(t, dnsAddr, network, "nothing."+zone, mdns.TypeA), "nothing."+zone, zone)
		if r := ask(t, dnsAddr, network, zone, mdns.TypeSOA); r.Rcode != mdns.RcodeSuccess || len(r.Answer) != 1 || r.Answer[0].Header().Rrtype != mdns.TypeSOA {
			t.Fatalf("%s SOA over %s:\n%v", zone, network, r)
		}
		if r := ask(t, dnsAddr, network, "example.org", mdns.TypeA); r.Rcode != mdns.RcodeRefused {
			t.Fatalf("outside the zone with no forwarding, want REFUSED over %s:\n%v", network, r)
		}
	}
	if out := in.mustCLI("dns", "records"); strings.Contains(out, app) || !strings.Contains(out, "my."+zone+".") {
		t.Fatalf("dns records before install:\n%s", out)
	}

	in.mustCLI("apps", "install", "testdata/alpha")
	for _, network := range []string{"udp", "tcp"} {
		wantA(t, ask(t, dnsAddr, network, app, mdns.TypeA), app, box)
		wantA(t, ask(t, dnsAddr, network, strings.ToUpper(app), mdns.TypeA), strings.ToUpper(app), box)
		if r := ask(t, dnsAddr, network, app, mdns.TypeAAAA); r.Rcode != mdns.RcodeSuccess || len(r.Answer) != 0 || len(r.Ns) != 1 {
			t.Fatalf("AAAA of %s with an IPv4-only box, want NODATA:\n%v", app, r)
		}
	}
	out := in.mustCLI("dns", "records")
	if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(app) + `\.\s+60\s+A\s+` + regexp.QuoteMeta(box) + `\s*$`).MatchString(out) {
		t.Fatalf("dns records does not list %s:\n%s", app, out)
	}

	// A reload (new TTL) keeps the port: the new config's sockets share it
	// with the old ones, and the answers carry the new settings.
	os.WriteFile(path, []byte(dnsCaddyfile(in, dnsAddr, "address "+box+"\n\t\t\tttl 30", "")), 0o644)
	in.mustCLI("reload", "--config", path)
	r := ask(t, dnsAddr, "udp", app, mdns.TypeA)
	wantA(t, r, app, box)
	if r.Answer[0].Header().Ttl != 30 {
		t.Fatalf("after reload, want TTL 30:\n%v", r)
	}
	wantA(t, ask(t, dnsAddr, "tcp", app, mdns.TypeA), app, box)

	in.mustCLI("apps", "remove", "alpha")
	for _, network := range []string{"udp", "tcp"} {
		wantNXDOMAIN(t, ask(t, dnsAddr, network, app, mdns.TypeA), app, zone)
	}
	if out := in.mustCLI("dns", "records"); strings.Contains(out, app) {
		t.Fatalf("dns records still lists %s after removal:\n%s", app, out)
	}
	select {
	case <-in.exited:
		t.Fatal("stackhub exited")
	default:
	}
}

// TestDNSCaddyfileSyntax adapts Caddyfiles using the dns block, the
// provider in a site's tls block and the global acme_dns option.
func TestDNSCaddyfileSyntax(t *testing.T) {
	adapt := func(caddyfile string) (map[string]any, string, error) {
		path := writeFile(t, "Caddyfile", caddyfile)
		out, err := exec.Command(binary(t, "stackhub"), "adapt", "--config", path).CombinedOutput()
		if err != nil {
			return nil, string(out), err
		}
		var cfg map[string]any
		if err := json.Unmarshal(out, &cfg); err != nil {
			return nil, string(out), err
		}
		return cfg, string(out), nil
	}
	cfg, out, err := adapt(`{
	stackhub {
		domain home.example.com
		dns {
			listen :53 udp/[::1]:5353
			address 192.168.1.10 fd00::10
			forward 9.9.9.9 1.1.1.1
			allow 10.0.0.0/8 192.168.0.0/16
			allow 203.0.113.7
			public
			ns ns1.home.example.com ns2.example.net
			hostmaster admin@example.com
			ttl 2m
			record @ CAA 0 issue "letsencrypt.org"
			record @ TXT "v=spf1 -all"
			cache 500
			forward_timeout 1s
		}
	}
}

*.home.example.com {
	tls {
		dns stackhub
	}
	respond ok
}
`)
	if err != nil {
		t.Fatalf("adapt: %v\n%s", err, out)
	}
	got, _ := json.Marshal(cfg["apps"].(map[string]any)["stackhub"].(map[string]any)["dns"])
	want := `{"addresses":["192.168.1.10","fd00::10"],"allow":["10.0.0.0/8","192.168.0.0/16","203.0.113.7"],"cache_size":500,"forward":["9.9.9.9","1.1.1.1"],"forward_timeout":1000000000,"hostmaster":"admin@example.com","listen":[":53","udp/[::1]:5353"],"ns":["ns1.home.example.com","ns2.example.net"],"public":true,"records":["@ CAA 0 issue letsencrypt.org","@ TXT \"v=spf1 -all\""],"ttl":120000000000}`
	if string(got) != want {
		t.Errorf("dns config:\n got %s\nwant %s", got, want)
	}
	if !strings.Contains(out, `"provider":{"name":"stackhub"}`) {
		t.Errorf("tls { dns stackhub } did not configure the provider:\n%s", out)
	}

	_, out, err = adapt(`{
	acme_dns stackhub
	stackhub {
		domain home.example.com
		dns
	}
}
*.home.example.com {
	respond ok
}
`)
	if err != nil || !strings.Contains(out, `"provider":{"name":"stackhub"}`) {
		t.Errorf("acme_dns stackhub: %v\n%s", err, out)
	}

	for _, bad := range []string{
		"dns {\n\t\t\tbogus 1\n\t\t}",
		"dns {\n\t\t\tttl soon\n\t\t}",
		"dns {\n\t\t\tpublic yes\n\t\t}",
		"dns extra",
	} {
		if _, out, err := adapt("{\n\tstackhub {\n\t\tdomain home.example.com\n\t\t" + bad + "\n\t}\n}\n"); err == nil {
			t.Errorf("adapt accepted %q:\n%s", bad, out)
		}
	}

	modules, err := exec.Command(binary(t, "stackhub"), "list-modules").CombinedOutput()
	if err != nil || !regexp.MustCompile(`(?m)^dns\.providers\.stackhub$`).Match(modules) {
		t.Errorf("list-modules lacks dns.providers.stackhub: %v\n%s", err, modules)
	}
}

// TestDNSWildcardCertificateFromPebble obtains *.<domain> from Pebble by
// DNS-01: dns.providers.stackhub writes the challenge into our zone, and
// Pebble's validation authority reads it from our DNS server. Caddy then
// serves that one certificate for two app hosts, which the client resolves
// through our zone too.
func TestDNSWildcardCertificateFromPebble(t *testing.T) {
	in := newInstance(t, "wild.example.com")
	dnsAddr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	// Pebble's HTTP and TLS ports lead nowhere: only DNS-01 can pass.
	dir, apiCA, rootPEM := pebble(t, freePort(t), freePort(t), dnsAddr)
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(rootPEM) {
		t.Fatalf("pebble root: %s", rootPEM)
	}
	site := fmt.Sprintf(`
*.%s {
	tls {
		dns stackhub
		ca %s
		ca_root %s
		resolvers %s
		propagation_delay 0
		propagation_timeout -1
	}
	stackhub_router
	reverse_proxy {
		dynamic stackhub
	}
}
`, in.domain, dir, apiCA, dnsAddr)
	path := writeFile(t, "Caddyfile", dnsCaddyfile(in, dnsAddr, "", site))
	in.args = []string{"run", "--config", path}
	in.start()
	in.mustCLI("apps", "install", "testdata/alpha")
	in.mustCLI("apps", "install", "testdata/beta")

	// Resolve app hosts through our zone, as a LAN client would.
	resolver := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, dnsAddr)
	}}
	dialer := &net.Dialer{Timeout: 5 * time.Second, Resolver: resolver}
	c := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots},
		DialContext:     dialer.DialContext,
	}}

	leaves := map[string]*x509.Certificate{}
	for _, app := range []string{"alpha", "beta"} {
		var status int
		var body string
		waitFor(t, 120*time.Second, "the wildcard certificate on "+app, func() bool {
			resp, err := c.Get(in.url(app, "/"))
			if err != nil {
				return false
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			status, body = resp.StatusCode, string(b)
			leaves[app] = resp.TLS.PeerCertificates[0]
			return len(resp.TLS.VerifiedChains) > 0
		})
		if status != 200 || !strings.HasPrefix(body, "hello from "+app) {
			t.Fatalf("%s over the wildcard certificate: %d %q", app, status, body)
		}
	}
	a, b := leaves["alpha"], leaves["beta"]
	if !a.Equal(b) {
		t.Fatalf("alpha and beta got different certificates: %v / %v", a.DNSNames, b.DNSNames)
	}
	wildcard := false
	for _, n := range a.DNSNames {
		wildcard = wildcard || n == "*."+in.domain
	}
	if !wildcard || !strings.Contains(a.Issuer.CommonName, "Pebble") {
		t.Fatalf("certificate names %v, issuer %q", a.DNSNames, a.Issuer.CommonName)
	}
	log := in.out.String()
	if !strings.Contains(log, `"challenge_type":"dns-01"`) {
		t.Errorf("the certificate was not obtained by DNS-01:\n%s", log)
	}
	// The challenge was withdrawn from the zone after issuance.
	if r := ask(t, dnsAddr, "udp", "_acme-challenge."+in.domain, mdns.TypeTXT); len(r.Answer) != 0 {
		t.Errorf("challenge TXT still published:\n%v", r)
	}
}

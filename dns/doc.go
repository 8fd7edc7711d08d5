// Package dns is StackHub's local DNS zone server: it answers for the box's
// own zone (say home.example.com) so that <app>.<zone>, my.<zone> and the
// apex resolve to the box on a LAN with no external DNS service, publishes
// the _acme-challenge TXT records of DNS-01 when the zone is delegated to
// the box, and can forward every other name to upstream resolvers.
//
// # The chain
//
// Like CoreDNS's plugin chain, a query passes a fixed series of steps and
// the first one that owns it answers:
//
//  1. Gate. The client's address is checked against an allow list
//     (loopback, RFC 1918, RFC 4193 fc00::/7 and link-local by default).
//     Clients outside it get REFUSED for everything, unless the zone is
//     configured as public (needed when the domain is delegated to the box:
//     ACME validators and public resolvers must then read the zone); even
//     then they never get forwarding, so the server is never an open
//     resolver.
//  2. Zone. Names at or below the zone are answered authoritatively (AA
//     bit) from three layers: the fixed names (apex: SOA, NS, A/AAAA and any
//     extra records such as CAA; my.<zone>; in-zone name server hosts), the
//     ACME TXT overlay (an [ACMEStore]), and the [RecordSource] — the
//     platform registry — for app hosts. Unknown names are NXDOMAIN, known
//     names without the asked type NODATA, both with the SOA in the
//     authority section so resolvers can cache the negative answer.
//  3. Forward. Other names go to the configured upstream resolvers through a
//     small TTL-respecting cache; with no upstreams they are REFUSED, and an
//     upstream failure is SERVFAIL.
//
// # Why two paths
//
// The zone is tiny and its answers barely change, so every answer is
// prebuilt in wire form in an immutable snapshot that is swapped atomically
// when the record source or the ACME store reports a new version. Plain
// queries (one question, simple names, EDNS version 0) are answered from the
// raw packet by copying a template and patching the ID, flags and the
// question — no unpacking, no locks and no allocation for the fixed names.
// Anything else (odd names, ANY, truncation, forwarding, malformed packets)
// takes the message path: miekg/dns unpacks it and [Server.ServeDNS] builds
// the reply. Both paths resolve names through the same lookup over the same
// snapshot, and the fuzz target checks that they agree.
//
// The package has no Caddy imports; caddymodules wraps it in a Caddy app
// and hands it listeners through [Server.ServeUDP] and [Server.ServeTCP].
package dns

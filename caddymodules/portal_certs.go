package caddymodules

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"time"

	"github.com/caddyserver/certmagic"

	"github.com/stackhub/stackhub/dns"
	"github.com/stackhub/stackhub/internal/adminapi"
	"github.com/stackhub/stackhub/portal"
)

// certificatesIn lists the certificates Caddy keeps in storage (under
// certificates/<issuer>/<name>/<name>.crt), for the portal's admin page.
func certificatesIn(storage certmagic.Storage) func() []portal.Certificate {
	return func() []portal.Certificate {
		if storage == nil {
			return nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		keys, err := storage.List(ctx, "certificates", true)
		if err != nil {
			return nil
		}
		var out []portal.Certificate
		for _, k := range keys {
			if !strings.HasSuffix(k, ".crt") {
				continue
			}
			b, err := storage.Load(ctx, k)
			if err != nil {
				continue
			}
			blk, _ := pem.Decode(b)
			if blk == nil {
				continue
			}
			cert, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				continue
			}
			issuer := cert.Issuer.CommonName
			if len(cert.Issuer.Organization) > 0 {
				issuer = cert.Issuer.Organization[0] + " (" + cert.Issuer.CommonName + ")"
			}
			out = append(out, portal.Certificate{Names: cert.DNSNames, Issuer: issuer, NotAfter: cert.NotAfter})
		}
		return out
	}
}

// portalDNSRecords hands the portal the zone's records as the admin API
// sees them (nil until the DNS app sets its source).
func portalDNSRecords() ([]dns.Record, bool) {
	if adminapi.DNSRecords == nil {
		return nil, false
	}
	return adminapi.DNSRecords()
}

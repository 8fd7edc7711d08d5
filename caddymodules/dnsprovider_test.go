package caddymodules

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/libdns/libdns"
	"go.uber.org/zap"

	"github.com/stackhub/stackhub/dns"
)

// The provider writes challenge TXT values into the ACME store, refuses
// anything else, and deletes idempotently.
func TestDNSProviderWritesChallengesOnly(t *testing.T) {
	store := dns.NewACMEStore()
	p := &DNSProvider{acme: store, log: zap.NewNop()}
	ctx := context.Background()
	const zone = "home.example.com."

	got, err := p.AppendRecords(ctx, zone, []libdns.Record{
		libdns.TXT{Name: "_acme-challenge", TTL: time.Minute, Text: "token-1"},
		libdns.RR{Name: "_acme-challenge.vault", Type: "TXT", Data: "token-2"},
	})
	if err != nil || len(got) != 2 {
		t.Fatalf("append: %v %v", got, err)
	}
	if v := store.Values("_acme-challenge.home.example.com"); len(v) != 1 || v[0] != "token-1" {
		t.Fatalf("apex challenge: %v", v)
	}
	if v := store.Values("_acme-challenge.vault.home.example.com."); len(v) != 1 || v[0] != "token-2" {
		t.Fatalf("host challenge: %v", v)
	}

	for _, bad := range []libdns.Record{
		libdns.Address{Name: "www", IP: netip.MustParseAddr("192.0.2.1")},
		libdns.TXT{Name: "www", Text: "x"},
		libdns.TXT{Name: "@", Text: "v=spf1 -all"},
		libdns.TXT{Name: "_acme-challenge", Text: ""},
	} {
		if _, err := p.AppendRecords(ctx, zone, []libdns.Record{bad}); err == nil {
			t.Errorf("append accepted %#v", bad)
		}
	}

	del, err := p.DeleteRecords(ctx, zone, []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "token-1"}})
	if err != nil || len(del) != 1 {
		t.Fatalf("delete: %v %v", del, err)
	}
	if v := store.Values("_acme-challenge.home.example.com"); len(v) != 0 {
		t.Fatalf("after delete: %v", v)
	}
	if del, err := p.DeleteRecords(ctx, zone, []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "token-1"}}); err != nil || len(del) != 0 {
		t.Fatalf("second delete: %v %v", del, err)
	}
	// A delete with no value withdraws every value of the name.
	if del, err := p.DeleteRecords(ctx, zone, []libdns.Record{libdns.RR{Name: "_acme-challenge.vault"}}); err != nil || len(del) != 1 {
		t.Fatalf("delete all: %v %v", del, err)
	}
	if v := store.Values("_acme-challenge.vault.home.example.com"); len(v) != 0 {
		t.Fatalf("after delete all: %v", v)
	}
}

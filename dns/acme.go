package dns

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	mdns "github.com/miekg/dns"
)

// ACMEPrefix is the first label of every DNS-01 challenge name (RFC 8555
// §8.4). For a wildcard *.<zone> the challenge name is that of the zone
// itself: _acme-challenge.<zone>.
const ACMEPrefix = "_acme-challenge."

// Limits that keep a misbehaving caller from growing the store without
// bound; real issuance needs a handful of values at a time.
const (
	maxACMENames     = 4096
	maxACMEValues    = 32
	maxTXTStringSize = 255
)

// ACMEStore is a concurrency-safe in-memory set of DNS-01 challenge TXT
// records, written by the platform's libdns provider (dns.providers.stackhub)
// and answered by every [Server] whose zone contains the name. The zero
// value is ready to use.
//
// A name can carry several values at once, which is the normal case when a
// wildcard and its apex are ordered together: both challenges live at
// _acme-challenge.<zone>. Values are reference-counted, so two overlapping
// issuances that append the same value do not remove it from each other.
type ACMEStore struct {
	mu      sync.Mutex
	recs    map[string]map[string]int // FQDN → value → references
	version atomic.Uint64
}

// NewACMEStore returns an empty store.
func NewACMEStore() *ACMEStore { return &ACMEStore{} }

// acmeName validates and normalises a challenge name to a lower-case FQDN.
func acmeName(name string) (string, error) {
	n := strings.ToLower(mdns.Fqdn(strings.TrimSpace(name)))
	if !strings.HasPrefix(n, ACMEPrefix) || len(n) == len(ACMEPrefix) {
		return "", fmt.Errorf("dns: acme: %q is not an %s name", name, strings.TrimSuffix(ACMEPrefix, "."))
	}
	if _, ok := mdns.IsDomainName(n); !ok {
		return "", fmt.Errorf("dns: acme: %q is not a valid domain name", name)
	}
	return n, nil
}

// Append adds TXT values to name ("_acme-challenge.<host>", trailing dot
// optional, case-insensitive). Only challenge names are accepted, so the
// provider cannot be used to publish arbitrary records.
func (a *ACMEStore) Append(name string, values ...string) error {
	n, err := acmeName(name)
	if err != nil {
		return err
	}
	for _, v := range values {
		if v == "" || len(v) > maxTXTStringSize {
			return fmt.Errorf("dns: acme: %s: TXT value must be 1 to %d bytes, got %d", n, maxTXTStringSize, len(v))
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.recs == nil {
		a.recs = map[string]map[string]int{}
	}
	vals := a.recs[n]
	if vals == nil {
		if len(a.recs) >= maxACMENames {
			return fmt.Errorf("dns: acme: %s: store full (%d names)", n, maxACMENames)
		}
		vals = map[string]int{}
	}
	added := 0
	for _, v := range values {
		if vals[v] == 0 {
			added++
		}
	}
	if len(vals)+added > maxACMEValues {
		return fmt.Errorf("dns: acme: %s: at most %d values per name", n, maxACMEValues)
	}
	for _, v := range values {
		vals[v]++
	}
	a.recs[n] = vals
	a.version.Add(1)
	return nil
}

// Delete removes TXT values from name and reports how many values stopped
// being published. With no values it removes every value of name. Deleting
// something absent is not an error: cleanup after a failed issuance must be
// idempotent.
func (a *ACMEStore) Delete(name string, values ...string) (int, error) {
	n, err := acmeName(name)
	if err != nil {
		return 0, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	vals := a.recs[n]
	if vals == nil {
		return 0, nil
	}
	removed := 0
	if len(values) == 0 {
		removed = len(vals)
		delete(a.recs, n)
	} else {
		for _, v := range values {
			if c, ok := vals[v]; ok {
				if c <= 1 {
					delete(vals, v)
					removed++
				} else {
					vals[v] = c - 1
				}
			}
		}
		if len(vals) == 0 {
			delete(a.recs, n)
		}
	}
	a.version.Add(1)
	return removed, nil
}

// Values returns the values published at name, sorted.
func (a *ACMEStore) Values(name string) []string {
	n, err := acmeName(name)
	if err != nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return sortedKeys(a.recs[n])
}

// Version counts changes, so servers know when to rebuild their answers.
func (a *ACMEStore) Version() uint64 { return a.version.Load() }

// snapshot returns every name's values together with the version they
// belong to, read under one lock so the two agree.
func (a *ACMEStore) snapshot() (uint64, map[string][]string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[string][]string, len(a.recs))
	for n, vals := range a.recs {
		out[n] = sortedKeys(vals)
	}
	return a.version.Load(), out
}

func sortedKeys(m map[string]int) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

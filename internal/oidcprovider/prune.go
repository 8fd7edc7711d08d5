package oidcprovider

import (
	"time"

	"github.com/stackhub/stackhub/internal/kv"
)

// pruneEvery is how often expired records are removed from kv; the work
// rides on a new sign-in request (no background goroutine to stop).
const pruneEvery = time.Hour

// maybePrune runs prune when the last run is older than pruneEvery.
func (p *Provider) maybePrune(now time.Time) {
	last := p.lastPrune.Load()
	if now.Unix()-last < int64(pruneEvery/time.Second) || !p.lastPrune.CompareAndSwap(last, now.Unix()) {
		return
	}
	p.prune(now)
}

// prune deletes expired sign-in requests (and their codes), access tokens
// and refresh tokens. Expired records are already refused when used; this
// only keeps kv from growing.
func (p *Provider) prune(now time.Time) error {
	return p.db.Update(func(t *kv.Txn) error {
		gone := map[string]bool{}
		for _, k := range t.Keys(prefixAuthRequest) {
			var a authRequest
			if t.Get(k, &a) != nil || a.expired(now) {
				gone[a.ID] = true
				if err := t.Delete(k); err != nil {
					return err
				}
			}
		}
		for _, k := range t.Keys(prefixCode) {
			var id string
			if t.Get(k, &id) != nil || gone[id] {
				if err := t.Delete(k); err != nil {
					return err
				}
			}
		}
		for _, k := range t.Keys(prefixAccess) {
			var at accessToken
			if t.Get(k, &at) != nil || now.After(at.Expires) {
				if err := t.Delete(k); err != nil {
					return err
				}
			}
		}
		for _, k := range t.Keys(prefixRefresh) {
			var rt refreshToken
			if t.Get(k, &rt) != nil || now.After(rt.Expires) {
				if err := t.Delete(k); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

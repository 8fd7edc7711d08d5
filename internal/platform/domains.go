package platform

import (
	"context"
	"sync"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/internal/domains"
)

// Custom domains: the one flow behind `stackhub apps domain add` (admin
// API) and the portal's Domains section. A name the app may not take is
// refused before any DNS question; then the DNS check says whether the name
// points at the box, and only then is it added.

// CheckDomain checks that app id may take the custom domain name, then
// checks its DNS with the platform's resolver. A name that does not point
// at the box is no error: the result says why and what record to create.
func (p *Platform) CheckDomain(ctx context.Context, id, name string) (domains.Result, error) {
	n, rec, err := p.Apps.CheckNewDomain(id, name)
	if err != nil {
		return domains.Result{}, err
	}
	return p.checkDNS(ctx, n, rec.Host), nil
}

// checkDNS asks the platform's resolver whether name points at the box,
// whose app host is appHost.
func (p *Platform) checkDNS(ctx context.Context, name, appHost string) domains.Result {
	return domains.Check(ctx, domains.Resolver(p.Config.Resolver), name, appHost, p.Config.Domain)
}

// DomainsDNS checks the DNS of every custom domain of app id at once (a
// list shows whether each still points at the box). Names added with force
// may well not point at it from here: the result says so, nothing more.
func (p *Platform) DomainsDNS(ctx context.Context, id string) (map[string]domains.Result, error) {
	recs, err := p.Apps.Records()
	if err != nil {
		return nil, err
	}
	out := map[string]domains.Result{}
	for _, rec := range recs {
		if rec.ID != id {
			continue
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, d := range rec.Domains {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res := p.checkDNS(ctx, d.Name, rec.Host)
				mu.Lock()
				out[d.Name] = res
				mu.Unlock()
			}()
		}
		wg.Wait()
		return out, nil
	}
	_, err = p.Apps.Domains(id) // the not-installed error, worded as everywhere
	return nil, err
}

// AddDomain gives app id the custom domain d. Unless force (split-horizon
// DNS, a name not public yet), the name must point at the box first: when
// it does not, the error is a *domains.RefusedError with the check, and
// nothing changes. The check's result comes back with the record when it
// ran.
func (p *Platform) AddDomain(ctx context.Context, id string, d appctl.Domain, force bool) (appctl.Record, *domains.Result, error) {
	n, rec, err := p.Apps.CheckNewDomain(id, d.Name)
	if err != nil {
		return appctl.Record{}, nil, err
	}
	d.Name = n
	var check *domains.Result
	if !force {
		res := p.checkDNS(ctx, n, rec.Host)
		if !res.OK {
			return appctl.Record{}, &res, &domains.RefusedError{Check: res}
		}
		check = &res
	}
	rec, err = p.Apps.AddDomain(id, d)
	if err != nil {
		return appctl.Record{}, check, err
	}
	return rec, check, nil
}

// Package domains checks that a custom domain points at the box before
// StackHub serves an app there: it says which DNS record to create (a
// CNAME to the app's own host, or A/AAAA records for an apex, which cannot
// hold a CNAME) and what the name resolves to now.
package domains

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"

	"github.com/stackhub/stackhub/internal/i18n"
)

// Resolver returns the resolver a check asks: the DNS server at addr
// ("host:port"), or the system's when addr is empty.
func Resolver(addr string) *net.Resolver {
	if addr == "" {
		return net.DefaultResolver
	}
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

// Result is what the check found.
type Result struct {
	Name string `json:"name"`
	// AppHost is the app's own host ("photos.home.example.com").
	AppHost string `json:"app_host"`
	// Apex is true for a registrable domain itself ("example.org"), which
	// needs A/AAAA records instead of a CNAME.
	Apex bool `json:"apex"`
	// Record is the DNS record to create, in zone-file form.
	Record string `json:"record"`
	// CNAME is where the name's CNAME chain ends ("" without one).
	CNAME string `json:"cname,omitempty"`
	// Addresses are what the name resolves to now, and BoxAddresses what
	// the app's own host resolves to.
	Addresses    []string `json:"addresses,omitempty"`
	BoxAddresses []string `json:"box_addresses,omitempty"`
	// OK says the name points at the box.
	OK bool `json:"ok"`
	// Problem explains a name that does not point at the box.
	Problem string `json:"problem,omitempty"`
	// ProblemMsg and RecordMsg are Problem and Record as catalog messages
	// (Record's only when it is a sentence, not a record), for the portal
	// to show in the page's language (see Localize).
	ProblemMsg i18n.Msg `json:"-"`
	RecordMsg  i18n.Msg `json:"-"`
}

// problem sets the result's Problem to the catalog message id with its
// args (name/value pairs, see i18n.M).
func (r *Result) problem(id string, kv ...any) {
	r.ProblemMsg = i18n.M(id, kv...)
	r.Problem = r.ProblemMsg.English()
}

// Localize is r with its Problem and Record said by lc.
func (r Result) Localize(lc *i18n.Localizer) Result {
	if r.ProblemMsg.ID != "" {
		r.Problem = lc.Msg(r.ProblemMsg)
	}
	if r.RecordMsg.ID != "" {
		r.Record = lc.Msg(r.RecordMsg)
	}
	return r
}

// Explain is the message for a user: what to create, what is there now.
func (r Result) Explain() string {
	var b strings.Builder
	if r.OK {
		fmt.Fprintf(&b, "%s points at this StackHub", r.Name)
	} else {
		fmt.Fprintf(&b, "%s does not point at this StackHub: %s", r.Name, r.Problem)
	}
	now := "nothing"
	if r.CNAME != "" {
		now = "CNAME " + r.CNAME
		if len(r.Addresses) > 0 {
			now += " → " + strings.Join(r.Addresses, ", ")
		}
	} else if len(r.Addresses) > 0 {
		now = strings.Join(r.Addresses, ", ")
	}
	fmt.Fprintf(&b, "\n  it resolves to: %s", now)
	fmt.Fprintf(&b, "\n  create this record at your DNS provider: %s", r.Record)
	if !r.OK {
		b.WriteString("\n  then run the command again (DNS changes can take a while to be seen); --force skips this check, e.g. for split-horizon DNS")
	}
	return b.String()
}

// Check resolves name with r and tells whether it points at the box, whose
// app host is appHost (inside baseDomain). A name points at the box when
// its CNAME chain ends at a host of baseDomain, or when it resolves to an
// address appHost resolves to.
func Check(ctx context.Context, r *net.Resolver, name, appHost, baseDomain string) Result {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	res := Result{Name: name, AppHost: appHost}
	if etld1, err := publicsuffix.EffectiveTLDPlusOne(name); err == nil && etld1 == name {
		res.Apex = true
	}
	box, boxErr := r.LookupHost(ctx, appHost)
	slices.Sort(box)
	res.BoxAddresses = box
	if res.Apex {
		if len(box) > 0 {
			var rec []string
			for _, a := range box {
				typ := "A"
				if strings.Contains(a, ":") {
					typ = "AAAA"
				}
				rec = append(rec, fmt.Sprintf("%s. %s %s", name, typ, a))
			}
			res.Record = strings.Join(rec, " and ")
		} else {
			res.RecordMsg = i18n.M("{{.Name}}. A <this box's public address> (an apex name cannot be a CNAME)", "Name", name)
			res.Record = res.RecordMsg.English()
		}
	} else {
		res.Record = fmt.Sprintf("%s. CNAME %s.", name, appHost)
	}
	if cname, err := r.LookupCNAME(ctx, name); err == nil {
		cname = strings.ToLower(strings.TrimSuffix(cname, "."))
		if cname != name {
			res.CNAME = cname
		}
	}
	addrs, err := r.LookupHost(ctx, name)
	slices.Sort(addrs)
	res.Addresses = addrs
	base := strings.ToLower(strings.TrimSuffix(baseDomain, "."))
	switch {
	case res.CNAME != "" && (res.CNAME == base || strings.HasSuffix(res.CNAME, "."+base)):
		res.OK = true
	case err != nil:
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			res.problem("the name does not exist in DNS yet")
		} else {
			res.problem("it could not be resolved: {{.Err}}", "Err", err)
		}
	case boxErr != nil:
		res.problem("the app's own address {{.Host}} could not be resolved to compare ({{.Err}})", "Host", appHost, "Err", boxErr)
	case slices.ContainsFunc(addrs, func(a string) bool { return slices.Contains(box, a) }):
		res.OK = true
	default:
		res.problem("it resolves to {{.Addresses}}, and this box is at {{.Box}}", "Addresses", strings.Join(addrs, ", "), "Box", strings.Join(box, ", "))
	}
	return res
}

// RefusedError is a name the check refused: Check says what the name
// resolves to now and which record to create.
type RefusedError struct {
	Check Result
}

func (e *RefusedError) Error() string { return e.Check.Explain() }

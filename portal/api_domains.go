// API: an app's custom domains, names of the user's own that serve the app
// too or redirect to its main address. The flow (may the app take the name,
// does its DNS point at the box, add it) is internal/platform's, the same
// as `stackhub apps domain` through the admin API:
//
//	GET    /api/v1/apps/{id}/domains[?dns=true]    the names (with their DNS state when asked)
//	GET    /api/v1/apps/{id}/domains/check?name=N  the DNS check of a new name
//	POST   /api/v1/apps/{id}/domains               {name, redirect, force}
//	DELETE /api/v1/apps/{id}/domains/{name}

package portal

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/internal/domains"
	"github.com/stackhub/stackhub/internal/i18n"
)

// DomainView is one custom domain of an app.
type DomainView struct {
	Name string `json:"name"`
	// Kind is "alias" (serves the app) or "redirect" (answers 308 to the
	// app's main address).
	Kind     string `json:"kind"`
	Redirect bool   `json:"redirect"`
	// Served is true when the router answers for the name now (it does
	// once the app runs).
	Served bool `json:"served"`
	// Certificate is the name's certificate in Caddy's storage; none until
	// the first visit obtains it.
	Certificate *Certificate `json:"certificate,omitempty"`
	// DNS is the name's DNS check, when the list was asked with dns=true.
	DNS *domains.Result `json:"dns,omitempty"`
}

// AppDomains is the answer of the domain endpoints.
type AppDomains struct {
	App string `json:"app"`
	// Host is the app's own address, which a CNAME points at.
	Host string `json:"host"`
	// Managed says where the app is declared; its domains are read-only
	// here then.
	Managed string       `json:"managed,omitempty"`
	Domains []DomainView `json:"domains"`
	// Check is the DNS check of a name just added (none when forced).
	Check *domains.Result `json:"check,omitempty"`
}

// DomainRequest is the body of POST /api/v1/apps/{id}/domains.
type DomainRequest struct {
	Name     string `json:"name"`
	Redirect bool   `json:"redirect"`
	// Force skips the DNS check (split-horizon DNS, a name not public yet).
	Force bool `json:"force"`
}

// appDomains describes the custom domains of rec.
func (p *Portal) appDomains(rec appctl.Record) AppDomains {
	var certs []Certificate
	if p.cfg.Certificates != nil {
		certs = p.cfg.Certificates()
	}
	out := AppDomains{App: rec.ID, Host: rec.Host, Managed: rec.Managed, Domains: []DomainView{}}
	for _, d := range rec.Domains {
		v := DomainView{Name: d.Name, Kind: "alias", Redirect: d.Redirect, Certificate: certificateFor(certs, d.Name)}
		if d.Redirect {
			v.Kind = "redirect"
		}
		_, v.Served = p.cfg.Registry.Lookup(d.Name)
		out.Domains = append(out.Domains, v)
	}
	return out
}

func (p *Portal) apiDomains(c *fiber.Ctx) error {
	st, err := p.status(c)
	if err != nil {
		return err
	}
	out := p.appDomains(st.Record)
	if c.QueryBool("dns") && len(out.Domains) > 0 {
		dns, err := p.plat().DomainsDNS(c.Context(), st.ID)
		if err != nil {
			return opError(err)
		}
		lc := p.localizer(c)
		for i, d := range out.Domains {
			if res, ok := dns[d.Name]; ok {
				res = res.Localize(lc)
				out.Domains[i].DNS = &res
			}
		}
	}
	return c.JSON(out)
}

// apiCheckDomain runs the DNS check of a name the app may take: 200 with
// the result whether it points at the box or not (ok says which).
func (p *Portal) apiCheckDomain(c *fiber.Ctx) error {
	res, err := p.plat().CheckDomain(c.Context(), c.Params("id"), c.Query("name"))
	if err != nil {
		return opError(err)
	}
	return c.JSON(res.Localize(p.localizer(c)))
}

// apiAddDomain adds a name after the DNS check; a name that does not point
// at the box is refused with 422, the check in the body (what it resolves
// to, which record to create), and nothing changes.
func (p *Portal) apiAddDomain(c *fiber.Ctx) error {
	var in DomainRequest
	if err := c.BodyParser(&in); err != nil {
		return bodyError(`{"name": "photos.example.org", "redirect": false, "force": false}`)
	}
	rec, check, err := p.plat().AddDomain(c.Context(), c.Params("id"), appctl.Domain{Name: in.Name, Redirect: in.Redirect}, in.Force)
	var refused *domains.RefusedError
	if errors.As(err, &refused) {
		lc := p.localizer(c)
		msg := refused.Error()
		if !english(lc) { // the first line of Explain; the check says the rest
			msg = lc.Msg(i18n.M("{{.Name}} does not point at this StackHub: {{.Problem}}", "Name", refused.Check.Name, "Problem", lc.Msg(refused.Check.ProblemMsg)))
		}
		return c.Status(fiber.StatusUnprocessableEntity).JSON(fiber.Map{"error": msg, "check": refused.Check.Localize(lc)})
	}
	if err != nil {
		return opError(err)
	}
	_, id, _ := sessionOf(c)
	p.cfg.Logf("portal: %s added the custom domain %s to %s (redirect %v, DNS check skipped %v)", id.User, in.Name, rec.ID, in.Redirect, in.Force)
	out := p.appDomains(rec)
	if check != nil {
		local := check.Localize(p.localizer(c))
		check = &local
	}
	out.Check = check
	return c.Status(fiber.StatusCreated).JSON(out)
}

func (p *Portal) apiRemoveDomain(c *fiber.Ctx) error {
	rec, err := p.plat().Apps.RemoveDomain(c.Params("id"), c.Params("name"))
	if err != nil {
		return opError(err)
	}
	_, id, _ := sessionOf(c)
	p.cfg.Logf("portal: %s removed the custom domain %s of %s", id.User, c.Params("name"), rec.ID)
	return c.JSON(p.appDomains(rec))
}

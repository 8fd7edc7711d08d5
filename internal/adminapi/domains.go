package adminapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/declare"
	"github.com/stackhub/stackhub/internal/domains"
	"github.com/stackhub/stackhub/internal/platform"
)

// Custom domains and declared apps:
//
//	GET    /stackhub/apps/{id}/domains          the app's custom domains
//	POST   /stackhub/apps/{id}/domains          add one (DomainRequest) → DomainAnswer
//	DELETE /stackhub/apps/{id}/domains/{name}   remove one
//	GET    /stackhub/declared                   progress of the declared apps' convergence
//	POST   /stackhub/declared/check             check declarations (DeclaredCheck), change nothing

// DomainRequest asks to add a custom domain to an app.
type DomainRequest struct {
	Name     string `json:"name"`
	Redirect bool   `json:"redirect,omitempty"`
	// Force skips the DNS check (split-horizon DNS, a name not public yet).
	Force bool `json:"force,omitempty"`
}

// DomainAnswer is the app's domains after a change, with the DNS check.
type DomainAnswer struct {
	Domains []appctl.Domain `json:"domains"`
	Check   *domains.Result `json:"check,omitempty"`
}

// DomainRefusedError is the body of a refused name: the check says why.
type DomainRefusedError struct {
	Error string          `json:"error"`
	Check *domains.Result `json:"check"`
}

func (s *server) domains(w http.ResponseWriter, r *http.Request, p *platform.Platform, parts []string) {
	id := parts[1]
	switch {
	case len(parts) == 3 && r.Method == http.MethodGet:
		ds, err := p.Apps.Domains(id)
		if err != nil {
			writeError(w, appctl.HTTPStatus(err), err)
			return
		}
		writeJSON(w, DomainAnswer{Domains: nonNil(ds)})
	case len(parts) == 3 && r.Method == http.MethodPost:
		var req DomainRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
			writeError(w, 400, fmt.Errorf("read domain request: %w", err))
			return
		}
		rec, check, err := p.AddDomain(r.Context(), id, appctl.Domain{Name: req.Name, Redirect: req.Redirect}, req.Force)
		var refused *domains.RefusedError
		if errors.As(err, &refused) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnprocessableEntity)
			json.NewEncoder(w).Encode(DomainRefusedError{Error: refused.Error(), Check: &refused.Check})
			return
		}
		if err != nil {
			writeError(w, appctl.HTTPStatus(err), err)
			return
		}
		writeJSON(w, DomainAnswer{Domains: nonNil(rec.Domains), Check: check})
	case len(parts) == 4 && r.Method == http.MethodDelete:
		rec, err := p.Apps.RemoveDomain(id, parts[3])
		if err != nil {
			writeError(w, appctl.HTTPStatus(err), err)
			return
		}
		writeJSON(w, DomainAnswer{Domains: nonNil(rec.Domains)})
	default:
		writeError(w, 404, fmt.Errorf("no API at %s %s", r.Method, r.URL.Path))
	}
}

func nonNil(ds []appctl.Domain) []appctl.Domain {
	if ds == nil {
		return []appctl.Domain{}
	}
	return ds
}

// Domains lists an app's custom domains.
func (c Client) Domains(id string) ([]appctl.Domain, error) {
	var a DomainAnswer
	err := c.call(http.MethodGet, "/stackhub/apps/"+url.PathEscape(id)+"/domains", nil, &a)
	return a.Domains, err
}

// AddDomain adds a custom domain to an app; a name refused by the DNS
// check comes back as an OperationError whose message explains it.
func (c Client) AddDomain(id string, req DomainRequest) (DomainAnswer, error) {
	var a DomainAnswer
	err := c.call(http.MethodPost, "/stackhub/apps/"+url.PathEscape(id)+"/domains", req, &a)
	return a, err
}

// RemoveDomain removes a custom domain of an app.
func (c Client) RemoveDomain(id, name string) ([]appctl.Domain, error) {
	var a DomainAnswer
	err := c.call(http.MethodDelete, "/stackhub/apps/"+url.PathEscape(id)+"/domains/"+url.PathEscape(name), nil, &a)
	return a.Domains, err
}

// Declared returns the progress of the declared apps' convergence.
func (c Client) Declared() (declare.Status, error) {
	var st declare.Status
	return st, c.call(http.MethodGet, "/stackhub/declared", nil, &st)
}

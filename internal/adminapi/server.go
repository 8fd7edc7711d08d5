// Package adminapi is StackHub's management API, served under /stackhub/ on
// Caddy's admin endpoint and used by the `stackhub` CLI.
//
// Long operations (install, start, stop, restart, remove) answer with a
// stream of progress events, one JSON object per line (NDJSON), so the CLI
// can show pull and start progress as it happens. The last line is the
// event with phase "done" or "error". An operation goes on when the client
// disconnects: an install is not cut in half because a terminal closed.
//
//	GET    /stackhub/apps                     installed apps and orphans
//	POST   /stackhub/apps                     install (InstallRequest) → events
//	GET    /stackhub/apps/{id}                one app
//	POST   /stackhub/apps/{id}/start|stop|restart → events
//	DELETE /stackhub/apps/{id}?keep_data=true remove → events
//	GET    /stackhub/apps/{id}/logs?follow=true&tail=N  text stream
//	GET    /stackhub/store/apps?q=WORD        catalog search
//	GET    /stackhub/store/apps/{ref}         one catalog app
//	GET    /stackhub/stores                   stores and their status
//	POST   /stackhub/stores                   add a store (platform.StoreConfig)
//	DELETE /stackhub/stores/{name}            remove a store added at run time
//	POST   /stackhub/stores/refresh           refresh every store now
//	GET    /stackhub/dns/records              what the DNS zone answers now
//	GET    /stackhub/nodes …                  Swarm nodes (nodes.go)
package adminapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/internal/platform"
	"github.com/stackhub/stackhub/internal/registry"
	"github.com/stackhub/stackhub/stores"
	"github.com/stackhub/stackhub/swarm"
)

// InstallRequest asks to install an app: from the catalog (Ref), or the
// user's own app sent whole by the CLI (Local).
type InstallRequest struct {
	Ref            string            `json:"ref,omitempty"`
	Local          *LocalApp         `json:"local,omitempty"`
	Values         map[string]string `json:"values,omitempty"`
	Subdomain      string            `json:"subdomain,omitempty"`
	ApproveHazards bool              `json:"approve_hazards,omitempty"`
	PublishPorts   bool              `json:"publish_ports,omitempty"`
	Policy         *registry.Policy  `json:"policy,omitempty"`
	// WithDeps agrees to install the apps the app requires that are not
	// installed yet; without it, such an install fails listing them.
	WithDeps bool `json:"with_deps,omitempty"`

	// Approve names the hazards approved one by one ("privileged" …).
	Approve []string `json:"approve,omitempty"`

	// Placement pins the app on a swarm (--node, --constraint).
	Placement swarm.Placement `json:"placement,omitempty"`
}

// LocalApp carries an app read from the user's disk, files included (the
// App model leaves them out of its JSON).
type LocalApp struct {
	App     stores.App        `json:"app"`
	Compose []byte            `json:"compose"`
	Files   map[string][]byte `json:"files,omitempty"`
}

// AppList is the answer to GET /stackhub/apps.
type AppList struct {
	Apps    []appctl.AppStatus `json:"apps"`
	Orphans []string           `json:"orphans,omitempty"`
}

// Handler serves the API for the platform p returns (nil while it starts).
func Handler(p func() *platform.Platform) http.Handler {
	return guard(&server{platform: p})
}

type server struct {
	platform func() *platform.Platform
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := s.platform()
	if p == nil {
		writeError(w, http.StatusServiceUnavailable, errors.New("StackHub is starting or not configured: the stackhub app is not running"))
		return
	}
	path := strings.Trim(strings.TrimPrefix(r.URL.Path, "/stackhub"), "/")
	parts := strings.Split(path, "/")
	if s.serveBackup(w, r, p, parts) { // backups, restores, clones, updates: backup.go
		return
	}
	switch {
	case path == "apps" && r.Method == http.MethodGet:
		list, err := p.Apps.List(r.Context())
		if err != nil {
			writeError(w, 500, err)
			return
		}
		writeJSON(w, AppList{Apps: list, Orphans: p.Apps.Orphans()})
	case path == "apps" && r.Method == http.MethodPost:
		s.install(w, r, p)
	case (len(parts) == 3 || len(parts) == 4) && parts[0] == "apps" && parts[2] == "domains":
		s.domains(w, r, p, parts)
	case path == "declared" && r.Method == http.MethodGet:
		writeJSON(w, p.Declared.Status())
	case path == "declared/check" && r.Method == http.MethodPost:
		s.checkDeclared(w, r, p) // declared_check.go
	case len(parts) == 2 && parts[0] == "apps" && r.Method == http.MethodGet:
		st, err := p.Apps.Status(r.Context(), parts[1])
		if err != nil {
			writeError(w, appctl.HTTPStatus(err), err)
			return
		}
		writeJSON(w, st)
	case len(parts) == 2 && parts[0] == "apps" && r.Method == http.MethodDelete:
		keep, _ := strconv.ParseBool(r.URL.Query().Get("keep_data"))
		stream(w, r, func(ctx context.Context, progress func(appctl.Event)) error {
			return p.Apps.Remove(ctx, parts[1], keep, progress)
		})
	case len(parts) == 3 && parts[0] == "apps" && parts[2] == "move" && r.Method == http.MethodPost:
		s.move(w, r, p, parts[1]) // nodes.go
	case len(parts) == 3 && parts[0] == "apps" && r.Method == http.MethodPost:
		var op func(context.Context, string, func(appctl.Event)) error
		switch parts[2] {
		case "start":
			op = p.Apps.Start
		case "stop":
			op = p.Apps.Stop
		case "restart":
			op = p.Apps.Restart
		default:
			writeError(w, 404, fmt.Errorf("no operation %q: use start, stop or restart", parts[2]))
			return
		}
		stream(w, r, func(ctx context.Context, progress func(appctl.Event)) error {
			return op(ctx, parts[1], progress)
		})
	case len(parts) == 3 && parts[0] == "apps" && parts[2] == "logs" && r.Method == http.MethodGet:
		s.logs(w, r, p, parts[1])
	case path == "dns/records" && r.Method == http.MethodGet:
		dnsRecords(w)
	case parts[0] == "nodes": // Swarm nodes: nodes.go
		s.nodes(w, r, p, parts)
	case path == "stores" && r.Method == http.MethodGet:
		writeJSON(w, p.Catalog.Status())
	case path == "stores" && r.Method == http.MethodPost:
		var sc platform.StoreConfig
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&sc); err != nil {
			writeError(w, 400, fmt.Errorf("read store: %w", err))
			return
		}
		st, err := p.AddStore(r.Context(), sc)
		if err != nil {
			writeError(w, 400, err)
			return
		}
		writeJSON(w, st)
	case path == "stores/refresh" && r.Method == http.MethodPost:
		p.Catalog.Refresh(r.Context()) // each store's outcome is in its status
		writeJSON(w, p.Catalog.Status())
	case len(parts) == 2 && parts[0] == "stores" && r.Method == http.MethodDelete:
		if err := p.RemoveStore(parts[1]); err != nil {
			writeError(w, 400, err)
			return
		}
		writeJSON(w, p.Catalog.Status())
	case path == "store/apps" && r.Method == http.MethodGet:
		q := r.URL.Query()
		apps := p.Catalog.Search(q.Get("q"), q.Get("category"))
		if apps == nil {
			apps = []stores.App{}
		}
		writeJSON(w, apps)
	case len(parts) >= 3 && parts[0] == "store" && parts[1] == "apps" && r.Method == http.MethodGet:
		app, err := p.Catalog.Find(strings.Join(parts[2:], "/"))
		if err != nil {
			writeError(w, 404, err)
			return
		}
		writeJSON(w, app)
	default:
		writeError(w, 404, fmt.Errorf("no API at %s %s", r.Method, r.URL.Path))
	}
}

func (s *server) install(w http.ResponseWriter, r *http.Request, p *platform.Platform) {
	var req InstallRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<20)).Decode(&req); err != nil {
		writeError(w, 400, fmt.Errorf("read install request: %w", err))
		return
	}
	var app stores.App
	switch {
	case req.Local != nil:
		app = req.Local.App
		app.Compose, app.Files = req.Local.Compose, req.Local.Files
	case req.Ref != "":
		var err error
		if app, err = p.Resolve(req.Ref); err != nil {
			writeError(w, 404, err)
			return
		}
	default:
		writeError(w, 400, errors.New("install: name an app of the store, or the path of an app folder or compose file"))
		return
	}
	if (req.Placement.Node != "" || len(req.Placement.Constraints) > 0) && !p.Apps.OnSwarm() {
		writeError(w, http.StatusConflict, fmt.Errorf("install %s: --node and --constraint place apps on a Docker Swarm: %w", app.ID, swarm.ErrNotSwarm))
		return
	}
	required, err := requiredApps(p, app, req.WithDeps)
	if err != nil {
		writeError(w, appctl.HTTPStatus(err), err)
		return
	}
	stream(w, r, func(ctx context.Context, progress func(appctl.Event)) error {
		_, err := p.Apps.InstallWithRequired(ctx, app, required, appctl.InstallOptions{
			Values: req.Values, Subdomain: req.Subdomain, ApproveHazards: req.ApproveHazards, ApproveHazardNames: req.Approve,
			PublishPorts: req.PublishPorts, Policy: req.Policy, Placement: req.Placement,
		}, progress)
		return err
	})
}

func (s *server) logs(w http.ResponseWriter, r *http.Request, p *platform.Platform, id string) {
	if _, err := p.Apps.Status(r.Context(), id); err != nil {
		// A failed install left no app, but its evidence.
		if f, ok := p.Apps.LastInstallFailure(id); ok && errors.Is(err, appctl.ErrNotInstalled) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			io.WriteString(w, f.Report())
			return
		}
		writeError(w, appctl.HTTPStatus(err), err)
		return
	}
	follow, _ := strconv.ParseBool(r.URL.Query().Get("follow"))
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	fw := &flushWriter{w: w}
	if err := p.Apps.Logs(r.Context(), id, appctl.LogOptions{Follow: follow, Tail: r.URL.Query().Get("tail")}, fw); err != nil && r.Context().Err() == nil {
		fmt.Fprintf(fw, "error: %v\n", err)
	}
}

// stream runs op, writing its progress events as NDJSON and flushing each.
// op runs detached from the request: it finishes even if the client leaves.
func stream(w http.ResponseWriter, r *http.Request, op func(context.Context, func(appctl.Event)) error) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	var mu sync.Mutex
	gone := false
	enc := json.NewEncoder(w)
	emit := func(e appctl.Event) {
		mu.Lock()
		defer mu.Unlock()
		if gone {
			return
		}
		if err := enc.Encode(e); err != nil {
			gone = true
			return
		}
		// The admin server wraps the writer; the controller finds its Flush.
		http.NewResponseController(w).Flush()
	}
	done := make(chan error, 1)
	go func() { done <- op(context.WithoutCancel(r.Context()), emit) }()
	select {
	case err := <-done:
		if err != nil {
			emit(appctl.Event{Time: time.Now(), Phase: appctl.PhaseError, Code: appctl.HTTPStatus(err), Message: err.Error()})
		}
	case <-r.Context().Done():
		mu.Lock()
		gone = true
		mu.Unlock()
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// APIError is the JSON body of a failed request.
type APIError struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, status int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(APIError{Error: err.Error()})
}

type flushWriter struct {
	w http.ResponseWriter
}

func (f *flushWriter) Write(b []byte) (int, error) {
	n, err := f.w.Write(b)
	http.NewResponseController(f.w).Flush()
	return n, err
}

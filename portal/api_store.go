// API: the stores (list, add, refresh, remove), their apps (search, detail
// with images, ports, volumes and hazards in plain words), the subdomain
// check and installing (from a store, a pasted compose file or a folder).

package portal

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/internal/i18n"
	"github.com/stackhub/stackhub/internal/platform"
	"github.com/stackhub/stackhub/internal/registry"
	"github.com/stackhub/stackhub/stores"
)

func (p *Portal) apiStores(c *fiber.Ctx) error {
	return c.JSON(p.plat().Catalog.Status())
}

func (p *Portal) apiAddStore(c *fiber.Ctx) error {
	var sc platform.StoreConfig
	if err := c.BodyParser(&sc); err != nil {
		return bodyError(`a store {"name", "location", "format"}`)
	}
	sc.Name, sc.Location = strings.TrimSpace(sc.Name), strings.TrimSpace(sc.Location)
	if !stores.ValidID(sc.Name) {
		return fiber.NewError(fiber.StatusBadRequest, "a store's name is lower case letters, digits and '-', e.g. family-apps")
	}
	if sc.Location == "" {
		return fiber.NewError(fiber.StatusBadRequest, "give the store's location: an archive URL (https://…zip or .tar.gz) or a folder on this machine")
	}
	st, err := p.plat().AddStore(c.Context(), sc)
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	return c.Status(fiber.StatusCreated).JSON(st)
}

func (p *Portal) apiRefreshStores(c *fiber.Ctx) error {
	p.plat().Catalog.Refresh(c.Context()) // each store's outcome is in its status
	return c.JSON(p.plat().Catalog.Status())
}

func (p *Portal) apiRemoveStore(c *fiber.Ctx) error {
	if err := p.plat().RemoveStore(c.Params("name")); err != nil {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	return c.JSON(p.plat().Catalog.Status())
}

// StoreApp is an app of a store as the store's list shows it.
type StoreApp struct {
	Ref         string   `json:"ref"` // store/id
	ID          string   `json:"id"`
	Store       string   `json:"store"`
	Name        string   `json:"name"`
	Tagline     string   `json:"tagline,omitempty"`
	Icon        string   `json:"icon"`
	Version     string   `json:"version,omitempty"`
	Categories  []string `json:"categories,omitempty"`
	Hazards     int      `json:"hazards,omitempty"`
	Unavailable string   `json:"unavailable,omitempty"`
	Installed   bool     `json:"installed,omitempty"`
}

// StoreList is the answer to GET /api/v1/store/apps.
type StoreList struct {
	Apps       []StoreApp `json:"apps"`
	Stores     []string   `json:"stores"`
	Categories []string   `json:"categories"`
}

func (p *Portal) installedIDs(ctx context.Context) map[string]bool {
	out := map[string]bool{}
	if list, err := p.plat().Apps.List(ctx); err == nil {
		for _, st := range list {
			if st.State != appctl.StateFailed {
				out[st.ID] = true
			}
		}
	}
	return out
}

// storeList lists the store's apps matching q, category and store, their
// taglines in lang.
func (p *Portal) storeList(ctx context.Context, lang, q, category, store string) StoreList {
	cat := p.plat().Catalog
	out := StoreList{Apps: []StoreApp{}, Stores: []string{}, Categories: []string{}}
	for _, st := range cat.Status() {
		out.Stores = append(out.Stores, st.Name)
	}
	cats := map[string]bool{}
	for _, a := range cat.Apps() {
		if store == "" || a.Store == store {
			for _, c := range a.Categories {
				cats[strings.ToLower(c)] = true
			}
		}
	}
	for c := range cats {
		out.Categories = append(out.Categories, c)
	}
	sort.Strings(out.Categories)
	installed := p.installedIDs(ctx)
	for _, a := range cat.Search(q, category) {
		if store != "" && a.Store != store {
			continue
		}
		tagline, _ := a.Text(lang)
		out.Apps = append(out.Apps, StoreApp{
			Ref: a.Store + "/" + a.ID, ID: a.ID, Store: a.Store, Name: orDefault(a.Name, a.ID), Tagline: tagline,
			Icon: iconPath(a.Store, a.ID), Version: a.Version, Categories: a.Categories, Hazards: len(a.Hazards),
			Unavailable: a.Unavailable, Installed: installed[a.ID],
		})
	}
	return out
}

func (p *Portal) apiStoreApps(c *fiber.Ctx) error {
	return c.JSON(p.storeList(c.Context(), p.lang(c), c.Query("q"), c.Query("category"), c.Query("store")))
}

// StoreAppDetail is everything the app's store page shows.
type StoreAppDetail struct {
	stores.App
	Ref       string          `json:"ref"`
	IconURL   string          `json:"icon_url"`
	Images    []string        `json:"images"`
	Volumes   []VolumeView    `json:"volumes"`
	Services  []string        `json:"services"`
	Hazards   []HazardView    `json:"hazards"`
	Fields    []FieldView     `json:"fields"`
	Installed bool            `json:"installed"`
	Domain    string          `json:"domain"`
	Policy    registry.Policy `json:"default_policy"`
}

// VolumeView is storage an app uses.
type VolumeView struct {
	Service string `json:"service"`
	// Kind is "volume" (a named Docker volume), "data" (a folder in the
	// app's data folder) or "host" (a path of the machine, a hazard when
	// outside the app's folder).
	Kind   string `json:"kind"`
	Source string `json:"source"`
	Target string `json:"target"`
}

// HazardView is a hazard with its meaning in plain words.
type HazardView struct {
	stores.Hazard
	Plain string `json:"plain"`
	// plain is Plain as a catalog message, for the page's language.
	plain i18n.Msg
}

// FieldView is a form field with the value the form starts with.
type FieldView struct {
	stores.Field
	Value string `json:"value"`
}

func (p *Portal) storeApp(c *fiber.Ctx) (stores.App, error) {
	app, err := p.plat().Catalog.Find(c.Params("store") + "/" + c.Params("id"))
	if err != nil {
		return app, &statusError{code: fiber.StatusNotFound, err: err}
	}
	return app, nil
}

func (p *Portal) apiStoreApp(c *fiber.Ctx) error {
	app, err := p.storeApp(c)
	if err != nil {
		return err
	}
	d := p.storeAppDetail(c.Context(), app)
	d.Tagline, d.Description = app.Text(p.lang(c))
	localStoreApp(p.localizer(c), &d)
	return c.JSON(d)
}

func (p *Portal) storeAppDetail(ctx context.Context, app stores.App) StoreAppDetail {
	d := StoreAppDetail{App: app, Ref: app.Store + "/" + app.ID, IconURL: iconPath(app.Store, app.ID),
		Images: []string{}, Volumes: []VolumeView{}, Services: []string{}, Hazards: []HazardView{}, Fields: []FieldView{},
		Domain: p.cfg.Domain, Policy: registry.Policy{Access: registry.Private}}
	d.Installed = p.installedIDs(ctx)[app.ID]
	if proj, err := stores.LoadProject(ctx, app, stores.ExampleEnv(app)); err == nil {
		for _, name := range proj.ServiceNames() {
			svc := proj.Services[name]
			d.Services = append(d.Services, name)
			if svc.Image != "" && !slices.Contains(d.Images, svc.Image) {
				d.Images = append(d.Images, svc.Image)
			}
			for _, v := range svc.Volumes {
				kind := "volume"
				src := v.Source
				if v.Type == "bind" {
					kind = "host"
					if rel, ok := strings.CutPrefix(src, exampleAppDir); ok {
						kind, src = "data", "app folder"+rel
					}
				} else if v.Type == "tmpfs" {
					continue
				}
				d.Volumes = append(d.Volumes, VolumeView{Service: name, Kind: kind, Source: src, Target: v.Target})
			}
		}
	}
	for _, h := range app.Hazards {
		plain := plainHazard(h)
		d.Hazards = append(d.Hazards, HazardView{Hazard: h, Plain: plain.English(), plain: plain})
	}
	for _, f := range app.Fields {
		v := f.Default
		if v == "" && f.Random {
			v = f.RandomValue()
		}
		d.Fields = append(d.Fields, FieldView{Field: f, Value: v})
	}
	return d
}

// exampleAppDir is the app folder in stores.ExampleEnv's variables.
const exampleAppDir = "/var/lib/stackhub/apps/example"

// plainHazard says what a hazardous setting lets the app do, for someone
// who does not know Docker.
func plainHazard(h stores.Hazard) i18n.Msg {
	s := strings.ToLower(h.Setting)
	switch {
	case strings.Contains(s, "docker.sock"):
		return i18n.M("It can control Docker on this machine: start any container, read every app's data. Equivalent to full control of the machine.")
	case strings.Contains(s, "privileged"):
		return i18n.M("It runs with all of the machine's privileges: it can read and change anything on the machine.")
	case strings.Contains(s, "network_mode: host") || strings.Contains(s, "host network"):
		return i18n.M("It shares the machine's network: it can listen on any port and reach services meant only for this machine.")
	case strings.Contains(s, "pid") || strings.Contains(s, "ipc"):
		return i18n.M("It can see and signal the machine's other programs.")
	case strings.Contains(s, "cap_add"):
		return i18n.M("It gets extra kernel powers ({{.Setting}}) beyond what apps normally have.", "Setting", h.Setting)
	case strings.Contains(s, "device"):
		return i18n.M("It gets direct access to hardware of the machine ({{.Setting}}).", "Setting", h.Setting)
	case strings.Contains(s, "volume") || strings.Contains(s, "bind"):
		return i18n.M("It can read and change files of the machine outside its own folder ({{.Setting}}).", "Setting", h.Setting)
	}
	return i18n.M("It asks for a setting that weakens the isolation between the app and the machine: {{.Reason}}.", "Reason", h.Reason)
}

// SubdomainCheck is the answer to GET /api/v1/subdomain.
type SubdomainCheck struct {
	Name      string `json:"name"`
	Host      string `json:"host"`
	Available bool   `json:"available"`
	Message   string `json:"message,omitempty"`
}

func (p *Portal) apiSubdomain(c *fiber.Ctx) error {
	name := strings.ToLower(strings.TrimSpace(c.Query("name")))
	if name == "" {
		return fiber.NewError(fiber.StatusBadRequest, "give the subdomain to check: ?name=…")
	}
	out := SubdomainCheck{Name: name, Host: name + "." + p.cfg.Domain, Available: true}
	if err := p.plat().Apps.CheckSubdomain(c.Query("app"), name); err != nil {
		out.Available, out.Message = false, errorText(p.localizer(c), err, err.Error())
	}
	return c.JSON(out)
}

// InstallRequest is the body of POST /api/v1/install: one of Ref (a store
// app), Compose (the text of the user's own compose file, with ID) or
// Folder (an app folder or compose file on this machine).
type InstallRequest struct {
	Ref            string            `json:"ref,omitempty"`
	Compose        string            `json:"compose,omitempty"`
	ID             string            `json:"id,omitempty"`
	Folder         string            `json:"folder,omitempty"`
	Values         map[string]string `json:"values,omitempty"`
	Subdomain      string            `json:"subdomain,omitempty"`
	ApproveHazards bool              `json:"approve_hazards,omitempty"`
	PublishPorts   bool              `json:"publish_ports,omitempty"`
	Policy         *registry.Policy  `json:"policy,omitempty"`
}

// ComposeError is the 400 answer for a compose file that does not load:
// the line and key it concerns, when the message names them.
type ComposeError struct {
	Error string `json:"error"`
	Line  int    `json:"line,omitempty"`
	Key   string `json:"key,omitempty"`
}

var (
	lineInError = regexp.MustCompile(`line (\d+)`)
	keyInError  = regexp.MustCompile(`((?:services|volumes|networks|x-stackhub)(?:\.[A-Za-z0-9_\-\[\]]+)+)`)
)

func composeError(c *fiber.Ctx, err error) error {
	ce := ComposeError{Error: err.Error()}
	if m := lineInError.FindStringSubmatch(ce.Error); m != nil {
		ce.Line, _ = strconv.Atoi(m[1])
	}
	if m := keyInError.FindStringSubmatch(ce.Error); m != nil {
		ce.Key = m[1]
	}
	return c.Status(fiber.StatusBadRequest).JSON(ce)
}

// ownApp reads the user's own app from pasted compose text.
func ownApp(id, compose string) (stores.App, error) {
	dir, err := os.MkdirTemp("", "stackhub-own-")
	if err != nil {
		return stores.App{}, err
	}
	defer os.RemoveAll(dir)
	appDir := filepath.Join(dir, id)
	if err := os.Mkdir(appDir, 0o700); err != nil {
		return stores.App{}, err
	}
	if err := os.WriteFile(filepath.Join(appDir, "compose.yaml"), []byte(compose), 0o600); err != nil {
		return stores.App{}, err
	}
	return stores.ReadPath(appDir)
}

func (p *Portal) apiInstall(c *fiber.Ctx) error {
	var req InstallRequest
	if err := c.BodyParser(&req); err != nil {
		return bodyError("an install request")
	}
	var app stores.App
	var err error
	switch {
	case req.Ref != "":
		if app, err = p.plat().Resolve(req.Ref); err != nil {
			return &statusError{code: fiber.StatusNotFound, err: err}
		}
	case req.Compose != "":
		if !stores.ValidID(req.ID) {
			return fiber.NewError(fiber.StatusBadRequest, "give your app an id: lower case letters, digits and '-' (it is also its subdomain)")
		}
		if app, err = ownApp(req.ID, req.Compose); err != nil {
			return composeError(c, err)
		}
	case req.Folder != "":
		if !filepath.IsAbs(req.Folder) {
			return fiber.NewError(fiber.StatusBadRequest, "give the full path of the app's folder or compose file on this machine, e.g. /srv/apps/notes")
		}
		if app, err = stores.ReadPath(req.Folder); err != nil {
			return composeError(c, err)
		}
	default:
		return fiber.NewError(fiber.StatusBadRequest, "name a store app (ref), paste a compose file (compose and id) or give a folder on this machine (folder)")
	}
	if app.Unavailable != "" {
		return &statusError{code: fiber.StatusBadRequest, err: i18n.Errorf(nil, "{{.Name}} cannot be installed here: {{.Reason}}", "Name", app.Name, "Reason", app.Unavailable)}
	}
	if st, err := p.plat().Apps.Status(c.Context(), app.ID); err == nil && st.State != appctl.StateFailed {
		return &statusError{code: fiber.StatusConflict, err: i18n.Errorf(nil, "{{.App}} is already installed: open its page to manage it, or remove it first", "App", app.ID)}
	}
	sub := req.Subdomain
	if sub == "" {
		sub = app.ID
	}
	if err := p.plat().Apps.CheckSubdomain(app.ID, sub); err != nil {
		return opError(err)
	}
	if len(app.Hazards) > 0 && !req.ApproveHazards {
		// The hazards in the request's language (Hazard.String in English).
		list := localHazards(p.localizer(c), app.Hazards, "", "; ")
		return &statusError{code: fiber.StatusForbidden, err: i18n.Errorf(nil, "{{.App}} needs your approval of settings that endanger this machine: {{.Hazards}}", "App", app.ID, "Hazards", list)}
	}
	if err := appctl.CheckValues(app, req.Values); err != nil {
		return opError(err)
	}
	return p.startOp(c, app.ID, "install", func(ctx context.Context, progress func(appctl.Event)) error {
		since := time.Now().UTC().Round(0)
		_, err := p.plat().Apps.Install(ctx, app, appctl.InstallOptions{
			Values: req.Values, Subdomain: req.Subdomain, ApproveHazards: req.ApproveHazards,
			PublishPorts: req.PublishPorts, Policy: req.Policy,
		}, progress)
		return p.failureEvidence(app.ID, since, err, progress) // install_failure.go
	})
}

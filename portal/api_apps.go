// API: installed apps (list, info, start/stop/restart, remove, settings,
// access policy, logs, resource use) and long operations.

package portal

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/internal/auth"
	"github.com/stackhub/stackhub/internal/registry"
	"github.com/stackhub/stackhub/stores"
)

// AppCard is an app as the home page shows it.
type AppCard struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Host string `json:"host"`
	URL  string `json:"url"`
	// Link opens the app through the portal's hand-over (signs the user
	// in to the app host).
	Link string `json:"link"`
	Icon string `json:"icon"`
	// Status sums the app up: installing, starting, running, unhealthy,
	// stopping, stopped, updating, backing up, restoring, removing, failed.
	Status    string         `json:"status"`
	Health    string         `json:"health,omitempty"`
	Store     string         `json:"store,omitempty"`
	Version   string         `json:"version,omitempty"`
	Operation *OperationView `json:"operation,omitempty"`
	// Nodes are the Swarm nodes the app runs on (only when StackHub runs
	// its apps on a Swarm; nodes.go).
	Nodes []string `json:"nodes,omitempty"`

	// UpdateTo is the version the app's store offers, when newer than the
	// installed one (api_backup.go); BackupFailed says the last backup
	// failed. Both are badges on the home page, for admins.
	UpdateTo     string `json:"update_to,omitempty"`
	BackupFailed bool   `json:"backup_failed,omitempty"`
	// NoWebUI marks a service app: no web page to open, Address is where
	// to connect.
	NoWebUI bool   `json:"no_web_ui,omitempty"`
	Address string `json:"address,omitempty"`
}

// status sums an app up in one word, an operation in progress first.
func appStatusWord(st appctl.AppStatus, op *OperationView) string {
	if op != nil && !op.Done {
		switch op.Kind {
		case "install":
			return "installing"
		case "start", "restart":
			return "starting"
		case "stop":
			return "stopping"
		case "remove":
			return "removing"
		case "backup":
			return "backing up"
		case "restore":
			return "restoring"
		default:
			return "updating"
		}
	}
	switch st.State {
	case appctl.StateInstalling:
		return "installing"
	case appctl.StateRemoving:
		return "removing"
	case appctl.StateFailed:
		return "failed"
	}
	for _, c := range st.Containers {
		if c.Health == "unhealthy" {
			return "unhealthy"
		}
	}
	switch {
	case st.Health == "running":
		return "running"
	case st.Health == "stopped" || st.Health == "no containers" || !st.Running:
		return "stopped"
	case strings.HasPrefix(st.Health, "partial"):
		return "unhealthy"
	}
	return "unhealthy"
}

func (p *Portal) card(st appctl.AppStatus, ops []OperationView) AppCard {
	var op *OperationView
	for i := range ops {
		if ops[i].App == st.ID && !ops[i].Done {
			op = &ops[i]
			break
		}
	}
	store := st.Store
	if store == "" {
		store = "local"
	}
	c := AppCard{
		ID: st.ID, Name: orDefault(st.Name, st.ID), Host: st.Host, URL: st.URL,
		Link: "/auth/app?rd=" + url.QueryEscape(st.URL), Icon: iconPath(store, st.ID),
		Status: appStatusWord(st, op), Health: st.Health, Store: st.Store, Version: st.Version, Operation: op,
	}
	if st.Update != nil {
		c.UpdateTo = st.Update.To
	}
	c.BackupFailed = st.LastBackup != nil && st.LastBackup.Error != ""
	if st.NoWebUI {
		c.NoWebUI, c.Link = true, ""
		if len(st.Addresses) > 0 {
			c.Address = st.Addresses[0]
		}
	}
	return c
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// cards lists the apps id may open (every app for an admin), plus, for
// admins, installs in progress that have no record yet.
func (p *Portal) cards(ctx context.Context, id auth.Identity) ([]AppCard, error) {
	list, err := p.plat().Apps.List(ctx)
	if err != nil {
		return nil, err
	}
	ops := p.ops.views("", true)
	on := p.runsOn(ctx)
	out := []AppCard{}
	seen := map[string]bool{}
	for _, st := range list {
		if !id.IsAdmin() {
			e, ok := p.cfg.Registry.Lookup(st.Host)
			if !ok || st.State != appctl.StateInstalled || !auth.Allowed(id, e.Policy, "/") {
				continue
			}
		}
		seen[st.ID] = true
		card := p.card(st, ops)
		card.Nodes = on[st.ID]
		if !id.IsAdmin() { // updates and backups are admins' business
			card.UpdateTo, card.BackupFailed = "", false
		}
		out = append(out, card)
	}
	if id.IsAdmin() {
		for i, op := range ops {
			if op.Kind == "install" && !seen[op.App] {
				seen[op.App] = true
				out = append(out, AppCard{ID: op.App, Name: op.App, Icon: iconPath("local", op.App), Status: "installing", Operation: &ops[i]})
			}
		}
	}
	return out, nil
}

func (p *Portal) apiApps(c *fiber.Ctx) error {
	_, id, _ := sessionOf(c)
	list, err := p.cards(c.Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(list)
}

// AppDetail is the answer to GET /api/v1/apps/{id}.
type AppDetail struct {
	appctl.AppStatus
	Card       AppCard         `json:"card"`
	Hazards    []stores.Hazard `json:"hazards,omitempty"`
	Operations []OperationView `json:"operations"`
	// Events are the app's recent events, newest first (app_events.go).
	Events []appctl.AppEvent `json:"events"`
	// BackupRepo says a backup repository is set up (api_backup.go).
	BackupRepo bool `json:"backup_repository"`
}

func (p *Portal) status(c *fiber.Ctx) (appctl.AppStatus, error) {
	st, err := p.plat().Apps.Status(c.Context(), c.Params("id"))
	if err != nil {
		return st, opError(err)
	}
	return st, nil
}

func (p *Portal) apiApp(c *fiber.Ctx) error {
	d, err := p.appDetail(c.Context(), c.Params("id"))
	if err != nil {
		return opError(err)
	}
	localDetail(p.localizer(c), &d)
	return c.JSON(d)
}

func (p *Portal) appDetail(ctx context.Context, id string) (AppDetail, error) {
	st, err := p.plat().Apps.Status(ctx, id)
	if err != nil {
		return AppDetail{}, err
	}
	d := AppDetail{AppStatus: st, Operations: p.ops.views(id, false)}
	d.Card = p.card(st, d.Operations)
	d.Card.Nodes = p.runsOn(ctx)[id]
	d.Events = p.appEvents(id)
	d.BackupRepo = p.repositoryConfigured()
	if st.ApprovedHazards {
		if h, err := stores.Hazards(p.source(st)); err == nil {
			d.Hazards = h
		}
	}
	return d, nil
}

// source returns the compose file an app was installed from ("" when the
// record is gone).
func (p *Portal) source(st appctl.AppStatus) []byte {
	b, _ := os.ReadFile(filepath.Join(p.plat().Config.DataDir, "apps", st.ID, "source", "compose.yaml"))
	return b
}

// startOp starts a long operation for the signed-in admin and streams its
// progress.
func (p *Portal) startOp(c *fiber.Ctx, app, kind string, fn func(context.Context, func(appctl.Event)) error) error {
	_, id, _ := sessionOf(c)
	op := p.ops.start(app, kind, id.User, fn)
	c.Set("X-Operation-Id", op.ID)
	lc := p.localizer(c)
	return sse(c, func(send sendFunc) { followOp(op, lc, send) })
}

func (p *Portal) apiOperate(verb string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		st, err := p.status(c)
		if err != nil {
			return err
		}
		apps := p.plat().Apps
		fn := map[string]func(context.Context, string, func(appctl.Event)) error{
			"start": apps.Start, "stop": apps.Stop, "restart": apps.Restart,
		}[verb]
		return p.startOp(c, st.ID, verb, func(ctx context.Context, progress func(appctl.Event)) error {
			return fn(ctx, st.ID, progress)
		})
	}
}

func (p *Portal) apiRemove(c *fiber.Ctx) error {
	st, err := p.status(c)
	if err != nil {
		return err
	}
	if err := appctl.RefuseManaged(st.Record, "remove its block"); err != nil {
		return opError(err)
	}
	keep := false
	if v := c.Query("keep_data"); v != "" {
		if keep, err = strconv.ParseBool(v); err != nil {
			return fiber.NewError(fiber.StatusBadRequest, "keep_data must be true or false")
		}
	}
	return p.startOp(c, st.ID, "remove", func(ctx context.Context, progress func(appctl.Event)) error {
		return p.plat().Apps.Remove(ctx, st.ID, keep, progress)
	})
}

// Settings is an app's form and its current values (secrets masked).
type Settings struct {
	Fields  []stores.Field    `json:"fields"`
	Values  map[string]string `json:"values"`
	Secrets []string          `json:"secrets,omitempty"`
}

// fieldsOf returns the form of an installed app: its store's, or, for an
// app without one (a user's own), a text field per value it was given.
func (p *Portal) fieldsOf(st appctl.AppStatus) []stores.Field {
	if st.Store != "" && st.Store != "local" {
		if app, err := p.plat().Catalog.Find(st.Store + "/" + st.ID); err == nil && len(app.Fields) > 0 {
			return app.Fields
		}
	}
	return nil
}

func (p *Portal) apiSettings(c *fiber.Ctx) error {
	st, err := p.status(c)
	if err != nil {
		return err
	}
	fields := p.fieldsOf(st)
	if fields == nil {
		for k := range st.Values {
			fields = append(fields, stores.Field{Key: k, Label: k, Type: stores.FieldText, Secret: slices.Contains(st.Secrets, k)})
		}
		slices.SortFunc(fields, func(a, b stores.Field) int { return strings.Compare(a.Key, b.Key) })
	}
	if fields == nil {
		fields = []stores.Field{}
	}
	return c.JSON(Settings{Fields: fields, Values: st.Values, Secrets: st.Secrets})
}

func (p *Portal) apiPutSettings(c *fiber.Ctx) error {
	st, err := p.status(c)
	if err != nil {
		return err
	}
	if err := appctl.RefuseManaged(st.Record, "change its settings"); err != nil {
		return opError(err)
	}
	var in struct {
		Values map[string]string `json:"values"`
	}
	if err := c.BodyParser(&in); err != nil || in.Values == nil {
		return bodyError(`{"values": {"KEY": "value"}}`)
	}
	fields := p.fieldsOf(st)
	// Check before recreating anything: the current values (secrets
	// masked, which pass as text) with the changes over them.
	merged := map[string]string{}
	for k, v := range st.Values {
		merged[k] = v
	}
	for k, v := range in.Values {
		if v != "" || !slices.Contains(st.Secrets, k) {
			merged[k] = v
		}
	}
	if fields != nil {
		if err := appctl.CheckValues(stores.App{ID: st.ID, Fields: fields}, merged); err != nil {
			return opError(err)
		}
	}
	return p.startOp(c, st.ID, "settings", func(ctx context.Context, progress func(appctl.Event)) error {
		return p.plat().Apps.Reconfigure(ctx, st.ID, fields, in.Values, progress)
	})
}

func (p *Portal) apiMove(c *fiber.Ctx) error {
	st, err := p.status(c)
	if err != nil {
		return err
	}
	if err := appctl.RefuseManaged(st.Record, "change its subdomain"); err != nil {
		return opError(err)
	}
	var in struct {
		Subdomain string `json:"subdomain"`
	}
	if err := c.BodyParser(&in); err != nil || in.Subdomain == "" {
		return bodyError(`{"subdomain": "…"}`)
	}
	if err := p.plat().Apps.CheckSubdomain(st.ID, in.Subdomain); err != nil {
		return opError(err)
	}
	return p.startOp(c, st.ID, "move", func(ctx context.Context, progress func(appctl.Event)) error {
		return p.plat().Apps.Move(ctx, st.ID, in.Subdomain, progress)
	})
}

func (p *Portal) apiPolicy(c *fiber.Ctx) error {
	st, err := p.status(c)
	if err != nil {
		return err
	}
	pol := st.Policy
	if pol.Access == "" {
		pol.Access = registry.Private
	}
	return c.JSON(pol)
}

func (p *Portal) apiPutPolicy(c *fiber.Ctx) error {
	st, err := p.status(c)
	if err != nil {
		return err
	}
	if err := appctl.RefuseManaged(st.Record, "change its access"); err != nil {
		return opError(err)
	}
	var pol registry.Policy
	if err := c.BodyParser(&pol); err != nil {
		return bodyError("a policy")
	}
	if err := SetPolicy(p.cfg.Policies, c.Params("id"), pol); err != nil {
		return apiError(err)
	}
	st, err = p.status(c)
	if err != nil {
		return err
	}
	return c.JSON(st.Policy)
}

func (p *Portal) apiAppStats(c *fiber.Ctx) error {
	st, err := p.plat().Apps.Stats(c.Context(), c.Params("id"))
	if err != nil {
		return opError(err)
	}
	return c.JSON(st)
}

func (p *Portal) apiOperations(c *fiber.Ctx) error {
	return c.JSON(localOps(p.localizer(c), p.ops.views(c.Query("app"), c.QueryBool("running"))))
}

func (p *Portal) apiOperation(c *fiber.Ctx) error {
	op, ok := p.ops.get(c.Params("op"))
	if !ok {
		return msgError(fiber.StatusNotFound, "no operation {{.ID}}: it finished long ago, or never ran", "ID", c.Params("op"))
	}
	lc := p.localizer(c)
	return sse(c, func(send sendFunc) { followOp(op, lc, send) })
}

// The JSON API under /api/v1/ that the pages' scripts use. It goes through
// the same Platform, appctl, stores and auth methods as the CLI and the
// admin API: the portal holds no second copy of their logic. docs/API.md
// documents every endpoint.
//
// Every endpoint needs a portal session (401 without); state changes need
// the session's CSRF token in the X-CSRF-Token header (403 without); all but
// a few (me, the apps list, system figures) need an admin (403 for
// members). Long operations answer with a server-sent event stream of
// their progress, and go on when the browser leaves.

package portal

import (
	"errors"
	"sort"

	"github.com/gofiber/fiber/v2"

	"github.com/stackhub/stackhub/internal/platform"
)

// v1Routes registers /api/v1. It runs before the older /api group is
// registered, whose admin check would otherwise catch /api/v1 too.
func (p *Portal) v1Routes(a *fiber.App) {
	v1 := a.Group("/api/v1", p.signedIn, p.csrf)

	// Members and admins.
	v1.Get("/me", p.apiMe)
	v1.Get("/apps", p.needPlatform, p.apiApps)
	v1.Get("/system/stats", p.needPlatform, p.apiSystemStats)

	// Admins only, from here on.
	adm := v1.Group("", p.admin)
	pl := p.needPlatform
	adm.Get("/apps/:id", pl, p.apiApp)
	adm.Post("/apps/:id/start", pl, p.apiOperate("start"))
	adm.Post("/apps/:id/stop", pl, p.apiOperate("stop"))
	adm.Post("/apps/:id/restart", pl, p.apiOperate("restart"))
	adm.Delete("/apps/:id", pl, p.apiRemove)
	adm.Get("/apps/:id/settings", pl, p.apiSettings)
	adm.Put("/apps/:id/settings", pl, p.apiPutSettings)
	adm.Put("/apps/:id/subdomain", pl, p.apiMove)
	adm.Get("/apps/:id/policy", pl, p.apiPolicy)
	adm.Put("/apps/:id/policy", pl, p.apiPutPolicy)
	adm.Get("/apps/:id/logs", pl, p.apiLogs)
	adm.Get("/apps/:id/stats", pl, p.apiAppStats)
	adm.Get("/apps/:id/history", pl, p.apiHistory)
	adm.Get("/apps/:id/events", pl, p.apiEvents)
	adm.Get("/apps/:id/domains", pl, p.apiDomains)
	adm.Get("/apps/:id/domains/check", pl, p.apiCheckDomain)
	adm.Post("/apps/:id/domains", pl, p.apiAddDomain)
	adm.Delete("/apps/:id/domains/:name", pl, p.apiRemoveDomain)
	adm.Post("/install", pl, p.apiInstall)
	adm.Get("/operations", pl, p.apiOperations)
	adm.Get("/operations/:op", pl, p.apiOperation)
	adm.Get("/subdomain", pl, p.apiSubdomain)
	adm.Get("/stores", pl, p.apiStores)
	adm.Post("/stores", pl, p.apiAddStore)
	adm.Post("/stores/refresh", pl, p.apiRefreshStores)
	adm.Delete("/stores/:name", pl, p.apiRemoveStore)
	adm.Get("/store/apps", pl, p.apiStoreApps)
	adm.Get("/store/apps/:store/:id", pl, p.apiStoreApp)
	adm.Get("/groups", p.apiGroups)
	adm.Post("/users/:name/password", p.apiSetPassword)
	adm.Put("/settings/totp-required", p.apiTOTPRequired)
	adm.Get("/hosts", p.apiHosts)
	adm.Get("/nodes", pl, p.apiNodes)
	p.apiRoutes(adm) // users, policy: the same handlers as /api
	// Updates, backups and schedules of apps: api_backup.go.
	p.v1BackupRoutes(adm)
}

// needPlatform answers 503 while the portal runs without the platform's
// apps and stores (only in tests of the sign-in alone).
func (p *Portal) needPlatform(c *fiber.Ctx) error {
	if p.cfg.Platform == nil {
		return fiber.NewError(fiber.StatusServiceUnavailable, "StackHub's apps and stores are not available in this portal")
	}
	return c.Next()
}

func (p *Portal) plat() *platform.Platform { return p.cfg.Platform }

func (p *Portal) apiMe(c *fiber.Ctx) error {
	s, id, _ := sessionOf(c)
	return c.JSON(fiber.Map{"user": id.User, "role": id.Role, "groups": id.Groups, "admin": id.IsAdmin(), "csrf": s.CSRF})
}

// apiGroups lists the groups users belong to, each with its members.
func (p *Portal) apiGroups(c *fiber.Ctx) error {
	users, err := p.cfg.Auth.Users()
	if err != nil {
		return err
	}
	members := map[string][]string{}
	for _, u := range users {
		for _, g := range u.Groups {
			members[g] = append(members[g], u.Name)
		}
	}
	type group struct {
		Name    string   `json:"name"`
		Members []string `json:"members"`
	}
	out := []group{}
	for g, m := range members {
		sort.Strings(m)
		out = append(out, group{g, m})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return c.JSON(out)
}

func (p *Portal) apiSetPassword(c *fiber.Ctx) error {
	var in struct {
		Password string `json:"password"`
	}
	if err := c.BodyParser(&in); err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "send {\"password\": …}")
	}
	if err := p.cfg.Auth.SetPassword(c.Params("name"), in.Password); err != nil {
		return apiError(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (p *Portal) apiTOTPRequired(c *fiber.Ctx) error {
	var in struct {
		Required *bool `json:"required"`
	}
	if err := c.BodyParser(&in); err != nil || in.Required == nil {
		return fiber.NewError(fiber.StatusBadRequest, "send {\"required\": true} or false")
	}
	if err := p.cfg.Auth.SetTOTPRequired(*in.Required); err != nil {
		return err
	}
	if !*in.Required {
		_, id, _ := sessionOf(c)
		p.cfg.Logf("portal: two-factor sign-in made OPTIONAL by %s: users without TOTP now sign in with a password alone", id.User)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// bodyError is the 400 for a request body that is not the JSON expected.
func bodyError(what string) error {
	return fiber.NewError(fiber.StatusBadRequest, "send "+what+" as JSON (Content-Type: application/json)")
}

// opError maps an appctl error to its status and message.
func opError(err error) error {
	if err == nil {
		return nil
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
		return err
	}
	return &statusError{code: statusOf(err), err: err}
}

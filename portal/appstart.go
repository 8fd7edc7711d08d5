package portal

import (
	"context"
	"errors"
	"io/fs"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/stackhub/stackhub/appctl"
)

// AppStarter starts an installed app (appctl.Manager.Start).
type AppStarter interface {
	Start(ctx context.Context, id string, progress func(appctl.Event)) error
}

// Stylesheet is the portal's stylesheet, for StackHub's own pages on app
// hosts (internal/pages), so they look like the portal.
func Stylesheet() []byte {
	b, err := fs.ReadFile(assetFS, "assets/style.css")
	if err != nil {
		panic(err) // embedded: cannot happen
	}
	return b
}

// startView is the data of the start page.
type startView struct {
	view
	App, AppURL string
	Running     bool
}

// appStartPage asks an admin to confirm starting a stopped app. The
// "app stopped" page on the app's host links here: starting takes this
// page's POST, from the portal's own origin with the session's CSRF token,
// so no other site (an app's page included) can start an app.
func (p *Portal) appStartPage(c *fiber.Ctx) error {
	s, id, _ := sessionOf(c)
	v, err := p.startView(c.Params("app"))
	if err != nil {
		return err
	}
	v.User, v.CSRF = id, s.CSRF
	return p.renderStart(c, v)
}

// appStart starts the app, then sends the admin to it.
func (p *Portal) appStart(c *fiber.Ctx) error {
	s, id, _ := sessionOf(c)
	v, err := p.startView(c.Params("app"))
	if err != nil {
		return err
	}
	if p.cfg.Starter == nil {
		return fiber.NewError(fiber.StatusNotFound, "Starting apps is not available here.")
	}
	p.cfg.Logf("portal: %s starts app %s", id.User, v.App)
	if err := p.cfg.Starter.Start(c.UserContext(), v.App, func(appctl.Event) {}); err != nil {
		if errors.Is(err, appctl.ErrNotInstalled) {
			return msgError(fiber.StatusNotFound, "No app {{.App}} is installed.", "App", v.App)
		}
		p.cfg.Logf("portal: start %s: %v", v.App, err)
		lc := p.localizer(c)
		v.User, v.CSRF, v.Error = id, s.CSRF, lc.T("Could not start {{.App}}: {{.Err}}", "App", v.App, "Err", errorText(lc, err, err.Error()))
		return p.renderStart(c.Status(fiber.StatusInternalServerError), v)
	}
	return c.Redirect(v.AppURL, fiber.StatusSeeOther)
}

// startView describes the app named in the URL, from the registry.
func (p *Portal) startView(app string) (startView, error) {
	for _, e := range p.cfg.Registry.Entries() {
		if e.App == app && !e.Alias {
			// renderStart writes its title and message.
			return startView{App: app, AppURL: "https://" + p.hostPort(e.Host) + "/", Running: e.Upstream != ""}, nil
		}
	}
	return startView{}, msgError(fiber.StatusNotFound, "No app {{.App}} is installed.", "App", app)
}

func (p *Portal) renderStart(c *fiber.Ctx, v startView) error {
	// In the request's language, the app's name in the texts.
	lc := p.localizer(c)
	if v.Running {
		v.Title, v.Message = lc.T("{{.App}} is running", "App", v.App), lc.T("The app {{.App}} is running.", "App", v.App)
	} else {
		v.Title, v.Message = lc.T("Start {{.App}}", "App", v.App), lc.T("The app {{.App}} is stopped.", "App", v.App)
	}
	p.localize(c, &v.view)
	var b strings.Builder
	if err := pagesFor(v.Lang).ExecuteTemplate(&b, "appstart", v); err != nil {
		return err
	}
	c.Type("html", "utf-8")
	return c.SendString(b.String())
}

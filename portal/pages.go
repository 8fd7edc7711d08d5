// Pages of the store (admins), of one installed app (admins) and of the
// user's own app: server-rendered from the same data as the API, with
// small scripts (assets/*.js) for the live parts.

package portal

import (
	"github.com/gofiber/fiber/v2"
)

func (p *Portal) storePage(c *fiber.Ctx) error {
	s, id, _ := sessionOf(c)
	q := storeQuery{Q: c.Query("q"), Category: c.Query("category"), Store: c.Query("store")}
	return p.render(c, "store", view{Title: "App store", Nav: "store", User: id, CSRF: s.CSRF,
		Store: p.storeList(c.Context(), p.lang(c), q.Q, q.Category, q.Store), Query: q})
}

func (p *Portal) storeAppPage(c *fiber.Ctx) error {
	s, id, _ := sessionOf(c)
	app, err := p.storeApp(c)
	if err != nil {
		return err
	}
	d := p.storeAppDetail(c.Context(), app)
	d.Tagline, d.Description = app.Text(p.lang(c))
	localStoreApp(p.localizer(c), &d)
	return p.render(c, "storeapp", view{Title: d.Name, Nav: "store", User: id, CSRF: s.CSRF, StoreApp: d})
}

func (p *Portal) ownAppPage(c *fiber.Ctx) error {
	s, id, _ := sessionOf(c)
	return p.render(c, "ownapp", view{Title: "Your own app", Nav: "store", User: id, CSRF: s.CSRF})
}

func (p *Portal) appPage(c *fiber.Ctx) error {
	s, id, _ := sessionOf(c)
	d, err := p.appDetail(c.Context(), c.Params("id"))
	if err != nil {
		return opError(err)
	}
	localDetail(p.localizer(c), &d)
	return p.render(c, "app", view{Title: d.Card.Name, Nav: "apps", User: id, CSRF: s.CSRF, App: d})
}

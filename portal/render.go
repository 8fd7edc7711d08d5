// Page rendering: the data of every page and the template call.

package portal

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/stackhub/stackhub/internal/auth"
	"github.com/stackhub/stackhub/internal/i18n"
	"github.com/stackhub/stackhub/stores"
	"github.com/stackhub/stackhub/swarm"
)

// view is the data of every page.
type view struct {
	Title     string
	User      auth.Identity
	CSRF      string
	Error     string
	Warning   string
	Message   string
	RD        string
	Next      string
	Codes     []string
	Enrolment auth.Enrolment
	Apps      []appView
	Users     []auth.User
	Sessions  []auth.Session
	// Nav is the section of the header to mark: apps, store, admin,
	// account.
	Nav string
	// Domain is the base domain (apps at <app>.<Domain>).
	Domain string
	// Cards are the apps of the home page.
	Cards []AppCard
	// Store, StoreApp, App and Hosts are the data of the store, store
	// app, app and admin pages.
	Store    StoreList
	Query    storeQuery
	StoreApp StoreAppDetail
	App      AppDetail
	Hosts    Hosts
	Stores   []stores.StoreStatus
	// Lang is the page's language, Langs the switch's choices, Path the
	// page to come back to after switching.
	Lang  string
	Langs []i18n.Language
	Path  string
	// Theme is "light" or "dark" when chosen, "" to follow the system.
	Theme string
	// Scripts are the scripts' texts in the page's language.
	Scripts map[string]string
	// OnSwarm shows the Nodes link; Nodes is the Nodes page's data
	// (nodes.go).
	OnSwarm bool
	Nodes   swarm.NodeList
}

// storeQuery is the store page's filter.
type storeQuery struct {
	Q, Category, Store string
}

type appView struct {
	App, Host, Link                    string
	Running                            bool
	Access, Users, Groups, PublicPaths string
}

// localize sets the language of v and translates the texts Go code set.
func (p *Portal) localize(c *fiber.Ctx, v *view) {
	pr := p.prefs(c)
	v.Lang, v.Theme = pr.Lang, pr.Theme
	v.Scripts = scriptMessages(v.Lang)
	v.Langs = i18n.Languages
	v.Path = string(c.Request().URI().RequestURI())
	lc := i18n.New(v.Lang)
	v.Title, v.Error, v.Warning, v.Message = lc.T(v.Title), lc.T(v.Error), lc.T(v.Warning), lc.T(v.Message)
}

func (p *Portal) render(c *fiber.Ctx, name string, v view) error {
	if v.Warning == "" {
		if st, err := p.cfg.Auth.Settings(); err == nil && !st.TOTPRequired {
			v.Warning = "Two-factor sign-in is optional on this StackHub (an admin relaxed it): users without TOTP sign in with a password alone."
		}
	}
	if v.Domain == "" {
		v.Domain = p.cfg.Domain
	}
	v.OnSwarm = p.onSwarm()
	p.localize(c, &v)
	var b strings.Builder
	if err := pagesFor(v.Lang).ExecuteTemplate(&b, name, v); err != nil {
		return err
	}
	c.Type("html", "utf-8")
	return c.SendString(b.String())
}

// ClientIPHeader carries Caddy's resolved client address to the portal; the

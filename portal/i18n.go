// Languages of the portal: the language of a request (saved choice, else
// Accept-Language), the per-language template sets whose t and tn
// functions translate, and the switch that saves the choice.

package portal

import (
	"errors"
	"html/template"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/stackhub/stackhub/appctl"
	"github.com/stackhub/stackhub/internal/auth"
	"github.com/stackhub/stackhub/internal/i18n"
)

// LangCookie and ThemeCookie hold the language and the theme chosen with
// the switches of this browser.
const (
	LangCookie  = "__Host-stackhub-lang"
	ThemeCookie = "__Host-stackhub-theme"
)

// templateFuncs are the functions of the parse; each language's set
// replaces t, tn, date and number with its own (see pagesFor).
func templateFuncs(lc *i18n.Localizer) template.FuncMap {
	return template.FuncMap{
		// subdomain is the first label of a host name.
		"subdomain": func(host string) string { sub, _, _ := cutDot(host); return sub },
		"t":         lc.T,
		"tn":        lc.N,
		"date":      lc.Date,
		"shortdate": lc.ShortDate,
		"number":    lc.Number,
	}
}

// localized are the page templates of each language.
var localized = func() map[string]*template.Template {
	m := map[string]*template.Template{}
	for _, l := range i18n.Languages {
		m[l.Tag] = template.Must(pages.Clone()).Funcs(templateFuncs(i18n.New(l.Tag)))
	}
	return m
}()

// scriptIDs are the texts the scripts translate (SH.t and t calls in
// assets/*.js, found when the portal starts) and the statuses they show.
var scriptIDs = func() []string {
	ids := map[string]bool{}
	entries, _ := assetFS.ReadDir("assets")
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".js") {
			continue
		}
		b, _ := assetFS.ReadFile("assets/" + e.Name())
		for _, m := range scriptCall.FindAllStringSubmatch(string(b), -1) {
			if id, err := strconv.Unquote(m[1]); err == nil {
				ids[id] = true
			}
		}
	}
	for _, st := range appStatuses {
		ids[st] = true
	}
	for _, st := range opStatuses {
		ids[st] = true
	}
	out := make([]string, 0, len(ids))
	for id := range ids {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}()

var scriptCall = regexp.MustCompile(`\bt\(("(?:[^"\\]|\\.)*")`)

// appStatuses are the states a status pill shows.
var appStatuses = []string{"running", "stopped", "exited", "created", "dead", "healthy", "paused", "removing",
	"restarting", "starting", "stopping", "unhealthy", "updating", "backing up", "restoring", "installing", "installed", "failed", "missing", "partial"}

// scriptTexts are the scripts' texts of each language but English (whose
// texts are the IDs themselves).
var scriptTexts = func() map[string]map[string]string {
	m := map[string]map[string]string{}
	for _, l := range i18n.Languages[1:] {
		m[l.Tag] = i18n.Messages(l.Tag, scriptIDs)
	}
	return m
}()

// scriptMessages are the scripts' texts in lang; nil in English.
func scriptMessages(lang string) map[string]string { return scriptTexts[lang] }

// pagesFor returns the templates of lang.
func pagesFor(lang string) *template.Template {
	if t, ok := localized[lang]; ok {
		return t
	}
	return localized[i18n.Languages[0].Tag]
}

// prefs are the request's choices: this browser's cookies, else what the
// signed-in user saved (a new browser gets the user's language).
func (p *Portal) prefs(c *fiber.Ctx) auth.Prefs {
	if pr, ok := c.Locals("prefs").(auth.Prefs); ok {
		return pr
	}
	pr := auth.Prefs{Lang: c.Cookies(LangCookie), Theme: c.Cookies(ThemeCookie)}
	if pr.Lang == "" || pr.Theme == "" {
		_, id, _ := sessionOf(c)
		if id.User != "" {
			if saved, err := p.cfg.Auth.PrefsOf(id.User); err == nil {
				if pr.Lang == "" {
					pr.Lang = saved.Lang
				}
				if pr.Theme == "" {
					pr.Theme = saved.Theme
				}
			}
		}
	}
	if pr.Theme != "light" && pr.Theme != "dark" {
		pr.Theme = ""
	}
	pr.Lang = i18n.Match(c.Get(fiber.HeaderAcceptLanguage), pr.Lang)
	c.Locals("prefs", pr)
	return pr
}

// lang is the language of the request (see prefs).
func (p *Portal) lang(c *fiber.Ctx) string { return p.prefs(c).Lang }

// tr translates a message of Go code for the request.
func (p *Portal) tr(c *fiber.Ctx, id string, args ...any) string {
	return i18n.New(p.lang(c)).T(id, args...)
}

// setPrefs is the switches of every page: GET /prefs?lang=zh-CN or
// ?theme=dark|light|auto, then back to rd. The choice goes in a cookie (a
// year), and for a signed-in user into their account too, when the click
// came from our own page (Sec-Fetch-Site): another site's link changes
// at most this browser's cookie.
func (p *Portal) setPrefs(c *fiber.Ctx) error {
	lang, theme := c.Query("lang"), c.Query("theme")
	if (lang != "" && !i18n.Supported(lang)) || (theme != "" && theme != "light" && theme != "dark" && theme != "auto") {
		return fiber.NewError(fiber.StatusBadRequest, "unknown language or theme: choose one of the switch")
	}
	year := time.Now().AddDate(1, 0, 0)
	set := func(name, v string) {
		c.Cookie(&fiber.Cookie{Name: name, Value: v, Path: "/", Expires: year, Secure: true, HTTPOnly: true, SameSite: "Lax"})
	}
	if lang != "" {
		set(LangCookie, lang)
	}
	if theme == "auto" {
		p.clearCookie(c, ThemeCookie)
	} else if theme != "" {
		set(ThemeCookie, theme)
	}
	if _, id, _, ok := p.session(c); ok && c.Get("Sec-Fetch-Site") == "same-origin" {
		pr, err := p.cfg.Auth.PrefsOf(id.User)
		if err == nil {
			if lang != "" {
				pr.Lang = lang
			}
			if theme == "auto" {
				pr.Theme = ""
			} else if theme != "" {
				pr.Theme = theme
			}
			err = p.cfg.Auth.SetPrefs(id.User, pr)
		}
		if err != nil {
			p.cfg.Logf("portal: save preferences of %s: %v", id.User, err)
		}
	}
	return c.Redirect(localPath(c.Query("rd")), fiber.StatusSeeOther)
}

// localPath is rd when it is a path of this site, else "/".
func localPath(rd string) string {
	if len(rd) == 0 || rd[0] != '/' || (len(rd) > 1 && (rd[1] == '/' || rd[1] == '\\')) {
		return "/"
	}
	for _, r := range rd {
		if r < 0x20 || r == 0x7f {
			return "/"
		}
	}
	return rd
}

// opStatuses are the statuses of operations' progress events that the
// progress panel shows (its title, its last steps); the scripts translate
// them like the statuses of pills.
var opStatuses = []string{"backed up", "checking the compose file", "checking the compose file with the new settings",
	"checking the new version's compose file", "cloned", "done", "moved", "not routed", "published", "pull failed, using the local copy", "reconfigured",
	"removed", "restarted", "restored", "rolled back", "saved", "started", "stopped", "the app did not start again after its backup",
	"the new version failed; rolling back", "the restored app is not healthy; putting the app back as it was", "unchanged",
	"updated", "waiting for the web UI to answer"}

// english reports whether lc speaks English, whose texts are Go code's
// own: an English page shows errors and progress word for word as the CLI
// does, with their context.
func english(lc *i18n.Localizer) bool { return lc.Lang == i18n.Languages[0].Tag }

// localEvent is e for a page in lc's language: its message translated when
// it is a catalog message (appctl sets MsgID and Args; see appctl.say).
func localEvent(lc *i18n.Localizer, e appctl.Event) appctl.Event {
	if e.MsgID == "" || english(lc) {
		return e
	}
	if e.Message == "" && e.Status == e.Text().English() { // the status is the message (appctl.sayStatus)
		e.Status = lc.Msg(e.Text())
	} else {
		e.Message = lc.Msg(e.Text())
	}
	return e
}

// localAppEvents are an app's events for a page in lc's language: their
// details translated where they are catalog messages.
func localAppEvents(lc *i18n.Localizer, evs []appctl.AppEvent) []appctl.AppEvent {
	if english(lc) {
		return evs
	}
	out := make([]appctl.AppEvent, len(evs))
	for i, e := range evs {
		if e.MsgID != "" {
			e.Detail = lc.Msg(e.Text())
		}
		out[i] = e
	}
	return out
}

// localOps are operations for a page in lc's language: their errors and
// last events translated.
func localOps(lc *i18n.Localizer, ops []OperationView) []OperationView {
	if english(lc) {
		return ops
	}
	out := make([]OperationView, len(ops))
	for i, v := range ops {
		out[i] = localOp(lc, v)
	}
	return out
}

func localOp(lc *i18n.Localizer, v OperationView) OperationView {
	if english(lc) {
		return v
	}
	if v.Error != "" {
		v.Error = errorText(lc, v.cause, v.Error)
	}
	if v.Last != nil {
		e := localEvent(lc, *v.Last)
		v.Last = &e
	}
	return v
}

// localDetail translates what Go code wrote in an app's detail: its
// operations and events.
func localDetail(lc *i18n.Localizer, d *AppDetail) {
	d.Operations = localOps(lc, d.Operations)
	d.Events = localAppEvents(lc, d.Events)
	if d.Card.Operation != nil {
		op := localOp(lc, *d.Card.Operation)
		d.Card.Operation = &op
	}
}

// errorText is the text of err for a page in lc's language, shown is its
// English text as the user would see it. An error that carries a catalog
// message (an i18n.Localized in its chain: appctl's, the sign-in lockout)
// is said in the page's language, without the English context Go code
// wrapped around it; others are translated when the catalog has shown
// whole. The message is used only when shown ends with its English text,
// so a translation never says more than the English page would (an
// internal error behind a generic public message stays generic).
func errorText(lc *i18n.Localizer, err error, shown string) string {
	var he *appctl.HazardError
	if !english(lc) && errors.As(err, &he) && strings.HasSuffix(shown, he.Error()) {
		return localHazardError(lc, he) // hazard_lines.go
	}
	var le i18n.Localized
	if !english(lc) && err != nil && errors.As(err, &le) {
		if m := le.Message(); m.ID != "" && strings.HasSuffix(shown, m.English()) {
			return lc.Msg(m)
		}
	}
	return lc.T(shown)
}

// publicMessage is auth.PublicMessage(err) in the request's language (the
// lockout's wait, for one, is an argument of its message).
func (p *Portal) publicMessage(c *fiber.Ctx, err error) string {
	return errorText(i18n.New(p.lang(c)), err, auth.PublicMessage(err))
}

// statusError is an error of an operation with the HTTP status it
// answers; unlike a fiber.Error it keeps the error, whose catalog message
// the error page shows in the request's language.
type statusError struct {
	code int
	err  error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

// localizer is the Localizer of the request's language.
func (p *Portal) localizer(c *fiber.Ctx) *i18n.Localizer { return i18n.New(p.lang(c)) }

// localStoreApp translates what Go code wrote on a store app's page: what
// each hazardous setting lets the app do.
func localStoreApp(lc *i18n.Localizer, d *StoreAppDetail) {
	for i, h := range d.Hazards {
		if h.plain.ID != "" {
			d.Hazards[i].Plain = lc.Msg(h.plain)
		}
	}
}

// msgError is a refusal of the portal whose text is the catalog message
// id with its args (name/value pairs): English as written, and said in
// the request's language by the error page and the API.
func msgError(code int, id string, kv ...any) error {
	return &statusError{code: code, err: i18n.Errorf(nil, id, kv...)}
}

// Package pages renders the pages StackHub itself answers on app hosts:
// no app at this address, app stopped, not allowed, sign-in link expired.
// They look like the portal (its stylesheet, inlined: the page is on
// another host) and link to it.
package pages

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/stackhub/stackhub/internal/i18n"
)

//go:embed templates/*.html
var templateFS embed.FS

var templates = template.Must(template.New("pages").Funcs(template.FuncMap{"t": i18n.New("en").T}).ParseFS(templateFS, "templates/*.html"))

// localized are the templates of each language, their t translating.
var localized = func() map[string]*template.Template {
	m := map[string]*template.Template{}
	for _, l := range i18n.Languages {
		m[l.Tag] = template.Must(templates.Clone()).Funcs(template.FuncMap{"t": i18n.New(l.Tag).T})
	}
	return m
}()

// Lang is the language of a page for r: its Accept-Language (the
// portal's language cookie is not sent to app hosts).
func Lang(r *http.Request) string {
	return i18n.Match(r.Header.Get("Accept-Language"))
}

// Renderer writes the pages with the portal's stylesheet and links.
type Renderer struct {
	css    template.CSS
	csp    string
	portal string // https://my.<domain>[:port], or "" when unknown
	lang   string
}

// In returns the Renderer writing in lang (see Lang).
func (r *Renderer) In(lang string) *Renderer {
	c := *r
	c.lang = lang
	return &c
}

// New returns a Renderer: stylesheet is the portal's CSS, portalURL the
// portal's origin (https://my.<domain>[:port]; "" leaves the links out).
func New(stylesheet []byte, portalURL string) *Renderer {
	sum := sha256.Sum256(stylesheet)
	// Only our inline style applies; nothing loads, nothing runs, the only
	// form goes to the portal.
	csp := "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; base-uri 'none'; frame-ancestors 'none'; form-action " + portalOrNone(portalURL)
	return &Renderer{css: template.CSS(stylesheet), csp: csp, portal: strings.TrimSuffix(portalURL, "/")}
}

func portalOrNone(u string) string {
	if u == "" {
		return "'none'"
	}
	return strings.TrimSuffix(u, "/")
}

// Page is one page's content. Text is plain: the template escapes it.
type Page struct {
	Title string
	What  string // what happened
	Next  string // what to do next
	// Command is a CLI command shown after Next, as code.
	Command string
	// User is the signed-in user, when known.
	User string
	// App is the app the page is about; StartApp offers admins the portal's
	// start page for it.
	App      string
	StartApp bool
	// Args are the values of the {{.Name}} placeholders of Title, What
	// and Next, which are catalog messages (English text; one the catalog
	// lacks shows as is).
	Args []any
}

// Write renders p with status.
func (r *Renderer) Write(w http.ResponseWriter, status int, p Page) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", r.csp)
	w.WriteHeader(status)
	lc := i18n.New(r.lang)
	p.Title, p.What, p.Next = lc.T(p.Title, p.Args...), lc.T(p.What, p.Args...), lc.T(p.Next, p.Args...)
	data := struct {
		Page
		CSS    template.CSS
		Portal string
		Start  string
		Lang   string
	}{Page: p, CSS: r.css, Portal: r.portal, Lang: lc.Lang}
	if p.StartApp && r.portal != "" && p.App != "" {
		data.Start = r.portal + "/admin/apps/" + url.PathEscape(p.App) + "/start"
	}
	return localized[lc.Lang].ExecuteTemplate(w, "host", data)
}

// NoApp is the page of a host no app has.
func (r *Renderer) NoApp(w http.ResponseWriter, host string) error {
	p := Page{Title: "No app here", What: "No app is installed at {{.Host}}.", Args: []any{"Host", host},
		Next: "Check the address, or install an app from the portal or with", Command: "stackhub apps install ID"}
	return r.Write(w, http.StatusNotFound, p)
}

// Stopped is the page of an installed app that is stopped. admin offers the
// Start button (it leads to the portal, which asks to confirm and checks
// the session and its CSRF token); others are told whom to ask.
func (r *Renderer) Stopped(w http.ResponseWriter, app, user string, admin bool) error {
	p := Page{Title: "App stopped", What: "The app {{.App}} is stopped.", Args: []any{"App", app}, User: user, App: app,
		Next: "An admin can start it from the portal, or with", Command: "stackhub apps start " + app}
	if admin {
		p.StartApp = true
		p.Next = "Start it here, or with"
	}
	return r.Write(w, http.StatusServiceUnavailable, p)
}

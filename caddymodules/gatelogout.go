package caddymodules

import (
	"html/template"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/stackhub/stackhub/internal/auth"
)

// browserNonce returns the browser's nonce on this app host, setting a new
// one when it has none (see BindCookie). An existing one is kept, so two
// tabs signing in at the same time both succeed.
func (g *Gate) browserNonce(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(BindCookie); err == nil && auth.ValidNonce(c.Value) {
		return c.Value
	}
	n := auth.NewBrowserNonce()
	http.SetCookie(w, &http.Cookie{Name: BindCookie, Value: n, Path: "/", MaxAge: int(time.Hour / time.Second),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return n
}

var logoutTemplate = template.Must(template.New("logout").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Sign out · StackHub</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}h1{font-size:1.4rem}button{font-size:1rem;padding:.4rem 1rem}</style>
</head><body><h1>Sign out</h1><p>Sign out of StackHub and of every app?</p>
<form method="post" action="/.stackhub/logout"><input type="hidden" name="token" value="{{.}}"><button type="submit" id="signout">Sign out</button></form></body></html>
`))

// logout: GET shows a page with a sign-out button; only a same-origin POST
// carrying that page's token (derived from this browser's app cookie)
// ends the session behind the app cookie (and so every app's). A
// cross-site GET or POST (a link, an image, a form on another site)
// changes nothing.
func (g *Gate) logout(w http.ResponseWriter, r *http.Request, host string) error {
	setPageSecurityHeaders(w.Header())
	var tok string
	if c, err := r.Cookie(AppCookie); err == nil {
		tok = c.Value
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if tok == "" {
			return page(w, r, http.StatusOK, "Signed out", "You are not signed in to this app.", "Sign in at {{.Portal}}", "Portal", "https://my."+g.domain+g.port+"/")
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		return logoutTemplate.Execute(w, auth.LogoutToken(tok))
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		return page(w, r, http.StatusMethodNotAllowed, "Not allowed", "Sign out with the button on this page.", "")
	}
	if err := auth.CrossSite(r.Header, "https://"+host+g.port); err != nil || !auth.ValidLogoutToken(tok, r.FormValue("token")) {
		g.log.Info("sign-out refused", zap.String("host", host), zap.String("client", r.RemoteAddr), zap.NamedError("cross_site", err))
		return page(w, r, http.StatusForbidden, "Not signed out", auth.PublicMessage(auth.ErrCrossSite), "To sign out, open {{.URL}} and press the button.", "URL", "https://"+host+g.port+"/.stackhub/logout")
	}
	if err := g.auth.LogoutApp(tok, host); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: AppCookie, Value: "", Path: "/", Expires: time.Unix(1, 0), MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	w.Header().Set("Location", "https://my."+g.domain+g.port+"/login")
	w.WriteHeader(http.StatusSeeOther)
	return nil
}

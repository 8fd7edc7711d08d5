package caddymodules

import "net/http"

// gatePageCSP is the policy of the pages the gate and the router write
// themselves (403, sign-in link expired, sign-out, app stopped, no app
// here): inline styles and images only, forms to the same origin, never in
// a frame (clickjacking of the sign-out button).
const gatePageCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// setPageSecurityHeaders sets the security headers of a page StackHub
// writes on an app host (one call per page or redirect).
func setPageSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", gatePageCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

// setHSTS sets Strict-Transport-Security on an HTTPS answer when the
// platform's `hsts` setting gives a value (see platform.Config.HSTSHeader).
func setHSTS(w http.ResponseWriter, r *http.Request, value string) {
	if value != "" && r.TLS != nil {
		w.Header().Set("Strict-Transport-Security", value)
	}
}

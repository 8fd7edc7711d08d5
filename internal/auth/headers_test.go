package auth

import (
	"net/http"
	"strings"
	"testing"
)

func TestStripClientHeaders(t *testing.T) {
	h := http.Header{}
	for _, k := range []string{"X-Stackhub-User", "x-stackhub-email", "X_STACKHUB_GROUPS", "x_Stackhub_User",
		"X_Forwarded_Host", "x_forwarded_proto", "X_Real_Ip", "X-Forwarded-Host", "X-Stackhub-Users", "Accept",
		"X-Real-Ip", "Forwarded", "True-Client-Ip", "X-Client-Ip", "X-Original-Url", "X-Rewrite-Url", "x_original_url", "X-Forwarded-Port", "X-Host", "X-Stackhub-Client-Ip"} {
		h[k] = []string{"spoofed"}
	}
	StripClientHeaders(h)
	for _, gone := range []string{"X-Stackhub-User", "x-stackhub-email", "X_STACKHUB_GROUPS", "x_Stackhub_User", "X_Forwarded_Host", "x_forwarded_proto", "X_Real_Ip",
		"X-Real-Ip", "Forwarded", "True-Client-Ip", "X-Client-Ip", "X-Original-Url", "X-Rewrite-Url", "x_original_url", "X-Forwarded-Port", "X-Host", "X-Stackhub-Client-Ip"} {
		if _, ok := h[gone]; ok {
			t.Errorf("%s kept", gone)
		}
	}
	// The '-' forwarding spelling is the proxy's to replace; look-alike
	// names and other headers stay.
	for _, kept := range []string{"X-Forwarded-Host", "X-Stackhub-Users", "Accept"} {
		if _, ok := h[kept]; !ok {
			t.Errorf("%s removed", kept)
		}
	}
	SetIdentityHeaders(h, Identity{User: "ann", Email: "ann@example.com", Groups: []string{"family", "admins"}})
	if h.Get(HeaderUser) != "ann" || h.Get(HeaderEmail) != "ann@example.com" || h.Get(HeaderGroups) != "family,admins" {
		t.Errorf("identity headers = %v", h)
	}
}

func TestStripCookieKeepsTheOthers(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want []string
	}{
		{[]string{"__Host-stackhub-app=secret"}, nil},
		{[]string{"a=1; __Host-stackhub-app=secret; b=2"}, []string{"a=1; b=2"}},
		{[]string{"__Host-stackhub-app=secret; b=2", "c=3"}, []string{"b=2", "c=3"}},
		{[]string{"x__Host-stackhub-app=1; __Host-stackhub-app2=2"}, []string{"x__Host-stackhub-app=1; __Host-stackhub-app2=2"}},
		{[]string{"a=1", "__Host-stackhub-app=s1;__Host-stackhub-app=s2"}, []string{"a=1"}},
	} {
		h := http.Header{"Cookie": c.in}
		StripCookie(h, "__Host-stackhub-app")
		if got := h["Cookie"]; strings.Join(got, "|") != strings.Join(c.want, "|") || (c.want == nil && got != nil) {
			t.Errorf("StripCookie(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

package auth

import (
	"net/http"
	"testing"
)

func TestStripClientHeaders(t *testing.T) {
	h := http.Header{}
	for _, k := range []string{"X-Stackhub-User", "x-stackhub-email", "X_STACKHUB_GROUPS", "x_Stackhub_User",
		"X_Forwarded_Host", "x_forwarded_proto", "X_Real_Ip", "X-Forwarded-Host", "X-Stackhub-Users", "Accept"} {
		h[k] = []string{"spoofed"}
	}
	StripClientHeaders(h)
	for _, gone := range []string{"X-Stackhub-User", "x-stackhub-email", "X_STACKHUB_GROUPS", "x_Stackhub_User", "X_Forwarded_Host", "x_forwarded_proto", "X_Real_Ip"} {
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

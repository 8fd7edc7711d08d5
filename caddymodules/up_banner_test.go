package caddymodules

import (
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

// The banner (internal/banner, tested there) offers --address only when
// `stackhub up` runs its admin endpoint elsewhere than Caddy's default.
func TestBannerKnowsCaddysDefaultAdmin(t *testing.T) {
	u := UpConfig{Domain: "localhost", Data: "/d", HTTPSPort: 8443, Admin: caddy.DefaultAdminListen}
	if b := u.Banner("stackhub", ""); strings.Contains(b, "--address ") {
		t.Errorf("banner with Caddy's default admin endpoint offers --address:\n%s", b)
	}
	u.Admin = "localhost:2020"
	if b := u.Banner("stackhub", ""); !strings.Contains(b, "apps install whoami --address localhost:2020\n") {
		t.Errorf("banner with admin endpoint localhost:2020 does not offer --address:\n%s", b)
	}
}

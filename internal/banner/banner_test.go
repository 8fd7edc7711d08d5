package banner

import (
	"strings"
	"testing"
)

// The banner names the HTTPS port unless it is 443, and --address only for
// an admin endpoint that is not the default.
func TestBannerPortsAndAddress(t *testing.T) {
	b := Text(Site{Domain: "home.arpa", Data: "/d", HTTPSPort: 443, Admin: "localhost:2019", AdminIsDefault: true}, "stackhub", "")
	for _, want := range []string{"Portal:   https://my.home.arpa/\n", "Apps:     https://<app>.home.arpa/\n", "Install an app:  stackhub apps install whoami\n"} {
		if !strings.Contains(b, want) {
			t.Errorf("banner lacks %q:\n%s", want, b)
		}
	}
	if strings.Contains(b, "--address ") || strings.Contains(b, "First run") || strings.Contains(b, "setup") {
		t.Errorf("banner on 443 with an admin:\n%s", b)
	}
	b = Text(Site{Domain: "localhost", Data: "/d", HTTPSPort: 9443, Admin: "localhost:2020"}, "bin/stackhub", "TOKEN")
	for _, want := range []string{"Portal:   https://my.localhost:9443/\n", "Open https://my.localhost:9443/setup", "\n    TOKEN\n",
		"bin/stackhub user add NAME --admin --address localhost:2020\n", "bin/stackhub apps install whoami --address localhost:2020\n"} {
		if !strings.Contains(b, want) {
			t.Errorf("banner lacks %q:\n%s", want, b)
		}
	}
}

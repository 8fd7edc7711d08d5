package platform

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultHSTSMaxAge is the HSTS max-age StackHub sends for public domains:
// one year, the value browsers' preload lists expect.
const DefaultHSTSMaxAge = 365 * 24 * time.Hour

// LocalDomain reports whether domain is a name only a local network
// resolves (localhost, *.lan, *.home.arpa, *.internal, *.local): its
// certificates come from StackHub's own CA.
func LocalDomain(domain string) bool {
	d := strings.TrimSuffix(strings.ToLower(domain), ".")
	for _, tld := range []string{"localhost", "lan", "home.arpa", "internal", "local"} {
		if d == tld || strings.HasSuffix(d, "."+tld) {
			return true
		}
	}
	return false
}

// HSTSHeader is the Strict-Transport-Security value for the portal's and
// the apps' HTTPS answers, or "" for none. The `hsts` option: "" (auto:
// one year for a public domain, none for a local one, where a browser
// pinned to HTTPS would lock users out after a CA change), "off", "on", or
// a max-age duration ("720h").
func (c Config) HSTSHeader() (string, error) {
	var age time.Duration
	switch v := strings.ToLower(strings.TrimSpace(c.HSTS)); v {
	case "":
		if LocalDomain(c.Domain) {
			return "", nil
		}
		age = DefaultHSTSMaxAge
	case "off":
		return "", nil
	case "on":
		age = DefaultHSTSMaxAge
	default:
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return "", fmt.Errorf("hsts %q: use off, on or a duration such as 8760h", c.HSTS)
		}
		if d == 0 {
			return "", nil
		}
		age = d
	}
	return "max-age=" + strconv.FormatInt(int64(age/time.Second), 10), nil
}

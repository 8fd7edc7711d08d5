package domains

import (
	"context"
	"strings"
	"testing"

	"github.com/stackhub/stackhub/internal/domains/stubdns"
)

func TestCheck(t *testing.T) {
	r := Resolver(stubdns.Serve(t, map[string]string{
		"alpha.home.example.com": "192.0.2.10",
		"photos.example.org":     "CNAME alpha.home.example.com",
		"pics.example.org":       "192.0.2.10",
		"example.net":            "192.0.2.10",
		"wrong.example.org":      "203.0.113.7",
		"elsewhere.example.org":  "CNAME cdn.example.com",
		"cdn.example.com":        "198.51.100.1",
	}))
	for _, c := range []struct {
		name     string
		ok, apex bool
		record   string
		explain  []string
	}{
		{"photos.example.org", true, false, "photos.example.org. CNAME alpha.home.example.com.", []string{"points at", "CNAME alpha.home.example.com"}},
		{"pics.example.org", true, false, "pics.example.org. CNAME alpha.home.example.com.", []string{"192.0.2.10"}},
		{"example.net", true, true, "example.net. A 192.0.2.10", nil},
		{"wrong.example.org", false, false, "wrong.example.org. CNAME alpha.home.example.com.", []string{"does not point", "203.0.113.7", "192.0.2.10", "--force"}},
		{"elsewhere.example.org", false, false, "elsewhere.example.org. CNAME alpha.home.example.com.", []string{"CNAME cdn.example.com", "198.51.100.1"}},
		{"missing.example.org", false, false, "missing.example.org. CNAME alpha.home.example.com.", []string{"does not exist"}},
	} {
		res := Check(context.Background(), r, c.name, "alpha.home.example.com", "home.example.com")
		if res.OK != c.ok || res.Apex != c.apex || res.Record != c.record {
			t.Errorf("%s: ok %v apex %v record %q, want %v %v %q (%+v)", c.name, res.OK, res.Apex, res.Record, c.ok, c.apex, c.record, res)
		}
		for _, w := range c.explain {
			if !strings.Contains(res.Explain(), w) {
				t.Errorf("%s: explanation lacks %q:\n%s", c.name, w, res.Explain())
			}
		}
	}
}

package platform

import "testing"

func TestHSTSHeader(t *testing.T) {
	for _, c := range []struct {
		domain, hsts, want string
		bad                bool
	}{
		{"home.example.com", "", "max-age=31536000", false},
		{"localhost", "", "", false},
		{"box.lan", "", "", false},
		{"home.arpa", "", "", false},
		{"nas.home.arpa", "", "", false},
		{"corp.internal", "", "", false},
		{"home.example.com", "off", "", false},
		{"localhost", "on", "max-age=31536000", false},
		{"home.example.com", "720h", "max-age=2592000", false},
		{"home.example.com", "forever", "", true},
	} {
		got, err := Config{Domain: c.domain, HSTS: c.hsts}.HSTSHeader()
		if got != c.want || (err != nil) != c.bad {
			t.Errorf("%s hsts %q: %q %v, want %q", c.domain, c.hsts, got, err, c.want)
		}
	}
}

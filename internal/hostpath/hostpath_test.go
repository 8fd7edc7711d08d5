package hostpath

import "testing"

func TestWithin(t *testing.T) {
	for _, c := range []struct {
		p, dir string
		want   bool
	}{
		{"/srv/app", "/srv/app", true},
		{"/srv/app/data/x", "/srv/app", true},
		{"/srv/app-2", "/srv/app", false},
		{"/srv/apps", "/srv/app", false},
		{"/srv", "/srv/app", false},
		{"/etc/passwd", "/", true},
		{"/srv/app/x", "/srv/app/", true},
	} {
		if got := Within(c.p, c.dir); got != c.want {
			t.Errorf("Within(%q, %q) = %v, want %v", c.p, c.dir, got, c.want)
		}
	}
}

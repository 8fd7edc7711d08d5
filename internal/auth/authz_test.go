package auth

import (
	"testing"

	"github.com/stackhub/stackhub/internal/registry"
)

func TestAllowed(t *testing.T) {
	anon := Identity{}
	alice := Identity{User: "alice", Role: RoleAdmin}
	bob := Identity{User: "bob", Role: RoleMember, Groups: []string{"family"}}
	carol := Identity{User: "carol", Role: RoleMember, Groups: []string{"work"}}

	private := registry.Policy{}
	privateExplicit := registry.Policy{Access: registry.Private}
	public := registry.Policy{Access: registry.Public}
	restricted := registry.Policy{Access: registry.Restricted, Users: []string{"Alice"}, Groups: []string{"Family"}}
	withAPI := registry.Policy{Access: registry.Restricted, Users: []string{"alice"}, PublicPaths: []string{"/api/*", "/health", "/hook*", "/a/*/b", ""}}
	bogus := registry.Policy{Access: "everyone"}

	cases := []struct {
		name string
		id   Identity
		p    registry.Policy
		path string
		want bool
	}{
		{"private, signed out", anon, private, "/", false},
		{"private, signed in", carol, private, "/", true},
		{"private explicit, signed in", bob, privateExplicit, "/x", true},
		{"public, signed out", anon, public, "/anything", true},
		{"restricted, listed user (any case)", alice, restricted, "/", true},
		{"restricted, group member (any case)", bob, restricted, "/", true},
		{"restricted, outsider", carol, restricted, "/", false},
		{"restricted, signed out", anon, restricted, "/", false},
		{"unknown access fails closed", alice, bogus, "/", false},

		{"exception prefix", anon, withAPI, "/api/v1/items", true},
		{"exception prefix, directory itself", anon, withAPI, "/api/", true},
		{"exception prefix needs the slash", anon, withAPI, "/api", false},
		{"exception prefix is not a string prefix", anon, withAPI, "/apix/1", false},
		{"exception exact", anon, withAPI, "/health", true},
		{"exception exact only", anon, withAPI, "/health/x", false},
		{"exception exact, trailing slash differs", anon, withAPI, "/healthz", false},
		{"exception bare prefix", anon, withAPI, "/hooks/github", true},
		{"star in the middle is literal", anon, withAPI, "/a/x/b", false},
		{"outside the exceptions", anon, withAPI, "/admin", false},
		{"outside the exceptions, restricted user", alice, withAPI, "/admin", true},
		{"outside the exceptions, outsider", carol, withAPI, "/admin", false},

		{"dot-dot out of the exception", anon, withAPI, "/api/../admin", false},
		{"dot-dot out, deeper", anon, withAPI, "/api/v1/../../admin", false},
		{"dot-dot to the exception's parent", anon, withAPI, "/api/..", false},
		{"dot-dot staying inside", anon, withAPI, "/api/v1/../v2", true},
		{"dot segment", anon, withAPI, "/api/./v1", true},
		{"double slashes", anon, withAPI, "//api//v1", true},
		{"dot-dot into the exception is fine", anon, withAPI, "/x/../api/v1", true},
		{"backslash never matches", anon, withAPI, "/api/..\\admin", false},
		{"percent never matches (double encoding)", anon, withAPI, "/api/%2e%2e/admin", false},
		{"encoded slash never matches", anon, withAPI, "/api%2f..%2fadmin", false},
		{"control character never matches", anon, withAPI, "/api/\x00/x", false},
		{"relative path never matches", anon, withAPI, "api/v1", false},
		{"empty path never matches", anon, withAPI, "", false},
		{"exception does not matter when signed in and allowed", alice, withAPI, "/api/../admin", true},
	}
	for _, c := range cases {
		if got := Allowed(c.id, c.p, c.path); got != c.want {
			t.Errorf("%s: Allowed(%q, %q) = %v, want %v", c.name, c.id.User, c.path, got, c.want)
		}
	}
}

func TestCleanPath(t *testing.T) {
	cases := map[string]string{
		"/":             "/",
		"/a/b":          "/a/b",
		"/a/b/":         "/a/b/",
		"/a/../b":       "/b",
		"/a/./b/":       "/a/b/",
		"//a//b":        "/a/b",
		"/..":           "/",
		"/../":          "/",
		"/a/b/../../..": "/",
	}
	for in, want := range cases {
		if got, ok := CleanPath(in); !ok || got != want {
			t.Errorf("CleanPath(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "a", "/a\\b", "/a%2fb", "/a\x7f", "/a\tb"} {
		if _, ok := CleanPath(in); ok {
			t.Errorf("CleanPath(%q) accepted", in)
		}
	}
}

func BenchmarkAllowed(b *testing.B) {
	id := Identity{User: "bob", Groups: []string{"family", "media"}}
	p := registry.Policy{Access: registry.Restricted, Users: []string{"alice"}, Groups: []string{"media"}, PublicPaths: []string{"/api/*", "/health"}}
	b.ReportAllocs()
	for b.Loop() {
		if !Allowed(id, p, "/photos/2026/album") {
			b.Fatal("refused")
		}
	}
}

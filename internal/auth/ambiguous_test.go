package auth

import (
	"errors"
	"net/url"
	"testing"

	"github.com/stackhub/stackhub/internal/registry"
)

func TestDecideRefusesAmbiguousPathsUnderAnException(t *testing.T) {
	pol := registry.Policy{Access: registry.Private, PublicPaths: []string{"/api/*"}}
	for _, raw := range []string{
		"/secret/../api/x", "/secret%2f..%2fapi/x", "/secret%2F..%2Fapi/x", "/secret/%2e%2e/api/x", "/secret/.%2E/api/x",
		"/api/..;/secret/x", "/api/x;jsessionid=1", "/api/..%5csecret", "/api/..\\secret", "/api/%252e%252e/secret",
		"//api/x", "/api//../secret", "/api/./x", "/api/%3b/x", "/api/%c0%ae%c0%ae/secret",
	} {
		u, err := url.ParseRequestURI(raw)
		if err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		ok, err := Decide(Identity{}, pol, u)
		if ok {
			t.Errorf("%q allowed for a signed-out client", raw)
		}
		// A path that cleans to a private one is a plain "sign in first".
		if err != nil && !errors.Is(err, ErrAmbiguousPath) {
			t.Errorf("%q: %v", raw, err)
		}
	}
	for _, raw := range []string{"/api/x", "/api/", "/api/a%20b", "/api/x?next=/../secret"} {
		u, _ := url.ParseRequestURI(raw)
		if ok, err := Decide(Identity{}, pol, u); !ok || err != nil {
			t.Errorf("plain %q: %v %v", raw, ok, err)
		}
	}
	// A signed-in user allowed on the whole app is not affected.
	u, _ := url.ParseRequestURI("/secret/../api/x;p")
	if ok, err := Decide(Identity{User: "ann"}, pol, u); !ok || err != nil {
		t.Errorf("signed in: %v %v", ok, err)
	}
	// Nor is a public app.
	if ok, err := Decide(Identity{}, registry.Policy{Access: registry.Public}, u); !ok || err != nil {
		t.Errorf("public app: %v %v", ok, err)
	}
}

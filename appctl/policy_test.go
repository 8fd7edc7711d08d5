package appctl

import (
	"context"
	"errors"
	"testing"

	"github.com/stackhub/stackhub/internal/registry"
)

// TestSetPolicyIsKeptAcrossRestarts: a changed access policy is routed at
// once, and kept when the app restarts and when StackHub restarts.
func TestSetPolicyIsKeptAcrossRestarts(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	app, err := writeApp(t, "guarded", simpleApp(testImage, ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.m.Install(ctx, app, InstallOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	host := "guarded.test.localhost"
	if e, _ := h.reg.Lookup(host); e.Policy.Access != registry.Private {
		t.Fatalf("default policy = %+v", e.Policy)
	}
	want := registry.Policy{Access: registry.Restricted, Groups: []string{"family"}, PublicPaths: []string{"/api/*"}}
	if err := h.m.SetPolicy("guarded", want); err != nil {
		t.Fatal(err)
	}
	check := func(when string, reg *registry.Registry) {
		t.Helper()
		e, ok := reg.Lookup(host)
		if !ok || e.Policy.Access != want.Access || len(e.Policy.Groups) != 1 || e.Policy.PublicPaths[0] != "/api/*" {
			t.Errorf("%s: entry %+v (published %v)", when, e, ok)
		}
	}
	check("right after the change", h.reg)
	if err := h.m.Restart(ctx, "guarded", nil); err != nil {
		t.Fatal(err)
	}
	check("after the app restarted", h.reg)

	// StackHub restarts: a new manager on the same state and a new registry.
	reg := registry.New()
	m2, err := New(ctx, h.m.cfg, h.db, reg)
	if err != nil {
		t.Fatal(err)
	}
	m2.Reconcile(ctx)
	check("after StackHub restarted", reg)

	if err := h.m.SetPolicy("nosuchapp", want); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("unknown app: %v", err)
	}
	if err := h.m.Remove(ctx, "guarded", false, nil); err != nil {
		t.Fatal(err)
	}
}

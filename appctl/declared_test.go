package appctl

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/moby/moby/client"

	"github.com/stackhub/stackhub/internal/registry"
	"github.com/stackhub/stackhub/stores"
)

// TestApplyDeclaredAndDomains: a declared app is installed as declared and
// marked managed; a changed value recreates its container, a changed access
// alone does not; custom domains are published as aliases (a redirect alias
// public, pointing at the main URL); settings of a managed app are refused
// elsewhere; removing the app releases its names.
func TestApplyDeclaredAndDomains(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	app, err := writeApp(t, "decl", simpleApp(testImage, "    labels: {greeting: \"${GREETING:-none}\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	app.ID = "decl"
	pub := registry.Policy{Access: registry.Public}
	d := Desired{App: app, Source: "Caddyfile:3", Options: InstallOptions{Values: map[string]string{"GREETING": "one"}, Policy: &pub},
		Domains: []Domain{{Name: "decl.example.org"}, {Name: "example.net", Redirect: true}}}
	if err := h.m.CheckDesired(d); err != nil {
		t.Fatal(err)
	}
	rec, err := h.m.ApplyDeclared(ctx, d, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Managed != "Caddyfile:3" || rec.Values["GREETING"] != "one" {
		t.Errorf("record = managed %q values %v", rec.Managed, rec.Values)
	}
	if ch := h.m.Changes(rec, d); len(ch) != 0 {
		t.Errorf("changes right after applying: %v", ch)
	}
	main, _ := h.reg.Lookup("decl.test.localhost")
	alias, ok := h.reg.Lookup("decl.example.org")
	if !ok || !alias.Alias || alias.Upstream != main.Upstream || alias.Policy.Access != registry.Public || alias.Redirect != "" {
		t.Errorf("alias = %+v (main %+v)", alias, main)
	}
	if r, ok := h.reg.Lookup("example.net"); !ok || r.Redirect != "https://decl.test.localhost" || r.Policy.Access != registry.Public {
		t.Errorf("redirect alias = %+v", r)
	}

	// Managed: settings refused elsewhere, saying where they live.
	if err := h.m.SetPolicy("decl", registry.Policy{Access: registry.Private}); !errors.Is(err, ErrManaged) || !strings.Contains(err.Error(), "Caddyfile:3") {
		t.Errorf("SetPolicy on a managed app: %v", err)
	}
	if _, err := h.m.AddDomain("decl", Domain{Name: "other.example.org"}); !errors.Is(err, ErrManaged) {
		t.Errorf("AddDomain on a managed app: %v", err)
	}
	if err := h.m.Reconfigure(context.Background(), "decl", nil, map[string]string{"GREETING": "two"}, nil); !errors.Is(err, ErrManaged) || HTTPStatus(err) != 409 || !strings.Contains(err.Error(), "Caddyfile:3") {
		t.Errorf("Reconfigure on a managed app: %v", err)
	}
	if err := h.m.Move(context.Background(), "decl", "elsewhere", nil); !errors.Is(err, ErrManaged) || HTTPStatus(err) != 409 {
		t.Errorf("Move on a managed app: %v", err)
	}

	// Access alone changes: no container is recreated.
	before := h.containerIDs(t, "decl")
	priv := registry.Policy{Access: registry.Private}
	d.Options.Policy = &priv
	if ch := h.m.Changes(rec, d); len(ch) != 1 || ch[0] != "access" {
		t.Errorf("changes = %v, want [access]", ch)
	}
	if rec, err = h.m.ApplyDeclared(ctx, d, nil); err != nil {
		t.Fatal(err)
	}
	if got := h.containerIDs(t, "decl"); got != before {
		t.Errorf("an access change recreated containers: %s → %s", before, got)
	}
	if e, _ := h.reg.Lookup("decl.example.org"); e.Policy.Access != registry.Private {
		t.Errorf("alias policy after the change = %+v", e.Policy)
	}
	// A value changes: the container is recreated with it; values not
	// declared keep theirs.
	d.Options.Values = map[string]string{"GREETING": "two"}
	if rec, err = h.m.ApplyDeclared(ctx, d, nil); err != nil {
		t.Fatal(err)
	}
	if got := h.containerIDs(t, "decl"); got == before {
		t.Errorf("a value change did not recreate the container")
	}
	if rec.Values["GREETING"] != "two" {
		t.Errorf("values = %v", rec.Values)
	}

	// A required value missing, a hazard not approved: refused, saying
	// what to write.
	needs := Desired{App: app}
	needs.App.ID = "needs"
	needs.App.Fields = []stores.Field{{Key: "PASSWORD", Label: "Password", Type: stores.FieldText, Required: true}}
	if err := h.m.CheckDesired(needs); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "add `set PASSWORD VALUE`") {
		t.Errorf("missing required value: %v", err)
	}
	risky := Desired{App: app}
	risky.App.ID = "risky"
	risky.App.Hazards = []stores.Hazard{{Name: "privileged", Service: "web", Setting: "privileged", Reason: "full access to the host"}}
	if err := h.m.CheckDesired(risky); !errors.Is(err, ErrHazards) || !strings.Contains(err.Error(), "add `approve privileged`") {
		t.Errorf("unapproved hazard: %v", err)
	}
	risky.Options.ApproveHazardNames = []string{"privileged"}
	if err := h.m.CheckDesired(risky); err != nil {
		t.Errorf("approved hazard: %v", err)
	}

	// Another declaration may not take these names.
	other := Desired{App: app, Options: InstallOptions{Subdomain: "x"}, Domains: []Domain{{Name: "example.net"}}}
	other.App.ID = "other"
	if err := h.m.CheckDesired(other); !errors.Is(err, ErrTaken) {
		t.Errorf("a clash of domains: %v", err)
	}

	// Released, then removed: names go.
	if err := h.m.SetManaged("decl", "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := h.m.RemoveDomain("decl", "decl.example.org"); err != nil {
		t.Fatal(err)
	}
	if _, ok := h.reg.Lookup("decl.example.org"); ok {
		t.Errorf("removed alias still routed")
	}
	if err := h.m.Remove(ctx, "decl", false, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := h.reg.Lookup("example.net"); ok {
		t.Errorf("alias of a removed app still routed")
	}
}

// containerIDs lists the ids of an app's containers.
func (h *harness) containerIDs(t *testing.T, app string) string {
	t.Helper()
	f := client.Filters{}.Add("label", LabelInstance+"="+h.instance, LabelApp+"="+app)
	cl, err := h.docker.ContainerList(context.Background(), client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range cl.Items {
		ids = append(ids, c.ID)
	}
	return strings.Join(ids, ",")
}

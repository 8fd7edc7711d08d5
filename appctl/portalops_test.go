package appctl

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestStatsSubdomainAndSettings: what the portal asks of an installed app
// besides the CLI's operations: resource use per service, whether an
// address is free, and changing a form value, which recreates the app with
// it (a bad value changes nothing).
func TestStatsSubdomainAndSettings(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	app, err := writeApp(t, "greeter", `x-stackhub:
  main: {service: web, port: 8080}
  fields:
    - {key: GREETING, label: Name shown, default: first}
    - {key: SIZE, label: Size, type: number, default: "1"}
    - {key: TOKEN, label: Token, type: password, secret: true, random: true}
services:
  web:
    image: stackhub-testapp:dev
    pull_policy: never
    environment: {PORT: "8080", NAME: "${GREETING}", TOKEN: "${TOKEN}"}
  side:
    image: stackhub-testapp:dev
    pull_policy: never
    environment: {PORT: "8081", NAME: side}
`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.m.Install(ctx, app, InstallOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.m.Remove(context.Background(), "greeter", false, nil) })
	host := "greeter.test.localhost"
	if got := h.get(t, host, "/"); !strings.HasPrefix(got, "hello from first") {
		t.Fatalf("before: %q", got)
	}

	st, err := h.m.Stats(ctx, "greeter")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Services) != 2 || st.Services[0].Service != "side" || st.Services[1].Service != "web" || st.MemoryBytes == 0 {
		t.Errorf("stats: %+v", st)
	}
	if _, err := h.m.Stats(ctx, "nope"); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("stats of no app: %v", err)
	}

	for sub, free := range map[string]bool{"greeter": false, "my": false, "Bad_Name": false, "other": true} {
		err := h.m.CheckSubdomain("another", sub)
		if (err == nil) != free || (err != nil && !errors.Is(err, ErrTaken)) {
			t.Errorf("subdomain %q for another app: %v", sub, err)
		}
	}
	if err := h.m.CheckSubdomain("greeter", "greeter"); err != nil {
		t.Errorf("an app's own subdomain: %v", err)
	}

	var first Record
	h.db.Get(recordKey("greeter"), &first)
	err = h.m.Reconfigure(ctx, "greeter", app.Fields, map[string]string{"SIZE": "big"}, nil)
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("a bad value: %v", err)
	}
	if got := h.get(t, host, "/"); !strings.HasPrefix(got, "hello from first") {
		t.Errorf("after a refused change: %q", got)
	}
	var phases []Phase
	err = h.m.Reconfigure(ctx, "greeter", app.Fields, map[string]string{"GREETING": "second", "TOKEN": ""}, func(e Event) { phases = append(phases, e.Phase) })
	if err != nil {
		t.Fatal(err)
	}
	if len(phases) == 0 || phases[len(phases)-1] != PhaseDone {
		t.Errorf("progress phases: %v", phases)
	}
	if got := h.get(t, host, "/"); !strings.HasPrefix(got, "hello from second") {
		t.Errorf("after the change: %q", got)
	}
	var rec Record
	h.db.Get(recordKey("greeter"), &rec)
	if rec.Values["GREETING"] != "second" || rec.Values["TOKEN"] == "" || rec.Values["TOKEN"] != first.Values["TOKEN"] {
		t.Errorf("values after the change: %v, before: %v (the secret left empty must be kept)", rec.Values, first.Values)
	}
}

// TestMove: an app moved to another subdomain answers there only, keeps
// its data and policy, and a taken or reserved address is refused without
// a change.
func TestMove(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	if _, err := h.m.Install(ctx, counterApp(t), InstallOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.m.Remove(context.Background(), "counter", false, nil) })
	other, err := writeApp(t, "other", simpleApp(testImage, ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.m.Install(ctx, other, InstallOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.m.Remove(context.Background(), "other", false, nil) })
	if got := h.get(t, "counter.test.localhost", "/count"); strings.TrimSpace(got) != "1" {
		t.Fatalf("count before: %q", got)
	}
	for _, bad := range []string{"other", "my", "No Way"} {
		if err := h.m.Move(ctx, "counter", bad, nil); !errors.Is(err, ErrTaken) {
			t.Errorf("move to %q: %v", bad, err)
		}
	}
	if _, ok := h.reg.Lookup("counter.test.localhost"); !ok {
		t.Fatal("a refused move unpublished the app")
	}
	if err := h.m.Move(ctx, "counter", "tally", nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := h.reg.Lookup("counter.test.localhost"); ok {
		t.Error("the old address still routes")
	}
	if got := h.get(t, "tally.test.localhost", "/count"); strings.TrimSpace(got) != "2" {
		t.Errorf("count at the new address (data kept): %q", got)
	}
	st, _ := h.m.Status(ctx, "counter")
	if st.Host != "tally.test.localhost" || !strings.Contains(st.URL, "tally.test.localhost") {
		t.Errorf("record after the move: %s %s", st.Host, st.URL)
	}
}

package appctl

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stackhub/stackhub/stores"
)

// TestRequiredDataIsOneRuleForBothChecks: the data folder of an app this
// one requires (electrs reads bitcoin's blocks) is let through by the
// hazard check and by the containment check alike (requiredData.holds),
// and only that folder: not the required app's other files, not a link
// out of its data folder. No engine needed.
func TestRequiredDataIsOneRuleForBothChecks(t *testing.T) {
	data := t.TempDir()
	m := &Manager{cfg: Config{DataDir: data}}
	btc := filepath.Join(data, "apps", "bitcoin")
	if err := os.MkdirAll(filepath.Join(btc, "data", "blocks"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc", filepath.Join(btc, "data", "out")); err != nil {
		t.Fatal(err)
	}
	rec := &Record{ID: "electrs", Links: Links{Requires: []string{"bitcoin"}}}
	blocks, out, source := filepath.Join(btc, "data", "blocks"), filepath.Join(btc, "data", "out"), filepath.Join(btc, "source")
	bind := func(src string) stores.Hazard {
		return stores.Hazard{Name: "host-path", Service: "electrs", Setting: "volumes: " + src}
	}
	hz := []stores.Hazard{
		bind(blocks), bind(out), bind(source), bind("/srv/media"),
		{Name: "host-path", Service: "electrs", Setting: "env_file: " + filepath.Join(btc, "data", "env")},
		{Name: "privileged", Service: "electrs", Setting: "privileged"},
	}
	kept, err := m.allowRequiredBinds(rec, hz)
	if err != nil {
		t.Fatal(err)
	}
	if want := hz[1:]; !slices.Equal(kept, want) {
		t.Errorf("hazards kept:\n%v\nwant\n%v", kept, want)
	}
	if kept, _ := m.allowRequiredBinds(&Record{ID: "electrs"}, hz); !slices.Equal(kept, hz) {
		t.Errorf("an app that requires nothing had hazards dropped: %v", kept)
	}

	a, err := m.appPaths(rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a.required, err = m.requiredData(rec); err != nil {
		t.Fatal(err)
	}
	if r, problem := a.check(blocks); problem != "" || r != blocks {
		t.Errorf("containment of the required data folder: %q, %q", r, problem)
	}
	for _, src := range []string{out, source} {
		if _, problem := a.check(src); problem == "" {
			t.Errorf("containment let %s through", src)
		}
	}
}

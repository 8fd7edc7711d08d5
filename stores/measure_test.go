package stores

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestStoreSamplesMeasure runs every reader over the stores in the folder
// STACKHUB_STORE_SAMPLES names (casaos/, runtipi/, umbrel/: the shared
// samples, or checkouts of the whole stores) and reports, per store, how
// many apps import and validate: readable, available, and loaded by
// compose-go with their install variables, main service and port. It
// fails when a store is under 95%.
func TestStoreSamplesMeasure(t *testing.T) {
	root := os.Getenv("STACKHUB_STORE_SAMPLES")
	if root == "" {
		t.Skip("STACKHUB_STORE_SAMPLES is not set: set it to a folder of real store samples (casaos/, runtipi/, umbrel/), e.g. ../shared/samples, to measure the readers on them")
	}
	measured := 0
	for _, c := range []struct {
		dir    string
		format Format
	}{{"casaos", FormatCasaOS}, {"runtipi", FormatRuntipi}, {"umbrel", FormatUmbrel}} {
		dir := filepath.Join(root, c.dir)
		if _, err := os.Stat(dir); err != nil {
			t.Logf("%s: no store at %s", c.dir, dir)
			continue
		}
		measured++
		t.Run(c.dir, func(t *testing.T) {
			apps, err := ReadStore(context.Background(), os.DirFS(dir), c.format)
			if err != nil {
				t.Fatalf("read %s: %v", dir, err)
			}
			ok, service := 0, 0
			var failed []string
			for _, a := range apps {
				if reason := importProblem(a); reason != "" {
					failed = append(failed, a.ID+": "+reason)
					continue
				}
				ok++
				if a.NoWebUI {
					service++
				}
			}
			sort.Strings(failed)
			t.Logf("%s: %d of %d apps import and validate (%d of them without a web UI)", c.dir, ok, len(apps), service)
			for _, f := range failed {
				t.Logf("  not importable: %s", f)
			}
			if len(apps) == 0 {
				t.Fatalf("%s holds no app", dir)
			}
			if ok*100 < 95*len(apps) {
				t.Errorf("%s: %d of %d apps (%d%%) import, want at least 95%%", c.dir, ok, len(apps), ok*100/len(apps))
			}
		})
	}
	if measured == 0 {
		t.Fatalf("STACKHUB_STORE_SAMPLES=%s holds none of casaos/, runtipi/, umbrel/", root)
	}
}

// importProblem says why a store app does not import and validate, or "".
func importProblem(a App) string {
	switch {
	case a.Unavailable != "":
		return a.Unavailable
	case !ValidID(a.ID):
		return "invalid id"
	case a.MainService == "":
		return "no main service"
	case !a.NoWebUI && a.MainPort <= 0:
		return "no web UI port"
	}
	p, err := LoadProject(context.Background(), a, ExampleEnv(a))
	if err != nil {
		return strings.SplitN(err.Error(), "\n", 2)[0]
	}
	if _, ok := p.Services[a.MainService]; !ok {
		return "main service " + a.MainService + " not in the project"
	}
	return ""
}

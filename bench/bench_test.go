package bench

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stackhub/stackhub/internal/dockertest"
)

// TestBench is `make bench`: every row for real, written to
// docs/BENCHMARKS.md and bench/results.json. Skipped unless
// STACKHUB_BENCH=1. BENCH_ROUNDS, BENCH_DURATION and BENCH_STACKHUB (a
// prebuilt binary) change the defaults; BENCH_REPORT_ONLY=1 only rewrites
// the document from bench/results.json.
func TestBench(t *testing.T) {
	if os.Getenv("STACKHUB_BENCH") == "" {
		t.Skip("benchmark: run with STACKHUB_BENCH=1 (make bench)")
	}
	cfg := Full()
	if os.Getenv("BENCH_QUICK") != "" {
		cfg = Quick()
	}
	if n, err := strconv.Atoi(os.Getenv("BENCH_ROUNDS")); err == nil && n > 0 {
		cfg.Rounds = n
	}
	if d, err := time.ParseDuration(os.Getenv("BENCH_DURATION")); err == nil && d > 0 {
		cfg.Duration = d
	}
	cfg.Stackhub = os.Getenv("BENCH_STACKHUB")
	cfg.Compose = os.Getenv("BENCH_COMPOSE")
	cfg.Samples = os.Getenv("STACKHUB_STORE_SAMPLES")
	root := dockertest.RepoRoot(t)
	if os.Getenv("BENCH_REPORT_ONLY") != "" {
		// Rewrite docs/BENCHMARKS.md from bench/results.json (after an
		// edit of bench/analysis.md), without measuring anything.
		r, err := ReadResults(filepath.Join(root, "bench", "results.json"))
		if err != nil {
			t.Fatal(err)
		}
		analysis, _ := os.ReadFile(filepath.Join(root, "bench", "analysis.md"))
		if err := r.WriteMarkdown(filepath.Join(root, "docs", "BENCHMARKS.md"), string(analysis)); err != nil {
			t.Fatal(err)
		}
		return
	}
	cfg.Profiles = filepath.Join(root, "bench", "profiles")
	cfg.Command = "make bench"
	r := Run(t, cfg)
	r.Machine.LoadEnd = loadAverage()
	if err := r.WriteJSON(filepath.Join(root, "bench", "results.json")); err != nil {
		t.Fatal(err)
	}
	analysis, _ := os.ReadFile(filepath.Join(root, "bench", "analysis.md"))
	if err := r.WriteMarkdown(filepath.Join(root, "docs", "BENCHMARKS.md"), string(analysis)); err != nil {
		t.Fatal(err)
	}
	for _, m := range r.Measures {
		t.Logf("%d %-16s %-70s %s | %s", m.Row, RowNames[m.Row], m.Name, m.Ours.format(m.Unit, m.Decimals), m.Comparison)
	}
	for _, g := range r.Goals {
		t.Logf("goal %-60s met=%v %s", g.Goal, g.Met, g.Figure)
	}
	if strings.Contains(os.Getenv("BENCH_STRICT"), "1") {
		for _, g := range r.Goals {
			if !g.Met {
				t.Errorf("goal missed: %s (%s)", g.Goal, g.Figure)
			}
		}
	}
}

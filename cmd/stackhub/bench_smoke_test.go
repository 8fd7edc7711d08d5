package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stackhub/stackhub/bench"
)

// TestBenchSmoke runs the benchmark harness of `make bench` with tiny
// durations, one round and two apps, and checks that it produces every
// row of docs/BENCHMARKS.md with a figure for each side. It asserts
// nothing about the figures (that is `make bench`'s document).
func TestBenchSmoke(t *testing.T) {
	cfg := bench.Quick()
	cfg.Stackhub = binary(t, "stackhub")
	cfg.Compose = binary(t, "docker-compose")
	cfg.Command = "TestBenchSmoke"
	r := bench.Run(t, cfg)
	if missing := r.MissingRows(); len(missing) > 0 {
		t.Fatalf("the harness left out: %s", strings.Join(missing, "; "))
	}
	doc := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	if err := r.WriteMarkdown(doc, ""); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJSON(filepath.Join(t.TempDir(), "results.json")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(doc)
	for row := 1; row <= 7; row++ {
		if !strings.Contains(string(b), "| "+bench.RowNames[row]+" |") {
			t.Errorf("the document has no %s row:\n%s", bench.RowNames[row], b)
		}
	}
	if len(r.Goals) < 7 {
		t.Errorf("goals checked: %d, want every goal of issue 15: %+v", len(r.Goals), r.Goals)
	}
}

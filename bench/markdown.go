package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// WriteMarkdown writes docs/BENCHMARKS.md: the table, the goals, the
// profiles, the notes and commands of each row, and the machine. analysis
// (bench/analysis.md, written by hand) is included as is.
func (r *Results) WriteMarkdown(file, analysis string) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# StackHub benchmarks\n\n")
	p("Written by `make bench` (the harness in `bench/`, run as `%s`) on %s, in %s. ", r.Command, r.Started.Format("2006-01-02 15:04 UTC"), r.Finished.Sub(r.Started).Round(1e9))
	p("Every figure is measured against its baseline side by side, in the same run, in alternating rounds (%d rounds unless the row says one run); each cell gives the median with the min–max of the rounds. ", r.Config.Rounds)
	p("Machine-readable: [`bench/results.json`](../bench/results.json).\n\n")
	p("The machine is shared with other work: the load average (1, 5, 15 min) is printed for each measure. It was **%s** at the start and **%s** at the end; on a busy machine throughput figures drop and latencies spread, but both sides of a row share the same conditions.\n\n", r.Machine.LoadStart, r.Machine.LoadEnd)

	p("## Results\n\n| # | Row | Measure | StackHub | Baseline | StackHub vs baseline | Load avg |\n|---|---|---|---|---|---|---|\n")
	for _, m := range r.Measures {
		base := "—"
		if m.Baseline != nil {
			base = m.Baseline.format(m.Unit, m.Decimals) + "<br>" + m.BaselineName
		}
		p("| %d | %s | %s | %s | %s | %s | %s |\n", m.Row, RowNames[m.Row], m.Name, m.Ours.format(m.Unit, m.Decimals), base, m.Comparison, m.Load)
	}

	p("\n## Goals\n\n| Goal | Met | This run |\n|---|---|---|\n")
	for _, g := range r.Goals {
		met := "**missed**"
		if g.Met {
			met = "met"
		}
		p("| %s | %s | %s |\n", g.Goal, met, g.Figure)
	}

	if analysis != "" {
		p("\n%s\n", strings.TrimSpace(analysis))
	}

	if len(r.Profiles) > 0 {
		p("\n## Profiles of this run\n\nKept in `bench/profiles/` (open with `go tool pprof bin/stackhub <file>`; the binary of the run is needed for symbols).\n")
		for _, pr := range r.Profiles {
			p("\n**%s** — `%s`\n\n```\n%s\n```\n", pr.What, pr.File, pr.Summary)
		}
	}

	p("\n## How each row is measured\n")
	for row := 1; row <= 7; row++ {
		if len(r.Notes[row]) == 0 && len(r.Commands[row]) == 0 {
			continue
		}
		p("\n### %d. %s\n\n", row, RowNames[row])
		for _, n := range r.Notes[row] {
			p("%s\n\n", n)
		}
		if len(r.Commands[row]) > 0 {
			p("```\n%s\n```\n", strings.Join(r.Commands[row], "\n"))
		}
	}

	m := r.Machine
	p("\n## Machine and versions\n\n")
	p("| | |\n|---|---|\n| CPU | %s (%d CPUs) |\n| Memory | %s |\n| Kernel | %s |\n| Go | %s |\n| Docker | %s |\n| Compose | %s |\n| hey | %s |\n| dnsperf | %s |\n| CoreDNS | %s |\n| Commit | %s |\n| Load average | %s at the start, %s at the end |\n",
		m.CPU, m.CPUs, m.MemoryGB, m.Kernel, m.Go, m.Docker, m.Compose, m.Hey, m.Dnsperf, m.CoreDNS, m.Commit, m.LoadStart, m.LoadEnd)
	c := r.Config
	p("| Settings | %d rounds, %s of load per side and round, %d connections, %d apps, %d sign-ins, %d churn cycles, %s idle before memory is read, DNS %d s per server and round |\n",
		c.Rounds, c.Duration, c.Conns, c.Apps, c.SignIns, c.Cycles, c.Settle, c.DNSSeconds)
	p("\n## Running it\n\n```\nmake bench                 # ≈ 10–15 min; writes this file and bench/results.json\nSTACKHUB_STORE_SAMPLES=/path/to/stores make bench   # the catalog row on real stores too\n```\n\n")
	p("`make bench` installs Debian's `dnsperf` when missing (as root), builds CoreDNS %s once into the user's cache folder, and builds hey and the Compose CLI from this module's Go tools. A smoke run with tiny durations (TestBenchSmoke in cmd/stackhub) is part of `make test` and checks that every row is produced.\n", coreDNSVersion)
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	return os.WriteFile(file, []byte(b.String()), 0o644)
}

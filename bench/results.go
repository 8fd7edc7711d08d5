package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// Results is one run of the harness, as written to bench/results.json.
type Results struct {
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Command  string    `json:"command"`
	Config   Config    `json:"config"`
	Machine  Machine   `json:"machine"`
	Measures []Measure `json:"measures"`
	Goals    []Goal    `json:"goals"`
	// Commands are the exact load commands of each row, by row number.
	Commands map[int][]string `json:"commands"`
	// Notes say, per row, what was measured and how.
	Notes map[int][]string `json:"notes"`
	// Profiles are the pprof files kept, with a summary of each.
	Profiles []Profile `json:"profiles,omitempty"`
}

// Measure is one line of the table: our figure and its baseline's.
type Measure struct {
	Row          int    `json:"row"`
	Key          string `json:"key"` // stable id, e.g. "proxy.h1.rps"
	Name         string `json:"name"`
	Unit         string `json:"unit"`
	Decimals     int    `json:"decimals"`
	Ours         Stat   `json:"ours"`
	BaselineName string `json:"baseline_name,omitempty"`
	Baseline     *Stat  `json:"baseline,omitempty"`
	Comparison   string `json:"comparison,omitempty"`
	Load         string `json:"load"` // load average when measured
}

// Goal is one of issue 15's goals, met or missed in this run.
type Goal struct {
	Goal   string `json:"goal"`
	Met    bool   `json:"met"`
	Figure string `json:"figure"`
}

// Profile is a kept pprof profile and what it shows.
type Profile struct {
	File    string `json:"file"`
	What    string `json:"what"`
	Summary string `json:"summary,omitempty"`
}

// RowNames are the rows of the table, in order.
var RowNames = map[int]string{
	1: "Proxy", 2: "Gate miss", 3: "DNS", 4: "Footprint", 5: "Install latency", 6: "Route churn", 7: "Catalog",
}

func (r *Results) add(m Measure) {
	m.Load = loadAverage()
	r.Measures = append(r.Measures, m)
}

func (r *Results) command(row int, cmd string) {
	if r.Commands == nil {
		r.Commands = map[int][]string{}
	}
	if !slices.Contains(r.Commands[row], cmd) {
		r.Commands[row] = append(r.Commands[row], cmd)
	}
}

func (r *Results) note(row int, text string) {
	if r.Notes == nil {
		r.Notes = map[int][]string{}
	}
	r.Notes[row] = append(r.Notes[row], text)
}

// Find returns the measure with key.
func (r *Results) Find(key string) (Measure, bool) {
	for _, m := range r.Measures {
		if m.Key == key {
			return m, true
		}
	}
	return Measure{}, false
}

// Rows lists the row numbers that have at least one measure.
func (r *Results) Rows() []int {
	var rows []int
	for _, m := range r.Measures {
		if !slices.Contains(rows, m.Row) {
			rows = append(rows, m.Row)
		}
	}
	slices.Sort(rows)
	return rows
}

// ReadResults reads a results.json written by WriteJSON.
func ReadResults(file string) (*Results, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	r := &Results{}
	if err := json.Unmarshal(b, r); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return r, nil
}

// WriteJSON writes the results as indented JSON.
func (r *Results) WriteJSON(file string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(file, append(b, '\n'), 0o644)
}

// ratio formats a/b as a percentage.
func percent(a, b float64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%%", 100*a/b)
}

func times(a, b float64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func signed(d float64, unit string, decimals int) string {
	return fmt.Sprintf("%+.*f %s", decimals, d, unit)
}

// goals checks each goal of issue 15 against the measures.
func goals(r *Results) []Goal {
	var g []Goal
	get := func(k string) (Measure, bool) { return r.Find(k) }
	for _, proto := range []string{"h1", "h2"} {
		rps, ok1 := get("proxy." + proto + ".rps")
		p99, ok2 := get("proxy." + proto + ".p99")
		if ok1 && ok2 && rps.Baseline != nil && p99.Baseline != nil {
			share := rps.Ours.Median / rps.Baseline.Median
			dp99 := p99.Ours.Median - p99.Baseline.Median
			g = append(g, Goal{Goal: fmt.Sprintf("Proxy (%s): ≥ 95%% of plain throughput, p99 within +0.2 ms", protoName(proto)),
				Met: share >= 0.95 && dp99 <= 0.2, Figure: fmt.Sprintf("%.1f%% of plain, p99 %+.2f ms", 100*share, dp99)})
		}
	}
	if q, ok := get("dns.qps"); ok && q.Baseline != nil {
		x := q.Ours.Median / q.Baseline.Median
		g = append(g, Goal{Goal: "DNS ≥ 1.3× CoreDNS", Met: x >= 1.3, Figure: fmt.Sprintf("%.2f×", x)})
	}
	if m, ok := get("footprint.apps.rss"); ok {
		g = append(g, Goal{Goal: fmt.Sprintf("Idle RSS ≤ 40 MB with %d apps", r.Config.Apps), Met: m.Ours.Median <= 40,
			Figure: fmt.Sprintf("%.1f MB", m.Ours.Median)})
	}
	if m, ok := get("footprint.signins.rss"); ok && m.Baseline != nil {
		d := m.Ours.Median - m.Baseline.Median
		g = append(g, Goal{Goal: fmt.Sprintf("≤ +10 MB after %d sign-ins", r.Config.SignIns), Met: d <= 10,
			Figure: fmt.Sprintf("%+.1f MB", d)})
	}
	for _, k := range []string{"footprint.idle.ready", "footprint.apps.ready"} {
		if m, ok := get(k); ok {
			g = append(g, Goal{Goal: "Start to ready ≤ 1 s (" + strings.TrimPrefix(m.Name, "start → ready, ") + ")", Met: m.Ours.Median <= 1000,
				Figure: fmt.Sprintf("%.0f ms", m.Ours.Median)})
		}
	}
	if m, ok := get("install.total"); ok && m.Baseline != nil {
		d := m.Ours.Median - m.Baseline.Median
		g = append(g, Goal{Goal: "Install overhead ≤ 300 ms", Met: d <= 300, Figure: fmt.Sprintf("%+.0f ms (%s)", d, times(m.Ours.Median, m.Baseline.Median))})
	}
	if m, ok := get("churn.errors"); ok {
		g = append(g, Goal{Goal: "0 errors under churn", Met: m.Ours.Median == 0 && m.Ours.Max == 0, Figure: fmt.Sprintf("%.0f errors", m.Ours.Max)})
	}
	return g
}

func protoName(p string) string {
	if p == "h2" {
		return "HTTP/2"
	}
	return "HTTP/1.1"
}

package adminapi

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/stackhub/stackhub/appctl"
)

// ProgressPrinter writes progress events for a terminal: one line per
// step, byte counts per image layer, and at most one line per second for a
// layer that is downloading.
type ProgressPrinter struct {
	W io.Writer

	mu       sync.Mutex
	last     map[string]time.Time
	lastLine string
}

// Print writes e.
func (p *ProgressPrinter) Print(e appctl.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.last == nil {
		p.last = map[string]time.Time{}
	}
	switch e.Phase {
	case appctl.PhaseImage:
		if e.Total > 0 && e.Current < e.Total {
			if time.Since(p.last[e.Resource]) < time.Second {
				return
			}
			p.last[e.Resource] = time.Now()
			fmt.Fprintf(p.W, "  image  %s: %s %s / %s\n", e.Resource, strings.ToLower(e.Status), byteSize(e.Current), byteSize(e.Total))
			return
		}
		if e.Total > 0 {
			fmt.Fprintf(p.W, "  image  %s: %s, %s\n", e.Resource, e.Status, byteSize(e.Total))
			return
		}
		if e.Status != "" {
			fmt.Fprintf(p.W, "  image  %s: %s\n", e.Resource, e.Status)
		}
	case appctl.PhaseCompose:
		if e.Resource == "" || e.Status == "" {
			return
		}
		line := fmt.Sprintf("  %s: %s", e.Resource, e.Status)
		if e.Message != "" {
			line += " (" + e.Message + ")"
		}
		if line == p.lastLine { // Compose reports some steps twice
			return
		}
		p.lastLine = line
		fmt.Fprintln(p.W, line)
	case appctl.PhaseDone:
		if e.Message != "" {
			fmt.Fprintln(p.W, e.Message)
		} else {
			fmt.Fprintf(p.W, "%s %s\n", e.App, e.Status)
		}
	case appctl.PhaseError:
		if e.Code == 0 {
			fmt.Fprintf(p.W, "  %s: %s %s\n", e.Resource, e.Status, e.Message)
		}
	default:
		line := "  " + e.Status
		if e.Message != "" {
			line += ": " + e.Message
		}
		fmt.Fprintln(p.W, line)
	}
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

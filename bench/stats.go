package bench

import (
	"fmt"
	"slices"
)

// Stat is one figure over several rounds: the median, with the smallest
// and largest round.
type Stat struct {
	Median float64   `json:"median"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
	Rounds []float64 `json:"rounds"`
}

// statOf summarizes the rounds (an empty Stat when there are none).
func statOf(rounds []float64) Stat {
	if len(rounds) == 0 {
		return Stat{}
	}
	s := slices.Clone(rounds)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Stat{Median: m, Min: s[0], Max: s[len(s)-1], Rounds: rounds}
}

// format prints the median and the range with the unit, e.g.
// "1234 req/s (1200–1300)".
func (s Stat) format(unit string, decimals int) string {
	if len(s.Rounds) == 0 {
		return "n/a"
	}
	f := fmt.Sprintf("%%.%df", decimals)
	med := fmt.Sprintf(f, s.Median)
	if len(s.Rounds) == 1 {
		return med + " " + unit
	}
	return fmt.Sprintf("%s %s (%s–%s)", med, unit, fmt.Sprintf(f, s.Min), fmt.Sprintf(f, s.Max))
}

// percentile returns the p-quantile (0..1) of sorted values.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(float64(len(sorted)-1)*p)]
}

// ptr returns a pointer to a copy of s (measures keep their own baseline).
func ptr(s Stat) *Stat { return &s }

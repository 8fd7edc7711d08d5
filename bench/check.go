package bench

import "strconv"

// MissingRows lists the rows (1–7) that have no measure, and the measures
// without a figure.
func (r *Results) MissingRows() []string {
	var missing []string
	have := map[int]bool{}
	for _, m := range r.Measures {
		have[m.Row] = true
		if len(m.Ours.Rounds) == 0 || (m.Baseline != nil && len(m.Baseline.Rounds) == 0) {
			missing = append(missing, "measure "+m.Key+" has no figure")
		}
	}
	for row := 1; row <= 7; row++ {
		if !have[row] {
			missing = append(missing, "row "+strconv.Itoa(row)+" "+RowNames[row])
		}
	}
	return missing
}

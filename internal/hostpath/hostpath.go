// Package hostpath holds the rule the app checks share about folders on
// the host: whether a path lies in a folder. The hazard check (stores)
// applies it to the paths a compose file names, the containment check
// (appctl) to the same paths once resolved on the host; both must agree on
// what "inside" is, so there is one implementation.
package hostpath

import "strings"

// Within reports whether p is dir or below it. Both are clean and
// absolute; "/srv/app-2" is not within "/srv/app".
func Within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

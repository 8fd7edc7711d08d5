package caddymodules

import (
	"os"
	"runtime/debug"
)

// upMemoryLimit is the Go runtime's soft memory limit that `stackhub up`
// sets when GOMEMLIMIT is not given. StackHub idles with a live heap of
// ~15 MB, but a password hash (argon2id) takes tens of MB for a moment; with
// GOGC alone the heap goal then stays inflated and the runtime keeps the
// freed pages, so the process holds them long after a few sign-ins
// (docs/BENCHMARKS.md, footprint). A soft limit makes the runtime collect
// and return memory above it to the system promptly. It is soft: a larger
// need is met (the GC works harder meanwhile), nothing fails.
const upMemoryLimit = 32 << 20

// applyMemoryDefaults sets the soft memory limit unless the user chose one
// (GOMEMLIMIT in the environment, which the runtime already applied).
func applyMemoryDefaults() {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(upMemoryLimit)
}

package main

import "runtime/debug"

// defaultGCPercent is the collector's target when the operator tuned
// none: the heap may grow by half its live size between collections
// instead of Go's default of all of it. Most of a Halyard node's heap is
// long-lived (members, idle sockets), and the Go runtime keeps the pages
// the heap once reached, so the resident size follows the target: at
// 50, an idle WebSocket costs about a quarter less RSS (BENCHMARKS.md,
// "Performance round 2 — idle sockets"), for collections twice as often.
const defaultGCPercent = 50

// setGCDefault applies defaultGCPercent unless the environment tunes the
// collector itself (GOGC, or GOMEMLIMIT, which the runtime paces the
// heap against): the operator's setting always wins. It reports whether
// it changed anything.
func setGCDefault(environ map[string]string) bool {
	for _, k := range []string{"GOGC", "GOMEMLIMIT"} {
		if _, set := environ[k]; set {
			return false
		}
	}
	debug.SetGCPercent(defaultGCPercent)
	return true
}

package main

import (
	"crypto/sha256"
	"os"
	"testing"
)

// TestCPUSpan: a span over this process's own work reads a positive CPU
// time per event, and none for a process that cannot be read or for no
// events.
func TestCPUSpan(t *testing.T) {
	span := startCPU(os.Getpid())
	before, _ := processCPU(os.Getpid())
	sum := sha256.Sum256(nil)
	for {
		// Work until /proc (hundredths of a second) shows some.
		for range 10_000 {
			sum = sha256.Sum256(sum[:])
		}
		if now, _ := processCPU(os.Getpid()); now-before >= 50e6 {
			break
		}
	}
	if got := span.perEvent(1000); got <= 0 {
		t.Fatalf("perEvent = %v µs after ≥ 50 ms of work, want > 0", got)
	}
	if got := span.perEvent(0); got != 0 {
		t.Fatalf("perEvent(0) = %v, want 0", got)
	}
	if got := startCPU(-1).perEvent(10); got != 0 {
		t.Fatalf("perEvent of no process = %v, want 0", got)
	}
}

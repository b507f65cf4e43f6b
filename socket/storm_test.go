package socket

import (
	"testing"
	"time"
)

// TestStormWatch: memory is released once a burst of at least min
// upgrades has stopped, not while upgrades keep coming, not after a
// smaller burst, and not twice within every.
func TestStormWatch(t *testing.T) {
	w := &stormWatch{min: 3, quiet: time.Hour, every: time.Minute, release: func() { t.Error("the timer released") }}
	defer w.stop()
	now := time.Now()
	burst := func(n int) {
		for range n {
			w.upgraded()
		}
	}
	burst(3)
	if w.step(now) {
		t.Fatal("released while upgrades were still coming")
	}
	if !w.step(now) {
		t.Fatal("a burst of 3 that stopped was not released")
	}
	burst(5)
	w.step(now.Add(10 * time.Second))
	if w.step(now.Add(20 * time.Second)) {
		t.Fatal("released twice within a minute")
	}
	burst(2)
	w.step(now.Add(2 * time.Minute))
	if w.step(now.Add(2 * time.Minute)) {
		t.Fatal("released after a burst of 2 (min 3)")
	}
	burst(4)
	w.step(now.Add(3 * time.Minute))
	if !w.step(now.Add(3 * time.Minute)) {
		t.Fatal("a later burst was not released")
	}
	if w.timer != nil {
		t.Error("the checks go on after the burst ended")
	}
}

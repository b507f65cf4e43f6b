package socket

import (
	"testing"
	"time"
)

// TestStormWatch: memory is released once a burst of at least min
// upgrades has stopped and messages have calmed down, not while upgrades
// keep coming or the sockets are busy, not after a smaller burst, and not
// twice within every.
func TestStormWatch(t *testing.T) {
	var open, msgs int64 = 100, 0
	w := &stormWatch{min: 3, quiet: time.Hour, every: time.Minute, release: func() { t.Error("the timer released") },
		traffic: func() (int64, int64) { return open, msgs }}
	defer w.stop()
	now := time.Now()
	burst := func(n int) {
		for range n {
			w.upgraded()
		}
	}
	burst(3)
	if w.step(now, open, msgs) {
		t.Fatal("released while upgrades were still coming")
	}
	msgs += 10 // one message per 10 sockets: a fan-out to the new sockets
	if w.step(now, open, msgs) {
		t.Fatal("released while the sockets were busy")
	}
	msgs += 9 // fewer: idle clients' heartbeats
	if !w.step(now, open, msgs) {
		t.Fatal("a burst of 3 that stopped was not released")
	}
	burst(5)
	w.step(now.Add(10*time.Second), open, msgs)
	if w.step(now.Add(20*time.Second), open, msgs) {
		t.Fatal("released twice within a minute")
	}
	burst(2)
	w.step(now.Add(2*time.Minute), open, msgs)
	if w.step(now.Add(2*time.Minute), open, msgs) {
		t.Fatal("released after a burst of 2 (min 3)")
	}
	burst(4)
	w.step(now.Add(3*time.Minute), open, msgs)
	if !w.step(now.Add(3*time.Minute), open, msgs) {
		t.Fatal("a later burst was not released")
	}
	if w.timer != nil {
		t.Error("the checks go on after the burst ended")
	}
}

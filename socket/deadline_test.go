package socket

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestDeadlineWheel: every deadline of the engine's one wheel wakes its
// actor once it is due and has then passed; a stopped one never wakes
// it and has not passed; SetIfUnset leaves a pending deadline alone; the
// wheel keeps no deadline that fired or stopped.
func TestDeadlineWheel(t *testing.T) {
	e := NewEngine()
	defer e.Close()
	const n = 60
	type owner struct {
		dl     Deadline
		wakes  atomic.Int32
		passed atomic.Bool
	}
	owners := make([]*owner, n)
	fired := make(chan int, n)
	for i := range owners {
		o := &owner{}
		o.dl = e.NewDeadline(e.NewActor(func() {
			if o.dl.Passed() && !o.passed.Swap(true) {
				o.wakes.Add(1)
				fired <- i
			}
		}))
		owners[i] = o
	}
	for i, o := range owners {
		o.dl.Set(time.Duration(1+i%20) * time.Millisecond)
	}
	// A pending deadline keeps its time: SetIfUnset does not push it out.
	owners[1].dl.SetIfUnset(time.Hour)
	stopped := map[int]bool{}
	for i := 0; i < n; i += 7 {
		owners[i].dl.Stop()
		stopped[i] = true
	}
	for range n - len(stopped) {
		select {
		case i := <-fired:
			if stopped[i] {
				t.Fatalf("deadline %d fired after Stop", i)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("not every deadline fired")
		}
	}
	for i, o := range owners {
		if stopped[i] && (o.dl.Passed() || o.wakes.Load() != 0) {
			t.Errorf("stopped deadline %d: passed %v, %d wakes", i, o.dl.Passed(), o.wakes.Load())
		}
	}
	e.deadlines.mu.Lock()
	left := len(e.deadlines.set)
	e.deadlines.mu.Unlock()
	if left != 0 {
		t.Errorf("%d deadlines still in the wheel after all fired or stopped", left)
	}
}

// TestDeadlineWheelSlots: removing deadlines in any order keeps each
// remaining one's slot pointing at itself, and a deadline set again
// replaces its time rather than entering the wheel twice.
func TestDeadlineWheelSlots(t *testing.T) {
	e := NewEngine()
	defer e.Close()
	a := e.NewActor(func() {})
	dls := make([]Deadline, 10)
	for i := range dls {
		dls[i] = e.NewDeadline(a)
		dls[i].Set(time.Hour)
	}
	dls[3].Set(2 * time.Hour)
	for _, i := range []int{0, 9, 4} {
		dls[i].Stop()
	}
	w := &e.deadlines
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.set) != 7 {
		t.Fatalf("%d deadlines in the wheel, want 7", len(w.set))
	}
	for i, d := range w.set {
		if int(d.slot) != i+1 {
			t.Errorf("entry %d has slot %d", i, d.slot)
		}
	}
	if got := time.Duration(dls[3].due.Load() - time.Now().UnixNano()); got < time.Hour {
		t.Errorf("deadline set again is due in %v, want the later setting", got)
	}
}

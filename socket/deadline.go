package socket

import (
	"sync"
	"sync/atomic"
	"time"
)

// Deadline wakes an actor once a coarse deadline has passed: an idle
// rule, an INIT deadline, a heartbeat timeout. Every deadline of an
// engine sits in one wheel with one runtime timer, instead of a
// time.Timer per connection (≈ 110 B and an entry in a timer heap for
// every idle socket, issue 17). A deadline fires at or after its due time,
// late by at most a sixteenth of its duration (1 ms to 1 s): the wheel
// fires every deadline that is due together, so 100 000 sockets' idle
// rules cost a wake-up a second at most, not one each.
//
// The owner embeds a Deadline (Engine.NewDeadline) and must not copy it
// once set. The actor's run compares the clock with the deadline itself
// (Passed): firing only wakes it, and a wake-up for other work may come
// first.
type Deadline struct {
	w     *deadlineWheel
	a     *Actor
	due   atomic.Int64 // unix nanoseconds; 0: not set. Written under w.mu.
	slack int32        // how late it may fire, in microseconds; under w.mu
	slot  int32        // 1 + index in w.set; 0: not in the wheel. Under w.mu.
}

// late is the latest time to fire d. Called with w.mu held.
func (d *Deadline) late() int64 { return d.due.Load() + int64(d.slack)*int64(time.Microsecond) }

// deadlineWheel is an engine's set of pending deadlines and its one timer.
type deadlineWheel struct {
	mu     sync.Mutex
	set    []*Deadline
	timer  *time.Timer
	at     int64 // when the timer fires (unix nanoseconds); 0: not armed
	fired  []*Actor
	closed bool
}

// NewDeadline returns a deadline, not set, that wakes a.
func (e *Engine) NewDeadline(a *Actor) Deadline { return Deadline{w: &e.deadlines, a: a} }

// deadlineSlack is how late a deadline of duration d may fire, in
// microseconds.
func deadlineSlack(d time.Duration) int32 {
	return int32(min(max(d/16, time.Millisecond), time.Second) / time.Microsecond)
}

// Set makes the deadline due after d from now, replacing an earlier
// setting.
func (d *Deadline) Set(after time.Duration) {
	now := time.Now().UnixNano()
	w := d.w
	w.mu.Lock()
	defer w.mu.Unlock()
	w.setLocked(d, now+int64(after), deadlineSlack(after))
}

// SetIfUnset sets the deadline to after from now unless it is pending:
// an idle rule's lazy re-arm, where a pending earlier check will re-arm
// in turn.
func (d *Deadline) SetIfUnset(after time.Duration) {
	now := time.Now().UnixNano()
	w := d.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if d.slot == 0 {
		w.setLocked(d, now+int64(after), deadlineSlack(after))
	}
}

// Stop clears the deadline: it neither fires nor has passed.
func (d *Deadline) Stop() {
	if d.w == nil {
		return
	}
	w := d.w
	w.mu.Lock()
	defer w.mu.Unlock()
	w.removeLocked(d)
	d.due.Store(0)
}

// Passed reports whether the deadline is set and due.
func (d *Deadline) Passed() bool {
	due := d.due.Load()
	return due != 0 && time.Now().UnixNano() >= due
}

func (w *deadlineWheel) setLocked(d *Deadline, due int64, slack int32) {
	d.due.Store(due)
	d.slack = slack
	if d.slot == 0 {
		w.set = append(w.set, d)
		d.slot = int32(len(w.set))
	}
	if late := d.late(); !w.closed && (w.at == 0 || late < w.at) {
		w.armLocked(late)
	}
}

func (w *deadlineWheel) removeLocked(d *Deadline) {
	if d.slot == 0 {
		return
	}
	i, last := d.slot-1, len(w.set)-1
	w.set[i] = w.set[last]
	w.set[i].slot = i + 1
	w.set[last] = nil
	w.set = w.set[:last]
	d.slot = 0
	if len(w.set) == 0 && cap(w.set) > 1024 {
		w.set = nil // a storm of connections is over: give its array back
	}
}

func (w *deadlineWheel) armLocked(at int64) {
	w.at = at
	wait := time.Duration(at - time.Now().UnixNano())
	if w.timer == nil {
		w.timer = time.AfterFunc(wait, w.fire)
	} else {
		w.timer.Reset(wait)
	}
}

// fire wakes the actor of every deadline that is due, takes those out of
// the wheel and arms the timer for the earliest latest-time of the rest.
func (w *deadlineWheel) fire() {
	now := time.Now().UnixNano()
	w.mu.Lock()
	w.at = 0
	next := int64(0)
	for i := 0; i < len(w.set); {
		d := w.set[i]
		if d.due.Load() <= now {
			w.fired = append(w.fired, d.a)
			w.removeLocked(d) // the last entry moves to i
			continue
		}
		if late := d.late(); next == 0 || late < next {
			next = late
		}
		i++
	}
	if next != 0 && !w.closed {
		w.armLocked(next)
	}
	fired := w.fired
	w.fired = nil
	w.mu.Unlock()
	for i, a := range fired {
		a.Wake()
		fired[i] = nil
	}
	w.mu.Lock()
	if w.fired == nil && cap(fired) <= 1024 {
		w.fired = fired[:0]
	}
	w.mu.Unlock()
}

// close stops the timer: deadlines set later never fire (the engine's
// connections are gone by then).
func (w *deadlineWheel) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	if w.timer != nil {
		w.timer.Stop()
	}
}

package socket

import (
	"runtime/debug"
	"sync"
	"time"
)

// After a storm of upgrades — every client reconnecting after a restart
// or a network blip — the heap holds each upgrade's garbage (net/http's
// request, its headers and buffers: several KB a connection) next to the
// sockets, and an idle server allocates too little for the collector to
// run again soon: the process keeps that memory. Once a burst of at least
// stormMin upgrades is followed by a quiet stormQuiet — no upgrade, and
// fewer messages in and out than one per stormBusyPer open connections,
// so that a fan-out to the new sockets is not slowed — the engine collects
// the garbage and returns the freed pages to the OS (debug.FreeOSMemory:
// one full collection and a scavenge, tens of milliseconds for a heap of
// 100 MB), at most once per stormEvery. A steady trickle of connections
// never triggers it, and a busy server (whose collector runs anyway)
// defers it until it calms down.
const (
	stormMin   = 1000
	stormQuiet = time.Second
	stormEvery = time.Minute
	// stormBusyPer: a second with at least one message per this many open
	// connections is not quiet (idle clients' heartbeats, one every 20 to
	// 30 s each, stay below it).
	stormBusyPer = 10
)

// stormWatch counts an engine's upgrades and releases memory after a
// burst (see stormMin).
type stormWatch struct {
	min          int64
	quiet, every time.Duration
	release      func()
	// traffic reads the engine's open connections and its messages in
	// and out so far.
	traffic func() (open, msgs int64)

	mu    sync.Mutex
	count int64 // upgrades since the last check
	burst int64 // upgrades of the burst in progress
	timer *time.Timer
	last  time.Time // the last release
	msgs  int64     // traffic's messages at the last check
}

func newStormWatch(traffic func() (open, msgs int64)) *stormWatch {
	return &stormWatch{min: stormMin, quiet: stormQuiet, every: stormEvery, release: debug.FreeOSMemory, traffic: traffic}
}

// upgraded counts one upgrade; the first of a burst starts the checks.
func (w *stormWatch) upgraded() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.count++
	w.burst++
	if w.timer == nil {
		_, w.msgs = w.traffic()
		w.timer = time.AfterFunc(w.quiet, w.tick)
	}
}

func (w *stormWatch) tick() {
	open, msgs := w.traffic()
	if w.step(time.Now(), open, msgs) {
		w.release()
	}
}

// step is one check, given the engine's open connections and messages so
// far: while upgrades keep coming or messages flow it checks again after
// quiet; once both stopped it ends the burst and reports whether to
// release memory (a burst of at least min upgrades, the last release at
// least every ago).
func (w *stormWatch) step(now time.Time, open, msgs int64) (release bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	busy := msgs-w.msgs >= max(1, open/stormBusyPer)
	w.msgs = msgs
	if w.count > 0 || busy {
		w.count = 0
		if w.timer != nil {
			w.timer.Reset(w.quiet)
		}
		return false
	}
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
	release = w.burst >= w.min && (w.last.IsZero() || now.Sub(w.last) >= w.every)
	if release {
		w.last = now
	}
	w.burst = 0
	return release
}

// stop ends the checks (Engine.Close).
func (w *stormWatch) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
}

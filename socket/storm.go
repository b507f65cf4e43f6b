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
// stormMin upgrades is followed by stormQuiet without one, the engine
// collects it and returns the freed pages to the OS (debug.FreeOSMemory:
// one full collection and a scavenge, tens of milliseconds for a heap of
// 100 MB), at most once per stormEvery. A steady trickle of connections
// never triggers it.
const (
	stormMin   = 1000
	stormQuiet = time.Second
	stormEvery = time.Minute
)

// stormWatch counts an engine's upgrades and releases memory after a
// burst (see stormMin).
type stormWatch struct {
	min          int64
	quiet, every time.Duration
	release      func()

	mu    sync.Mutex
	count int64 // upgrades since the last check
	burst int64 // upgrades of the burst in progress
	timer *time.Timer
	last  time.Time // the last release
}

func newStormWatch() *stormWatch {
	return &stormWatch{min: stormMin, quiet: stormQuiet, every: stormEvery, release: debug.FreeOSMemory}
}

// upgraded counts one upgrade; the first of a burst starts the checks.
func (w *stormWatch) upgraded() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.count++
	w.burst++
	if w.timer == nil {
		w.timer = time.AfterFunc(w.quiet, w.tick)
	}
}

func (w *stormWatch) tick() {
	if w.step(time.Now()) {
		w.release()
	}
}

// step is one check: while upgrades keep coming it checks again after
// quiet; once they stopped it ends the burst and reports whether to
// release memory (a burst of at least min upgrades, the last release at
// least every ago).
func (w *stormWatch) step(now time.Time) (release bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.count > 0 {
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

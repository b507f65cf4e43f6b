package socket

import (
	"sync"
)

// Engine owns everything the process's long-lived connections share: the
// worker pool their actors and read turns run on, the epoll set that
// watches idle sockets, the prepared-frame table, and the registry of
// live connections, grouped by endpoint. Nothing of it is process-wide:
// two engines (two servers in one test binary) share nothing, and Close
// ends what one engine started.
//
// An engine starts no goroutine until its first socket: the pool's
// workers start with the first task and the poller with the first
// registered socket.
type Engine struct {
	pool *workPool

	pollOnce sync.Once
	poll     *poller

	// Prepared frames payloads that many of the engine's sockets send
	// alike (see PreparedFrames); dialects share it.
	Prepared PreparedFrames

	// limits counts capped sockets' messages (caps.go).
	limits *messageLimits

	// deadlines holds every connection's idle rule or protocol deadline
	// (deadline.go).
	deadlines deadlineWheel

	// storm releases memory after a burst of upgrades (storm.go).
	storm *stormWatch

	mu     sync.Mutex
	groups map[string]*Group
	closed bool
}

// NewEngine returns an engine with no connection yet.
func NewEngine() *Engine {
	e := &Engine{pool: newSocketPool(), groups: map[string]*Group{}, limits: newMessageLimits()}
	e.storm = newStormWatch(e.traffic)
	return e
}

// traffic sums every group's open connections and messages in and out.
func (e *Engine) traffic() (open, msgs int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, g := range e.groups {
		g.mu.Lock()
		open += int64(len(g.live))
		g.mu.Unlock()
		msgs += g.in.Load() + g.out.Load()
	}
	return open, msgs
}

// poller returns the engine's epoll set, created with the first socket;
// nil where there is none (every socket then has a waiter goroutine).
func (e *Engine) poller() *poller {
	e.pollOnce.Do(func() { e.poll = newPoller() })
	return e.poll
}

// Group returns the engine's group of that name, creating it on first
// use: one per endpoint or dialect ("lanyard", "lantern", "socket" for
// the shared endpoint's first phase). A group created after Close is
// closed already.
func (e *Engine) Group(name string) *Group {
	e.mu.Lock()
	defer e.mu.Unlock()
	g, ok := e.groups[name]
	if !ok {
		g = newGroup(name)
		if e.closed {
			g.Close()
		}
		e.groups[name] = g
	}
	return g
}

// Close ends every connection of every group — each hears GoingAway and
// closes itself as its protocol says (1001 Going Away for the WebSocket
// dialects, within their close grace) — refuses new ones, and returns
// once all have finished; then it stops the pool's idle workers and
// releases the epoll set. Call it on shutdown, after the HTTP server
// stopped accepting requests. Safe to call twice.
func (e *Engine) Close() {
	e.mu.Lock()
	e.closed = true
	groups := make([]*Group, 0, len(e.groups))
	for _, g := range e.groups {
		groups = append(groups, g)
	}
	e.mu.Unlock()
	for _, g := range groups {
		g.closeStart()
	}
	for _, g := range groups {
		g.wait()
	}
	e.deadlines.close()
	e.storm.stop()
	e.pool.close()
	e.pollOnce.Do(func() {}) // no poller after Close
	e.poll.close()
}

package socket

import (
	"runtime"
	"sync"
	"time"
)

// workPool runs short tasks (a socket's read turn, a connection's pending
// writes) on a few shared goroutines instead of one or two goroutines per
// connection. It keeps a core of GOMAXPROCS×2 workers, grows by a bounded
// burst when all are busy (socketPool says why), and beyond that grows
// only when stuck: while tasks wait and no worker has taken one for
// stallAfter (every worker blocked, e.g. on stalled clients' writes, each
// bounded by its write deadline), a watchdog adds a worker, up to max, so
// a stalled client delays nobody else for long. Workers beyond the core
// exit as soon as the queue is empty.
type workPool struct {
	mu       sync.Mutex
	cond     *sync.Cond
	queue    []func()
	head     int
	idle     int // workers waiting in cond.Wait
	workers  int
	core     int
	max      int
	progress time.Time // when a worker last took a task
	watching bool      // the watchdog runs
	burst    int       // workers added at once when none is idle, beyond core
	closed   bool      // the engine closed: workers exit once the queue is empty
}

// stallAfter is how long queued tasks may wait without any worker taking
// one before the pool adds a worker.
const stallAfter = 5 * time.Millisecond

func newWorkPool(core, max int) *workPool {
	p := &workPool{core: core, max: max}
	p.cond = sync.NewCond(&p.mu)
	return p
}

// newSocketPool returns an engine's pool. It starts no goroutine: workers
// start with the first task.
//
// Beyond the core it adds up to burst workers at once whenever none is
// idle: a write to a client whose socket buffer is full blocks until the
// client reads, and during a fan-out backlog many do, so a few dozen
// workers keep the CPUs busy where GOMAXPROCS workers would all sit in
// such writes. Past that, only the stall watchdog adds workers.
func newSocketPool() *workPool {
	p := newWorkPool(2*runtime.GOMAXPROCS(0), 4096)
	p.burst = 16 * runtime.GOMAXPROCS(0)
	return p
}

// close lets every worker exit once the queue is empty. Tasks submitted
// later still run (a timer that fires late), on a worker that then exits.
func (p *workPool) close() {
	p.mu.Lock()
	p.closed = true
	p.cond.Broadcast()
	p.mu.Unlock()
}

// submit queues task; it never blocks (callers hold the hub's lock).
func (p *workPool) submit(task func()) {
	p.mu.Lock()
	p.queue = append(p.queue, task)
	switch {
	case p.idle > 0:
		p.cond.Signal()
	case p.workers < p.core+p.burst:
		p.workers++
		go p.work()
	case !p.watching:
		p.watching = true
		go p.watch()
	}
	p.mu.Unlock()
}

// watch adds workers while the queue is stuck and stops once it is empty.
func (p *workPool) watch() {
	for {
		time.Sleep(stallAfter)
		p.mu.Lock()
		if p.head == len(p.queue) {
			p.watching = false
			p.mu.Unlock()
			return
		}
		if time.Since(p.progress) >= stallAfter && p.workers < p.max {
			p.workers++
			p.progress = time.Now() // give the new worker its turn before adding another
			go p.work()
		}
		p.mu.Unlock()
	}
}

func (p *workPool) work() {
	p.mu.Lock()
	for {
		for p.head == len(p.queue) {
			p.queue, p.head = p.queue[:0], 0
			if cap(p.queue) > 4096 {
				p.queue = nil // a burst is over: give its backlog array back
			}
			if p.workers > p.core || p.closed {
				p.workers--
				p.mu.Unlock()
				return
			}
			p.idle++
			p.cond.Wait()
			p.idle--
		}
		task := p.queue[p.head]
		p.queue[p.head] = nil
		p.head++
		p.progress = time.Now()
		p.mu.Unlock()
		task()
		p.mu.Lock()
	}
}

// Actor serialises one connection's work on its engine's pool: Wake
// schedules run; run is never executed twice at once, and a Wake that
// arrives while it runs makes it run once more, so no wake-up is lost. An
// idle actor holds no goroutine.
type Actor struct {
	pool    *workPool
	run     func()
	mu      sync.Mutex
	running bool
	again   bool
}

// NewActor returns an actor that executes run on the engine's pool.
func (e *Engine) NewActor(run func()) *Actor { return &Actor{pool: e.pool, run: run} }

// Wake schedules the actor's run. It never blocks.
func (a *Actor) Wake() {
	a.mu.Lock()
	if a.running {
		a.again = true
		a.mu.Unlock()
		return
	}
	a.running = true
	a.mu.Unlock()
	a.pool.submit(a.loop)
}

func (a *Actor) loop() {
	for {
		a.run()
		a.mu.Lock()
		if !a.again {
			a.running = false
			a.mu.Unlock()
			return
		}
		a.again = false
		a.mu.Unlock()
	}
}

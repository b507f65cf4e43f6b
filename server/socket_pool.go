package server

import (
	"runtime"
	"sync"
)

// workPool runs short tasks (a socket's read turn, a connection's pending
// writes) on a few shared goroutines instead of one or two goroutines per
// connection. It keeps a core of GOMAXPROCS×2 workers and grows, up to
// max, only while every worker is busy — a worker blocked on a stalled
// client's write (bounded by its write deadline) therefore delays nobody
// else: the next task gets a fresh worker. Workers beyond the core exit as
// soon as the queue is empty.
type workPool struct {
	mu      sync.Mutex
	cond    *sync.Cond
	queue   []func()
	head    int
	idle    int // workers waiting in cond.Wait
	workers int
	core    int
	max     int
}

func newWorkPool(core, max int) *workPool {
	p := &workPool{core: core, max: max}
	p.cond = sync.NewCond(&p.mu)
	return p
}

// socketPool is the engine's shared pool.
var socketPool = newWorkPool(2*runtime.GOMAXPROCS(0), 4096)

// submit queues task; it never blocks (callers hold the hub's lock).
func (p *workPool) submit(task func()) {
	p.mu.Lock()
	p.queue = append(p.queue, task)
	switch {
	case p.idle > 0:
		p.cond.Signal()
	case p.workers < p.max:
		p.workers++
		go p.work()
	}
	p.mu.Unlock()
}

func (p *workPool) work() {
	p.mu.Lock()
	for {
		for p.head == len(p.queue) {
			p.queue, p.head = p.queue[:0], 0
			if cap(p.queue) > 4096 {
				p.queue = nil // a burst is over: give its backlog array back
			}
			if p.workers > p.core {
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
		p.mu.Unlock()
		task()
		p.mu.Lock()
	}
}

// Actor serialises one connection's work on the shared pool: Wake
// schedules run; run is never executed twice at once, and a Wake that
// arrives while it runs makes it run once more, so no wake-up is lost. An
// idle actor holds no goroutine.
type Actor struct {
	run     func()
	mu      sync.Mutex
	running bool
	again   bool
}

// NewActor returns an actor that executes run on the shared pool.
func NewActor(run func()) *Actor { return &Actor{run: run} }

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
	socketPool.submit(a.loop)
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

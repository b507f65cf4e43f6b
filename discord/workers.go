package discord

import (
	"context"
	"sync"
)

// workerPool runs command handlers on a fixed number of goroutines, so a
// slow command never stalls the gateway's event loop and a flood of
// commands cannot start unbounded goroutines.
type workerPool struct {
	n    int
	jobs chan func(ctx context.Context)
	ctx  context.Context
	wg   sync.WaitGroup
	once sync.Once
}

func newWorkerPool(n, queue int) *workerPool {
	return &workerPool{n: n, jobs: make(chan func(context.Context), queue), ctx: context.Background()}
}

// start launches the workers; they stop when ctx ends.
func (p *workerPool) start(ctx context.Context) {
	p.once.Do(func() {
		p.ctx = ctx
		for range p.n {
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				for {
					select {
					case <-ctx.Done():
						return
					case job := <-p.jobs:
						job(ctx)
					}
				}
			}()
		}
	})
}

// submit queues a job without blocking; false when the queue is full or
// the pool has stopped.
func (p *workerPool) submit(job func(ctx context.Context)) bool {
	if p.ctx.Err() != nil {
		return false
	}
	select {
	case p.jobs <- job:
		return true
	default:
		return false
	}
}

// wait returns once every worker has stopped.
func (p *workerPool) wait() { p.wg.Wait() }

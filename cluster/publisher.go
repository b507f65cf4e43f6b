package cluster

import (
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// flushEvery is the least time between two bus messages of hub changes:
// a change after a quiet spell goes out at once, and changes that come
// faster wait for others to share their message (up to maxBatchOps), so
// the cost of a message is spread under load and a lone change does not
// wait.
const flushEvery = 2 * time.Millisecond

// Publisher sends this node's hub changes on halyard.hub.<node> in
// numbered batches.
type Publisher struct {
	nc      *nats.Conn
	subject string
	stream  string
	node    string
	log     *slog.Logger
	stats   *Stats

	mu      sync.Mutex
	pending []op
	seq     uint64        // last sequence number sent (under mu)
	last    time.Time     // when the last batch was sent (under mu)
	wake    chan struct{} // a change was queued on an empty queue
	full    chan struct{} // the queue holds a full batch
	stop    chan struct{}
	done    chan struct{}
}

func newPublisher(nc *nats.Conn, node, stream string, log *slog.Logger, stats *Stats) *Publisher {
	p := &Publisher{nc: nc, subject: subjectHub + node, stream: stream, node: node, log: log, stats: stats,
		wake: make(chan struct{}, 1), full: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go p.loop()
	return p
}

// add queues a change; the caller holds the tee's lock, so the queue is in
// the hub's order. A change after a quiet spell is sent right here, on the
// caller's goroutine: on a busy machine the bus message then does not wait
// for the publisher's goroutine to be scheduled behind the local fan-out.
func (p *Publisher) add(o op) {
	p.mu.Lock()
	p.pending = append(p.pending, o)
	n := len(p.pending)
	if n == 1 {
		if now := time.Now(); now.Sub(p.last) >= flushEvery {
			p.flushLocked(now)
			p.mu.Unlock()
			return
		}
	}
	p.mu.Unlock()
	switch {
	case n == 1:
		signal(p.wake)
	case n >= maxBatchOps:
		signal(p.full)
	}
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// lastSeq returns the sequence number of the last batch sent. Changes
// applied to the hub before the call are in a batch numbered at most
// this, or still queued (sent later with a higher number).
func (p *Publisher) lastSeq() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seq
}

func (p *Publisher) loop() {
	defer close(p.done)
	t := time.NewTimer(0)
	<-t.C
	for {
		select {
		case <-p.stop:
			p.flush()
			return
		case <-p.wake:
		case <-p.full:
		}
		// Changes are queued: send them once flushEvery has passed since
		// the last message (at once when a batch is full).
		p.mu.Lock()
		wait := flushEvery - time.Since(p.last)
		p.mu.Unlock()
		if wait > 0 {
			t.Reset(wait)
			select {
			case <-p.stop:
				p.flush()
				return
			case <-t.C:
			case <-p.full:
				t.Stop()
			}
		}
		p.flush()
	}
}

// flush sends every queued change.
func (p *Publisher) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.flushLocked(time.Now())
}

// flushLocked sends every queued change, numbering the batches under mu so
// lastSeq and the numbers agree.
func (p *Publisher) flushLocked(now time.Time) {
	if len(p.pending) == 0 {
		return
	}
	for len(p.pending) > 0 {
		n := min(len(p.pending), maxBatchOps)
		p.send(p.pending[:n])
		p.pending = p.pending[n:]
	}
	p.pending = nil
	p.last = now
}

func (p *Publisher) send(ops []op) {
	b := batch{Stream: p.stream, Node: p.node, Seq: p.seq + 1, Sent: time.Now().UnixNano(), Ops: ops}
	data, err := encode(&b)
	if err == nil && len(data) > maxMessageBytes && len(ops) > 1 {
		half := len(ops) / 2
		p.send(ops[:half])
		p.send(ops[half:])
		return
	}
	p.seq++ // a batch lost from here on is a gap the followers see
	if err != nil {
		p.log.Error("cluster: a hub change cannot be encoded; other nodes resync", "err", err)
		return
	}
	if err := p.nc.Publish(p.subject, data); err != nil {
		p.log.Warn("cluster: publishing hub changes failed; other nodes resync", "err", err)
		return
	}
	p.stats.BusOut.Add(1)
	p.stats.OpsOut.Add(uint64(len(ops)))
}

// close sends what is queued and stops.
func (p *Publisher) close() {
	close(p.stop)
	<-p.done
}

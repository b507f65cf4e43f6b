package cluster

import (
	"context"
	"time"

	"github.com/halyardhq/halyard/core"
)

// DefaultRecordsEvery is how often a node stores its changed user records
// and tells the others (Config.RecordsEvery).
const DefaultRecordsEvery = 2 * time.Second

// recordLoop stores this node's changed user records every RecordsEvery
// and tells the other nodes how far they are stored, with records marks
// in its stream of hub changes: a mark numbers a point of the stream, and
// a later mark says every record changed before an earlier one is stored
// (the other nodes then forget their notes of those: core's
// ForgetForeignRecords). A node whose bot changed nothing since its last
// mark sends none.
func (n *Node) recordLoop() {
	defer n.wg.Done()
	t := time.NewTicker(n.cfg.RecordsEvery)
	defer t.Stop()
	var mark, durable, announced, changesAtMark uint64
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
		if changed := n.tee.changeCount() != changesAtMark; changed || announced < durable {
			next := uint64(0)
			if changed {
				mark++
				next = mark
			}
			changesAtMark = n.tee.markRecords(next, durable)
			announced = durable
		}
		if durable < mark {
			// Every change before the mark is in the hub's dirty set or
			// stored; a flush that writes them all makes the mark durable.
			ctx, cancel := context.WithTimeout(n.ctx, 30*time.Second)
			if err := n.cfg.Hub.FlushRecords(ctx); err == nil {
				durable = mark
			}
			cancel()
		}
	}
}

// origin returns the records origin of a stream, one shared string per
// stream.
func (n *Node) origin(stream string) string {
	n.marksMu.Lock()
	defer n.marksMu.Unlock()
	if m, ok := n.marks[stream]; ok {
		return m.stream
	}
	n.marks[stream] = &streamMarks{stream: stream, gens: map[uint64]uint64{}}
	return stream
}

// streamMarks is what a follower knows of one stream's records marks:
// the generation (this node's count, n.recordGen) at which it applied each.
type streamMarks struct {
	stream string
	gens   map[uint64]uint64
}

// applyRecordsMark handles a records mark of stream: a new generation
// starts (record notes taken from here on are after the mark), and the
// notes of that stream from before its durable mark are forgotten.
func (n *Node) applyRecordsMark(stream string, o *op) {
	gen := n.recordGen.Add(1)
	n.marksMu.Lock()
	m := n.marks[stream]
	if m == nil {
		m = &streamMarks{stream: stream, gens: map[uint64]uint64{}}
		n.marks[stream] = m
	}
	if o.Mark > 0 {
		m.gens[o.Mark] = gen
	}
	before, ok := m.gens[o.Durable]
	if ok {
		for k := range m.gens {
			if k <= o.Durable {
				delete(m.gens, k)
			}
		}
	}
	n.marksMu.Unlock()
	if ok {
		n.cfg.Hub.ForgetForeignRecords(func(f core.ForeignRecord) bool { return f.Origin == stream && f.Gen < before })
	}
}

// noteFrom is the record note of a change applied now from stream.
func (n *Node) noteFrom(stream string) core.ForeignRecord {
	return core.ForeignRecord{Origin: n.origin(stream), Gen: n.recordGen.Load()}
}

// forgetLeftOrigins drops the record notes of streams that hold no shard
// any more, once every shard has a holder: the node that took their
// shards over wrote its own notes of them (AdoptForeignRecords), and a
// node that gave a shard back writes its own records.
func (n *Node) forgetLeftOrigins(count int) {
	n.mu.Lock()
	live := map[string]bool{n.stream: true}
	for s := range count {
		h, ok := n.holders[s]
		if !ok {
			n.mu.Unlock()
			return // a shard is free: its next holder still needs the notes
		}
		if p := n.peers[h]; p != nil && p.stream != "" {
			live[p.stream] = true
		} else if h != n.cfg.Name {
			n.mu.Unlock()
			return // a holder this node has not heard from yet
		}
	}
	n.mu.Unlock()
	n.marksMu.Lock()
	for s := range n.marks {
		if !live[s] {
			delete(n.marks, s)
		}
	}
	n.marksMu.Unlock()
	n.cfg.Hub.ForgetForeignRecords(func(f core.ForeignRecord) bool { return !live[f.Origin] })
}

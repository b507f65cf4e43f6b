package cluster

import (
	"time"

	"github.com/nats-io/nats.go"
)

// maxBufferedOps bounds the changes buffered from one node while its
// snapshot loads; past it the buffer is dropped and the snapshot asked
// again (it then covers them).
const maxBufferedOps = 1_000_000

// peer is what this node knows of another node's stream of hub changes.
type peer struct {
	name    string
	stream  string
	seq     uint64
	loaded  bool // holds the peer's state (snapshot, or its stream from 1)
	syncing bool // a snapshot is being loaded; batches are buffered
	buf     []*batch
	bufOps  int
}

// onBatch applies another node's batch of hub changes in order, or
// buffers it while that node's snapshot loads, or starts loading one
// after a gap. NATS calls it on one goroutine per subscription, so
// batches are handled in arrival order.
func (n *Node) onBatch(m *nats.Msg) {
	var b batch
	if err := decode(m.Data, &b); err != nil {
		n.log.Warn("cluster: dropping an undecodable hub batch", "subject", m.Subject, "err", err)
		return
	}
	if b.Node == n.cfg.Name {
		return
	}
	n.stats.BusIn.Add(1)
	n.mu.Lock()
	p := n.peerLocked(b.Node)
	switch {
	case p.syncing:
		p.buf = append(p.buf, &b)
		if p.bufOps += len(b.Ops); p.bufOps > maxBufferedOps {
			p.buf, p.bufOps = nil, 0
		}
		n.mu.Unlock()
		return
	case p.stream == b.Stream && b.Seq <= p.seq:
		n.mu.Unlock() // already applied (a snapshot covered it)
		return
	case p.stream == b.Stream && b.Seq == p.seq+1, p.stream != b.Stream && b.Seq == 1:
		// The next batch, or a stream seen from its first batch.
		p.stream, p.seq, p.loaded = b.Stream, b.Seq, true
		n.mu.Unlock()
		n.applyBatch(&b)
		return
	default:
		// A gap, or a stream joined in its middle: load a snapshot.
		n.log.Info("cluster: missed hub changes; loading a snapshot", "node", b.Node, "have", p.seq, "got", b.Seq)
		p.syncing, p.loaded = true, false
		p.buf, p.bufOps = []*batch{&b}, len(b.Ops)
		n.mu.Unlock()
		n.startResync(b.Node)
	}
}

func (n *Node) peerLocked(name string) *peer {
	p := n.peers[name]
	if p == nil {
		p = &peer{name: name}
		n.peers[name] = p
	}
	return p
}

// applyBatch runs a batch's changes on the hub.
func (n *Node) applyBatch(b *batch) {
	from := n.noteFrom(b.Stream)
	for i := range b.Ops {
		o := &b.Ops[i]
		if o.Kind == opRecordsMark {
			n.applyRecordsMark(from.Origin, o)
			from.Gen = n.recordGen.Load()
			continue
		}
		apply(n.cfg.Hub, o, keepAll, from)
	}
	n.stats.OpsIn.Add(uint64(len(b.Ops)))
	if b.Sent > 0 {
		n.stats.ApplyLagNanos.Store(time.Now().UnixNano() - b.Sent)
	}
}

func keepAll(string) bool { return true }

// startResync loads name's snapshot in the background, retrying until it
// succeeds or name is no longer a node worth following.
func (n *Node) startResync(name string) {
	if n.ctx.Err() != nil {
		return // closing: Close waits for the goroutines already started
	}
	n.mu.Lock()
	p := n.peerLocked(name)
	p.syncing, p.loaded = true, false
	n.mu.Unlock()
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		for attempt := 0; ; attempt++ {
			if n.ctx.Err() != nil {
				return
			}
			snap, err := n.fetchSnapshot(name)
			if err == nil && n.installSnapshot(name, snap) {
				n.stats.Resyncs.Add(1)
				return
			}
			if err != nil {
				n.log.Debug("cluster: snapshot not loaded yet", "node", name, "err", err)
			}
			if !n.worthFollowing(name) {
				n.mu.Lock()
				p.syncing, p.buf, p.bufOps = false, nil, 0
				n.mu.Unlock()
				return
			}
			select {
			case <-n.ctx.Done():
				return
			case <-time.After(time.Duration(min(attempt+1, 4)) * 250 * time.Millisecond):
			}
		}
	}()
}

// worthFollowing reports whether name holds a shard or was heard from
// lately: a node that died is not asked for snapshots forever.
func (n *Node) worthFollowing(name string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, h := range n.holders {
		if h == name {
			return true
		}
	}
	info, ok := n.nodes[name]
	return ok && time.Since(info.LastSeen) < 3*n.cfg.Heartbeat
}

// installSnapshot applies a snapshot and then the batches buffered
// meanwhile that come after it; false when they do not follow on (the
// snapshot is asked again).
func (n *Node) installSnapshot(name string, snap *snapshotChunk) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	p := n.peerLocked(name)
	held := map[int]bool{}
	for _, s := range snap.Shards {
		held[s] = true
	}
	inShards := func(g string) bool { return held[ShardOf(g, snap.ShardCount)] }
	members := map[string]map[string]bool{} // guild → users in the snapshot
	from := n.noteFrom(snap.Stream)
	for i := range snap.Ops {
		o := &snap.Ops[i]
		apply(n.cfg.Hub, o, inShards, from)
		if o.Kind == opUpsertMember {
			if members[o.Guild] == nil {
				members[o.Guild] = map[string]bool{}
			}
			members[o.Guild][o.Member.User.ID] = true
		}
	}
	// Members of those shards' guilds the snapshot does not have left
	// while this node was not listening.
	for _, u := range n.cfg.Hub.All() {
		for _, g := range u.Guilds() {
			if inShards(g) && !members[g][u.ID] {
				n.cfg.Hub.RemoveMember(g, u.ID)
			}
		}
	}
	if snap.Synced {
		n.cfg.Hub.MarkSynced()
	}
	p.stream, p.seq = snap.Stream, snap.Seq
	buf := p.buf
	p.buf, p.bufOps = nil, 0
	for _, b := range buf {
		switch {
		case b.Stream != p.stream || b.Seq > p.seq+1:
			p.syncing = true // restarted or missed more: again
			p.buf = []*batch{b}
			go n.startResyncLater(name)
			return true
		case b.Seq <= p.seq:
			continue
		}
		p.seq = b.Seq
		n.applyBatch(b)
	}
	p.syncing, p.loaded = false, true
	n.log.Info("cluster: snapshot loaded", "node", name, "seq", p.seq, "changes", len(snap.Ops))
	return true
}

func (n *Node) startResyncLater(name string) { n.startResync(name) }

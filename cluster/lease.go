package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

func leaseKey(shard int) string { return fmt.Sprintf("shard-%d", shard) }

// leaseLoop renews this node's leases and takes free shards, every third
// of the lease TTL.
func (n *Node) leaseLoop() {
	defer n.wg.Done()
	every := n.cfg.LeaseTTL / 3
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n.leaseRound(every)
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// leaseRound renews each held lease (closing the shard at once when that
// fails) and tries to take the free shards this node should hold.
func (n *Node) leaseRound(timeout time.Duration) {
	count := n.shardCount()
	for s := range count {
		ctx, cancel := context.WithTimeout(n.ctx, timeout)
		n.leaseShard(ctx, s, count)
		cancel()
	}
	n.shedExtraShard(count)
	n.forgetLeftOrigins(count)
}

// shedExtraShard gives back one shard when this node holds more than its
// fair share of the live nodes (a node that started first took them all):
// the others, under their share, take it in their next round.
func (n *Node) shedExtraShard(count int) {
	n.mu.Lock()
	live := n.liveNodesLocked()
	fair := (count + live - 1) / live
	extra := -1
	if live > 1 && len(n.held) > fair {
		for s := range n.held {
			extra = max(extra, s)
		}
	}
	n.mu.Unlock()
	if extra >= 0 {
		n.log.Info("cluster: giving a shard back to spread the shards", "shard", extra, "fair_share", fair)
		n.releaseShard(extra)
	}
}

func (n *Node) leaseShard(ctx context.Context, s, count int) {
	key := leaseKey(s)
	n.mu.Lock()
	rev, holding := n.held[s]
	n.mu.Unlock()
	if holding {
		nrev, err := n.leases.Update(ctx, key, []byte(n.cfg.Name), rev)
		if err != nil {
			n.log.Warn("cluster: lost the lease of a shard; closing it", "shard", s, "err", err)
			n.loseShard(s)
			return
		}
		n.mu.Lock()
		n.held[s] = nrev
		n.holders[s] = n.cfg.Name
		n.mu.Unlock()
		return
	}
	e, err := n.leases.Get(ctx, key)
	switch {
	case err == nil:
		holder := string(e.Value())
		n.mu.Lock()
		n.holders[s] = holder
		n.freeSeen[s] = 0
		p := n.peerLocked(holder)
		// A holder whose stream this node has not followed from its
		// start (joined late, came back from a partition, holder idle
		// since): load its snapshot.
		stale := holder != n.cfg.Name && !p.loaded && !p.syncing
		n.mu.Unlock()
		if stale {
			n.startResync(holder)
		}
		return
	case !errors.Is(err, jetstream.ErrKeyNotFound):
		n.log.Debug("cluster: reading a lease failed", "shard", s, "err", err)
		return
	}
	n.mu.Lock()
	delete(n.holders, s)
	n.freeSeen[s]++
	// Spread shards: take one while holding less than a fair share, or
	// any shard nobody took for two rounds.
	fair := (count + n.liveNodesLocked() - 1) / n.liveNodesLocked()
	take := len(n.held) < fair || n.freeSeen[s] > 2
	n.mu.Unlock()
	if !take {
		return
	}
	nrev, err := n.leases.Create(ctx, key, []byte(n.cfg.Name))
	if err != nil {
		n.log.Debug("cluster: a free shard was not taken", "shard", s, "err", err)
		return // another node was first
	}
	n.mu.Lock()
	n.held[s] = nrev
	n.holders[s] = n.cfg.Name
	n.freeSeen[s] = 0
	n.mu.Unlock()
	// The user records the old holder changed and did not say it stored
	// are this node's to write now.
	adopted := n.cfg.Hub.AdoptForeignRecords()
	n.handoverHistory() // this node writes the history of the shard's users from now on
	n.log.Info("cluster: took the lease of a shard; opening it", "shard", s, "records_adopted", adopted)
	n.wg.Add(1)
	go n.openShard(s)
}

// openShard opens the gateway session of a shard just leased; a failure
// gives the lease back so another node can try.
func (n *Node) openShard(s int) {
	defer n.wg.Done()
	ctx, cancel := context.WithTimeout(n.ctx, 60*time.Second)
	defer cancel()
	if n.cfg.Shards == nil {
		return
	}
	if err := n.cfg.Shards.OpenShard(ctx, s); err != nil {
		n.log.Warn("cluster: opening a leased shard failed; giving the lease back", "shard", s, "err", err)
		n.releaseShard(s)
	}
}

// loseShard closes a shard whose lease this node lost.
func (n *Node) loseShard(s int) {
	n.mu.Lock()
	delete(n.held, s)
	delete(n.holders, s)
	n.mu.Unlock()
	if n.cfg.Shards != nil {
		if err := n.cfg.Shards.CloseShard(s); err != nil {
			n.log.Warn("cluster: closing a lost shard", "shard", s, "err", err)
		}
	}
	n.handoverHistory() // once the session is closed: nothing more comes from it
}

// releaseShard closes a shard and frees its lease for the others.
func (n *Node) releaseShard(s int) {
	n.mu.Lock()
	rev, ok := n.held[s]
	delete(n.held, s)
	delete(n.holders, s)
	n.mu.Unlock()
	if n.cfg.Shards != nil {
		_ = n.cfg.Shards.CloseShard(s)
	}
	n.handoverHistory()
	if ok && n.connected.Load() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = n.leases.Delete(ctx, leaseKey(s), jetstream.LastRevision(rev))
	}
}

// releaseAll gives up every shard (Close).
func (n *Node) releaseAll() {
	for _, s := range n.heldShards() {
		n.releaseShard(s)
	}
}

// liveNodesLocked counts the nodes heard from lately, this one included.
func (n *Node) liveNodesLocked() int {
	live := 1
	for name, info := range n.nodes {
		if name != n.cfg.Name && time.Since(info.LastSeen) < 3*n.cfg.Heartbeat {
			live++
		}
	}
	return live
}

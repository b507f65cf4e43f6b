package cluster

import (
	"slices"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/halyardhq/halyard/core"
)

// snapshotTimeout bounds the wait for each chunk of a snapshot.
const snapshotTimeout = 5 * time.Second

// serveSnapshot answers a snapshot request with this node's state of the
// shards it holds, in chunks sent to the requester's inbox. The sequence
// number is read before the hub: every change in a batch numbered up to
// it is in the snapshot, and later ones are applied again on top.
func (n *Node) serveSnapshot(m *nats.Msg) {
	if m.Reply == "" {
		return
	}
	seq := n.pub.lastSeq()
	shards := n.heldShards()
	count := n.shardCount()
	held := map[int]bool{}
	for _, s := range shards {
		held[s] = true
	}
	chunk := snapshotChunk{Stream: n.stream, Seq: seq, Shards: shards, ShardCount: count}
	send := func(last bool) bool {
		chunk.Last = last
		if last {
			chunk.Synced = n.tee.Synced()
		}
		data, err := encode(&chunk)
		if err == nil {
			err = n.nc.Publish(m.Reply, data)
		}
		if err != nil {
			n.log.Warn("cluster: sending a snapshot failed", "err", err)
			return false
		}
		chunk.Ops = chunk.Ops[:0]
		return true
	}
	for _, u := range n.cfg.Hub.All() {
		for i, g := range u.Guilds() {
			if !held[ShardOf(g, count)] {
				continue
			}
			mem := core.Member{User: u.Discord.DiscordUser(), Presence: u.Presence, SetPresence: true, JoinedAt: u.MonitoringSince()}
			if i == 0 {
				mem.Nick = u.Nick()
			}
			chunk.Ops = append(chunk.Ops, op{Kind: opUpsertMember, Guild: g, Member: mem})
		}
		if len(chunk.Ops) >= snapshotChunkOps && !send(false) {
			return
		}
	}
	send(true)
}

// fetchSnapshot asks node name for its snapshot and gathers the chunks.
func (n *Node) fetchSnapshot(name string) (*snapshotChunk, error) {
	inbox := nats.NewInbox()
	sub, err := n.nc.SubscribeSync(inbox)
	if err != nil {
		return nil, err
	}
	defer sub.Unsubscribe()
	_ = sub.SetPendingLimits(-1, -1)
	if err := n.nc.PublishRequest(subjectSnapshot+name, inbox, nil); err != nil {
		return nil, err
	}
	var all snapshotChunk
	for {
		m, err := sub.NextMsg(snapshotTimeout)
		if err != nil {
			return nil, err
		}
		var c snapshotChunk
		if err := decode(m.Data, &c); err != nil {
			return nil, err
		}
		all.Ops = append(all.Ops, c.Ops...)
		if c.Last {
			all.Stream, all.Seq, all.Shards, all.ShardCount, all.Synced = c.Stream, c.Seq, c.Shards, c.ShardCount, c.Synced
			if all.Stream == "" {
				return nil, errNoReply
			}
			return &all, nil
		}
	}
}

// heldShards returns the shards this node holds, in order.
func (n *Node) heldShards() []int {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]int, 0, len(n.held))
	for s := range n.held {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

func (n *Node) shardCount() int {
	if n.cfg.Shards == nil {
		return 1
	}
	return max(1, n.cfg.Shards.ShardCount())
}

package cluster

import (
	"context"

	"github.com/halyardhq/halyard/core"
)

// Presence history on a cluster (history/cluster.go says how the recorder
// does its part). Every node records every opted-in user in memory from
// the hub changes it applies; the node holding the shard of a user's guild
// (the lowest shard when the user is in guilds of several) writes that
// user's intervals, since it ingested the changes. Opt-in changes ride the
// KV announcements (numbered: a lost one is a gap, and the reload after a
// gap or a reconnect reloads the opt-ins too).

// HistorySync is the presence history recorder as the node drives it
// (history.Recorder implements it).
type HistorySync interface {
	// SetAnnouncer sets how the recorder announces an opt-in change it
	// stored.
	SetAnnouncer(fn func(userID, change string))
	// ApplyChange applies an opt-in change another node announced.
	ApplyChange(userID, change string)
	// ReloadUsers makes the recorder's opt-ins the stored ones.
	ReloadUsers(ctx context.Context) error
	// Handover is called when the shards this node holds changed.
	Handover()
}

// SetHistory sets the presence history recorder (before Open).
func (n *Node) SetHistory(h HistorySync) { n.cfg.History = h }

// announceHistory tells the other nodes about a history opt-in change
// this node stored.
func (n *Node) announceHistory(userID, change string) {
	n.announce(announcement{Kind: announceHistory, User: userID, History: change})
}

// handoverHistory tells the recorder the shards held changed (called
// without n.mu: the recorder asks WritesHistoryOf).
func (n *Node) handoverHistory() {
	if n.cfg.History != nil {
		n.cfg.History.Handover()
	}
}

// WritesHistoryOf reports whether this node writes the user's presence
// history: it holds the shard of the user's guild (the lowest shard of
// their guilds).
func (n *Node) WritesHistoryOf(u *core.User) bool {
	n.mu.Lock()
	holds := len(n.held) > 0
	n.mu.Unlock()
	if !holds || len(u.Guilds()) == 0 {
		// Nothing held: the shard controller may not be set yet (changes
		// from the bus are applied from Open on, SetShards comes later).
		return false
	}
	count := n.shardCount()
	home := -1
	for _, g := range u.Guilds() {
		if s := ShardOf(g, count); home < 0 || s < home {
			home = s
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	_, held := n.held[home]
	return held
}

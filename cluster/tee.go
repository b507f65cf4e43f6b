package cluster

import (
	"sync"

	"github.com/halyardhq/halyard/core"
)

// Tee is what this node's bot writes into: each change is applied to the
// local hub and queued for the bus, in the order the hub applied them.
// It has the method set of discord.Hub.
type Tee struct {
	hub *core.Hub
	pub *Publisher

	mu      sync.Mutex // keeps the bus order equal to the hub's
	synced  bool
	changes uint64 // hub changes made through the tee (under mu)
}

// UpsertMember applies and publishes a member (GUILD_CREATE, chunks, joins
// and updates).
func (t *Tee) UpsertMember(guildID string, m core.Member) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.hub.UpsertMember(guildID, m)
	t.changes++
	t.pub.add(op{Kind: opUpsertMember, Guild: guildID, Member: m})
}

// UpdatePresence applies and publishes a presence.
func (t *Tee) UpdatePresence(userID string, p *core.Presence) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.hub.UpdatePresence(userID, p)
	t.changes++
	t.pub.add(op{Kind: opUpdatePresence, User: userID, Presence: p})
}

// RemoveMember applies and publishes a member leaving a guild.
func (t *Tee) RemoveMember(guildID, userID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.hub.RemoveMember(guildID, userID)
	t.changes++
	t.pub.add(op{Kind: opRemoveMember, Guild: guildID, User: userID})
}

// PruneGuild applies a prune and publishes each member it removed (the
// other nodes cannot run keep, a function).
func (t *Tee) PruneGuild(guildID string, keep func(userID string) bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var removed []string
	t.hub.PruneGuild(guildID, func(id string) bool {
		k := keep(id)
		if !k {
			removed = append(removed, id)
		}
		return k
	})
	for _, id := range removed {
		t.pub.add(op{Kind: opRemoveMember, Guild: guildID, User: id})
	}
	t.changes += uint64(len(removed))
}

// RemoveGuild applies and publishes forgetting a guild.
func (t *Tee) RemoveGuild(guildID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.hub.RemoveGuild(guildID)
	t.changes++
	t.pub.add(op{Kind: opRemoveGuild, Guild: guildID})
}

// MarkSynced records and publishes the first full member sync.
func (t *Tee) MarkSynced() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.hub.MarkSynced()
	t.changes++
	t.synced = true
	t.pub.add(op{Kind: opSynced})
}

// markRecords queues a records mark (records.go) and returns how many hub
// changes came before it.
func (t *Tee) markRecords(mark, durable uint64) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pub.add(op{Kind: opRecordsMark, Mark: mark, Durable: durable})
	return t.changes
}

// changeCount returns how many hub changes went through the tee.
func (t *Tee) changeCount() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.changes
}

// IsMonitored asks the local hub.
func (t *Tee) IsMonitored(userID string) bool { return t.hub.IsMonitored(userID) }

// Synced reports whether this node's bot finished a full sync.
func (t *Tee) Synced() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.synced
}

// apply runs one change from another node on hub, through the method the
// bot would have called; a record it changes is that node's to write
// (from). Records marks are the caller's (applyBatch).
func apply(hub *core.Hub, o *op, keep func(guildID string) bool, from core.ForeignRecord) {
	switch o.Kind {
	case opUpsertMember:
		if keep(o.Guild) {
			hub.ApplyMember(from, o.Guild, o.Member)
		}
	case opUpdatePresence:
		hub.UpdatePresence(o.User, o.Presence)
	case opRemoveMember:
		hub.RemoveMember(o.Guild, o.User)
	case opRemoveGuild:
		hub.RemoveGuild(o.Guild)
	case opSynced:
		hub.MarkSynced()
	}
}

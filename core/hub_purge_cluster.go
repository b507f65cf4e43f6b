package core

import (
	"context"
	"time"
)

// A purge on a cluster (docs: cluster/doc.go). The store is shared, so
// one node's Purge empties it for all; what the other nodes hold in
// memory goes in two messages on the bus, in the purging node's order:
// the empty KV as a versioned write (so the KV's version keeps growing
// and a later write from any node is newer than every copy), then the
// purge itself, which makes every node forget the user's record.

// purgeKV empties the user's stored KV: on a cluster, as a versioned
// write of the empty map (installed here and announced like any KV
// write); alone, by deleting the document. The caller holds the user's
// KV write lock.
func (h *Hub) purgeKV(ctx context.Context, st HubStore, userID string) error {
	if vs, ok := st.(VersionedKVStore); ok && h.opts.VersionedKV {
		return h.writeKVVersioned(ctx, vs, userID, func(KV) (KV, error) { return KV{}, nil })
	}
	if err := st.SaveKV(ctx, userID, KV{}); err != nil {
		h.log.Error("purge: deleting KV failed", "user", userID, "err", err)
		return storeError(err)
	}
	return nil
}

// SetPurgeHook registers fn, called after each purge this hub made
// (Purge), so a cluster bus carries it to the other nodes, which apply it
// with ApplyPurge.
func (h *Hub) SetPurgeHook(fn func(userID string, at time.Time)) {
	h.mu.Lock()
	h.purgeHook = fn
	h.mu.Unlock()
}

// notifyPurge runs the purge hook, if any (without h.mu held).
func (h *Hub) notifyPurge(userID string, at time.Time) {
	h.mu.RLock()
	fn := h.purgeHook
	h.mu.RUnlock()
	if fn != nil {
		fn(userID, at)
	}
}

// ApplyPurge forgets the record of a user another node purged at at (the
// store no longer holds it): a member of a watched guild stays monitored,
// as if first seen at at, with the KV this hub holds (the purge's empty
// map arrived before it as a versioned write, and a newer write from a
// third node must not be undone). The purging node writes the fresh
// record; this one does not.
func (h *Hub) ApplyPurge(userID string, at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.records, userID)
	h.dirty.del(userID)
	delete(h.foreign, userID)
	if u, ok := h.users.get(userID); ok {
		nu := h.freshLocked(u, at)
		nu.KV = h.kvLocked(userID)
		h.replace(nu, KVUpdated)
	}
}

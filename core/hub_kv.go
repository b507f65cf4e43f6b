package core

import (
	"context"
	"hash/fnv"
	"sync"
)

// KV returns the user's KV (read-only), monitored or not; empty when none.
func (h *Hub) KV(userID string) KV {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.kvLocked(userID)
}

// HasKV reports whether the user has at least one pair.
func (h *Hub) HasKV(userID string) bool {
	return h.KV(userID).Len() > 0
}

func (h *Hub) kvLocked(userID string) KV {
	if kv, ok := h.kv[userID]; ok {
		return kv
	}
	return KV{}
}

// IsMonitored reports whether the user is in a watched guild.
func (h *Hub) IsMonitored(userID string) bool {
	_, ok := h.Get(userID)
	return ok
}

// PutKV sets one pair of a monitored user: the pair-count limit first, then
// the key and value rules (Lanyard's order). It returns once the store has
// acknowledged the write, then publishes KVUpdated.
func (h *Hub) PutKV(ctx context.Context, userID, key, value string) error {
	return h.writeKV(ctx, userID, func(kv KV) (KV, error) {
		if !kv.Has(key) && kv.Len()+1 > MaxKVPairs {
			return KV{}, &KVError{Reason: KVTooManyPairs, Key: key}
		}
		if err := ValidateKVPair(key, value); err != nil {
			return KV{}, err
		}
		next := kv.Clone()
		next.Set(key, value)
		return next, nil
	})
}

// PatchKV merges pairs into a monitored user's KV: every pair is checked
// before anything is written, then the merged count. An empty patch is a
// valid write that changes nothing and still publishes KVUpdated.
func (h *Hub) PatchKV(ctx context.Context, userID string, pairs KV) error {
	return h.writeKV(ctx, userID, func(kv KV) (KV, error) {
		if err := ValidateKVPairs(pairs); err != nil {
			return KV{}, err
		}
		if MergedKVCount(kv, pairs) > MaxKVPairs {
			return KV{}, &KVError{Reason: KVTooManyPairs}
		}
		next := kv.Clone()
		for k, v := range pairs.All() { // new keys go last, in the patch's order
			next.Set(k, v)
		}
		return next, nil
	})
}

// DeleteKV removes one key of a monitored user; deleting an absent key
// succeeds and still publishes KVUpdated.
func (h *Hub) DeleteKV(ctx context.Context, userID, key string) error {
	return h.writeKV(ctx, userID, func(kv KV) (KV, error) {
		if !kv.Has(key) {
			return kv, nil
		}
		next := kv.Clone()
		next.Delete(key)
		return next, nil
	})
}

// ClearKV removes every pair of a monitored user in one durable write and
// publishes one KVUpdated.
func (h *Hub) ClearKV(ctx context.Context, userID string) error {
	return h.writeKV(ctx, userID, func(KV) (KV, error) { return KV{}, nil })
}

// writeKV runs one KV change for a monitored user: under the user's write
// lock, compute the new map, store it durably, then install and publish it.
// Nothing changes in memory unless the store acknowledged the write.
func (h *Hub) writeKV(ctx context.Context, userID string, change func(KV) (KV, error)) error {
	lock := h.kvLock(userID)
	lock.Lock()
	defer lock.Unlock()

	if !h.IsMonitored(userID) {
		return Errorf(ENOTMONITORED, "user is not monitored")
	}
	if vs, ok := h.opts.Store.(VersionedKVStore); ok && h.opts.VersionedKV {
		return h.writeKVVersioned(ctx, vs, userID, change)
	}
	cur := h.KV(userID)
	next, err := change(cur)
	if err != nil {
		return err
	}
	if !cur.Equal(next) && h.opts.Store != nil {
		// The write outlives the request: a client that hangs up mid-write
		// must not leave the store committed and the hub on the old map.
		// The store bounds every operation with its own timeout.
		if err := h.opts.Store.SaveKV(context.WithoutCancel(ctx), userID, next); err != nil {
			h.log.Error("saving KV failed", "user", userID, "err", err)
			return storeError(err)
		}
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	h.setKVLocked(userID, next)
	return nil
}

// setKVLocked makes kv the user's map (an empty one is dropped) and
// publishes a monitored user's new snapshot as KVUpdated: every KV change
// (a write, another node's, a restore) ends here. Called with h.mu held
// for writing.
func (h *Hub) setKVLocked(userID string, kv KV) {
	if kv.Len() == 0 {
		delete(h.kv, userID)
	} else {
		h.kv[userID] = kv
	}
	if u, ok := h.users.get(userID); ok {
		nu := u.clone()
		nu.KV = kv
		h.replace(nu, KVUpdated)
	}
}

func (h *Hub) kvLock(userID string) *sync.Mutex {
	f := fnv.New32a()
	f.Write([]byte(userID))
	return &h.kvLocks[f.Sum32()%uint32(len(h.kvLocks))]
}

package core

import (
	"context"
	"errors"
)

// ErrKVVersionConflict is returned by VersionedKVStore.SaveKVVersion when
// the stored map is no longer at the version the write was based on.
var ErrKVVersionConflict = errors.New("the stored KV changed since it was read")

// VersionedKVStore is a KVStore whose maps carry a per-user version that
// every write increments, so writers on several nodes can compare and set
// (docs: DESIGN.md "Several nodes"). Version 0 means "never written with a
// version" (absent, or stored before versions existed).
type VersionedKVStore interface {
	// LoadUserKV returns the user's stored map and its version.
	LoadUserKV(ctx context.Context, userID string) (KV, int64, error)
	// LoadKVVersions calls fn for every stored map with its version
	// (empty maps included: they still carry a version).
	LoadKVVersions(ctx context.Context, fn func(userID string, kv KV, version int64) error) error
	// SaveKVVersion stores kv as version expected+1 if the stored map is
	// still at version expected, else fails with ErrKVVersionConflict.
	SaveKVVersion(ctx context.Context, userID string, kv KV, expected int64) (int64, error)
}

// kvWriteAttempts bounds the compare-and-set retries of one write. Each
// retry follows a write another node got in first, so running out means
// this user's KV is written faster than the store can take; the client
// gets EUNAVAILABLE and may retry, nothing is half-written.
const kvWriteAttempts = 100

// KVVersion returns the version of the user's KV this hub holds (0 when
// unknown or when versions are off).
func (h *Hub) KVVersion(userID string) int64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.kvVer[userID]
}

// writeKVVersioned is writeKV for a cluster: compare-and-set on the
// stored version, re-reading the stored map after a conflict and running
// change again on it, so a write another node made meanwhile is kept. The
// caller holds the user's write lock.
func (h *Hub) writeKVVersioned(ctx context.Context, store VersionedKVStore, userID string, change func(KV) (KV, error)) error {
	ctx = context.WithoutCancel(ctx) // see writeKV: the write outlives the request
	for range kvWriteAttempts {
		// Read the stored map first: a compare-and-set against a version
		// this node held for long could meet a claim the store no longer
		// keeps (storage/kv_versions.go), and the answer must reflect
		// the stored map anyway.
		if err := h.ReloadKV(ctx, userID); err != nil {
			return err
		}
		h.mu.RLock()
		cur, ver := h.kvLocked(userID), h.kvVer[userID]
		h.mu.RUnlock()
		next, err := change(cur)
		if err != nil {
			return err
		}
		// Even an unchanged map is written: a write another node makes
		// meanwhile must not be answered as if it had not happened.
		nv, err := store.SaveKVVersion(ctx, userID, next, ver)
		if errors.Is(err, ErrKVVersionConflict) {
			continue
		}
		if err != nil {
			h.log.Error("saving KV failed", "user", userID, "err", err)
			return storeError(err)
		}
		h.installKV(userID, next, nv, true)
		h.mu.RLock()
		hook := h.opts.OnKVWrite
		h.mu.RUnlock()
		if hook != nil {
			hook(userID, next, nv)
		}
		return nil
	}
	return Errorf(EUNAVAILABLE, "the KV is being written too often, try again")
}

// ApplyKV installs a map another node wrote, if its version is newer than
// the one this hub holds; it reports whether it did.
func (h *Hub) ApplyKV(userID string, kv KV, version int64) bool {
	return h.installKV(userID, kv, version, false)
}

// ReloadKV reads the user's map from the store and installs it (a node
// that missed a write, or lost a compare-and-set, catches up this way).
func (h *Hub) ReloadKV(ctx context.Context, userID string) error {
	store, ok := h.opts.Store.(VersionedKVStore)
	if !ok {
		return nil
	}
	kv, ver, err := store.LoadUserKV(ctx, userID)
	if err != nil {
		h.log.Error("loading KV failed", "user", userID, "err", err)
		return storeError(err)
	}
	h.installKV(userID, kv, ver, true)
	return nil
}

// ReloadAllKV reads every stored map with its version and installs those
// that differ from this hub's (after missed bus messages).
func (h *Hub) ReloadAllKV(ctx context.Context) error {
	store, ok := h.opts.Store.(VersionedKVStore)
	if !ok {
		return nil
	}
	return store.LoadKVVersions(ctx, func(userID string, kv KV, ver int64) error {
		h.installKV(userID, kv, ver, false)
		return nil
	})
}

// installKV sets the user's map and version and publishes KVUpdated to a
// monitored user's subscribers. Unless force, a version not newer than the
// held one changes nothing (a late bus message); force installs the
// store's answer or this node's own acknowledged write.
func (h *Hub) installKV(userID string, kv KV, version int64, force bool) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	held, known := h.kvVer[userID]
	if !force && known && version <= held {
		return false
	}
	if force && known && version == held && h.kvLocked(userID).Equal(kv) {
		return false
	}
	h.kvVer[userID] = version
	h.setKVLocked(userID, kv)
	return true
}

// SetKVWriteHook sets HubOptions.OnKVWrite on an open hub (a cluster node
// is connected after the hub loaded).
func (h *Hub) SetKVWriteHook(fn func(userID string, kv KV, version int64)) {
	h.mu.Lock()
	h.opts.OnKVWrite = fn
	h.mu.Unlock()
}

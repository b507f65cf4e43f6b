package core

import (
	"context"
	"time"
)

// UserDeleter removes a user's stored record.
type UserDeleter interface {
	// DeleteUser removes the user's record, durably; removing an absent
	// one succeeds.
	DeleteUser(ctx context.Context, userID string) error
}

// PurgeHook removes what another component keeps about a user (presence
// history); Purge calls it before it deletes the KV and the record, so a
// failure leaves the purge to be run again.
type PurgeHook func(ctx context.Context, userID string) error

// AddPurgeHook makes Purge remove what hook removes too. Add hooks before
// Purge is called.
func (h *Hub) AddPurgeHook(hook PurgeHook) {
	h.mu.Lock()
	h.purgeHooks = append(h.purgeHooks, hook)
	h.mu.Unlock()
}

// Purged says what Hub.Purge removed.
type Purged struct {
	KVKeys int  // pairs removed
	Record bool // a record (monitoring start, last sighting, GitHub link) was held
	// Monitored: the user is still in a watched guild, so they stay
	// monitored with an empty KV and a fresh record (monitoring since the
	// purge), which the background writer stores again.
	Monitored bool
}

// Purge forgets what Halyard keeps about a user: their KV, their record
// (monitoring start, last sighting, GitHub link) and what the purge hooks
// remove (presence history and its opt-in), in the store first, then
// in memory. A member of a watched guild stays monitored (their live
// presence comes from Discord, not the store) with an empty KV and a fresh
// record, published as KVUpdated. Tokens are not the hub's: callers revoke
// the token too (Tokens.Revoke).
//
// Purging is idempotent: after a store failure (EUNAVAILABLE) part may be
// gone, and running it again finishes it.
func (h *Hub) Purge(ctx context.Context, userID string) (Purged, error) {
	lock := h.kvLock(userID) // no KV write of this user in between
	lock.Lock()
	defer lock.Unlock()
	// No record batch is written while the record is deleted: a batch
	// read before the purge would store the old record again.
	h.flushMu.Lock()
	defer h.flushMu.Unlock()

	h.mu.RLock()
	kvKeys := h.kvLocked(userID).Len()
	_, hadRecord := h.recordOfLocked(userID)
	hooks := h.purgeHooks
	h.mu.RUnlock()

	for _, hook := range hooks {
		if err := hook(context.WithoutCancel(ctx), userID); err != nil {
			h.log.Error("purge: a purge hook failed", "user", userID, "err", err)
			return Purged{}, storeError(err)
		}
	}

	if st := h.opts.Store; st != nil {
		del, ok := st.(UserDeleter)
		if !ok {
			return Purged{}, Errorf(EINTERNAL, "the store cannot delete user records")
		}
		ctx = context.WithoutCancel(ctx) // as writeKV: the purge outlives the request
		if err := h.purgeKV(ctx, st, userID); err != nil {
			return Purged{}, err
		}
		if err := del.DeleteUser(ctx, userID); err != nil {
			h.log.Error("purge: deleting the user record failed", "user", userID, "err", err)
			return Purged{}, storeError(err)
		}
	}

	now := h.opts.Now()
	h.mu.Lock()
	delete(h.kv, userID)
	delete(h.records, userID)
	h.dirty.del(userID)
	u, monitored := h.users.get(userID)
	if monitored {
		h.replace(h.freshLocked(u, now), KVUpdated)
		h.dirty.add(userID)
	}
	h.mu.Unlock()
	h.notifyPurge(userID, now)
	return Purged{KVKeys: kvKeys, Record: hadRecord, Monitored: monitored}, nil
}

// freshLocked is a monitored user's snapshot as if first seen now: no KV,
// monitoring since now, seen now unless offline.
func (h *Hub) freshLocked(u *User, now time.Time) *User {
	nu := u.clone()
	nu.KV = KV{}
	nu.SetMonitoringSince(now)
	nu.SetLastSeen(time.Time{})
	if nu.Status() != StatusOffline {
		nu.SetLastSeen(now)
	}
	return nu
}

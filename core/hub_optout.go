package core

import (
	"context"
	"time"
)

// Opting out is a hub rule rather than a dialect feature: a user who opted
// out is absent from every read the dialects and sockets make (Get, All,
// Page, Count, IsMonitored) and from every event the hub publishes, so each
// dialect, socket and later feature answers them exactly as it answers an
// unmonitored user without knowing opt-outs exist. The hub still absorbs
// their gateway updates (their snapshot stays current in h.users), so
// opting back in shows them at once, and everything keyed to membership
// (guilds, records, KV) keeps working underneath. Nothing new about them
// is written meanwhile: their record stays as it was when they opted out
// (FlushRecords skips them), so a purge while opted out leaves the store
// holding the opt-out alone; opting in writes the record again. One method changes the
// flag (SetOptOut): a cluster bus has one change to carry.

// OptOutStore persists opt-outs. They live apart from the user records so
// that purging a user's data (Hub.Purge) keeps the choice itself.
type OptOutStore interface {
	// LoadOptOuts calls fn for every opted-out user.
	LoadOptOuts(ctx context.Context, fn func(userID string, since time.Time) error) error
	// SaveOptOut records the user's opt-out durably (idempotent).
	SaveOptOut(ctx context.Context, userID string, since time.Time) error
	// DeleteOptOut removes it durably; removing an absent one succeeds.
	DeleteOptOut(ctx context.Context, userID string) error
}

// OptOut is one opted-out user.
type OptOut struct {
	UserID string
	Since  time.Time
}

// SetOptOut hides (optOut true) or shows again (false) a user, storing the
// choice before anything changes in memory. Hiding a monitored user
// publishes MemberLeft (their last snapshot) and nothing after it, so a
// subscriber sees them go as a member who left the guild; showing them
// again publishes MemberJoined with their current snapshot. changed is
// false when the user was already in that state (nothing is written).
// A user who is not monitored may opt out too: they stay hidden if they
// join a watched guild later.
func (h *Hub) SetOptOut(ctx context.Context, userID string, optOut bool) (changed bool, err error) {
	lock := h.kvLock(userID) // one change of this user at a time, as KV writes and Purge
	lock.Lock()
	defer lock.Unlock()

	if h.OptedOut(userID) == optOut {
		return false, nil
	}
	since := h.opts.Now().UTC().Truncate(time.Millisecond) // the store's precision
	if st := h.opts.Store; st != nil {
		store, ok := st.(OptOutStore)
		if !ok {
			return false, Errorf(EINTERNAL, "the store cannot keep opt-outs")
		}
		ctx = context.WithoutCancel(ctx) // as writeKV: the change outlives the request
		if optOut {
			err = store.SaveOptOut(ctx, userID, since)
		} else {
			err = store.DeleteOptOut(ctx, userID)
		}
		if err != nil {
			h.log.Error("saving an opt-out failed", "user", userID, "opt_out", optOut, "err", err)
			return false, storeError(err)
		}
	}

	h.mu.Lock()
	h.applyOptOutLocked(userID, optOut, since)
	h.mu.Unlock()
	h.notifyOptOut(userID, optOut, since)
	return true, nil
}

// ApplyOptOut makes in memory a change of visibility another node already
// stored (a cluster bus carries SetOptOut's outcome: user, choice, time):
// the same events as SetOptOut, no store write.
func (h *Hub) ApplyOptOut(userID string, optOut bool, since time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.applyOptOutLocked(userID, optOut, since)
}

// applyOptOutLocked changes the flag in memory and publishes the change
// of visibility. Called with h.mu held for writing.
func (h *Hub) applyOptOutLocked(userID string, optOut bool, since time.Time) {
	u, member := h.users.get(userID)
	if optOut {
		if _, already := h.optOuts[userID]; already {
			return
		}
		if member {
			h.publishLocked(Event{Type: MemberLeft, User: u}) // before the flag: publishLocked skips hidden users
		}
		if h.optOuts == nil {
			h.optOuts = map[string]time.Time{}
		}
		h.optOuts[userID] = since
		return
	}
	if _, was := h.optOuts[userID]; !was {
		return
	}
	delete(h.optOuts, userID)
	if _, held := h.recordOfLocked(userID); held {
		h.dirty.add(userID) // what changed while hidden was not written
	}
	if member {
		h.publishLocked(Event{Type: MemberJoined, User: u})
	}
}

// OptedOut reports whether the user opted out.
func (h *Hub) OptedOut(userID string) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	_, out := h.optOuts[userID]
	return out
}

// Member returns the user's snapshot while they are in a watched guild,
// opted out or not: for the admin API, which shows an operator what the
// node holds. Everything served to clients uses Get.
func (h *Hub) Member(userID string) (*User, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	u, ok := h.users.get(userID)
	return u, ok
}

// OptOutSince returns when the user opted out, and whether they did.
func (h *Hub) OptOutSince(userID string) (time.Time, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	t, out := h.optOuts[userID]
	return t, out
}

// OptOuts returns every opted-out user, in no particular order (for the
// admin API and backups).
func (h *Hub) OptOuts() []OptOut {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]OptOut, 0, len(h.optOuts))
	for id, t := range h.optOuts {
		out = append(out, OptOut{UserID: id, Since: t})
	}
	return out
}

// hiddenLocked reports whether the user opted out. The map is empty on
// most nodes, so the common case is one length check. Called with h.mu
// held.
func (h *Hub) hiddenLocked(userID string) bool {
	if len(h.optOuts) == 0 {
		return false
	}
	_, out := h.optOuts[userID]
	return out
}

// hiddenMembersLocked counts the opted-out users who are members of a
// watched guild. Called with h.mu held.
func (h *Hub) hiddenMembersLocked() int {
	n := 0
	for id := range h.optOuts {
		if _, member := h.users.get(id); member {
			n++
		}
	}
	return n
}

// loadOptOuts reads the stored opt-outs into a hub that is not serving yet
// (Open), or that is (LoadStored: the hidden members then leave).
func (h *Hub) loadOptOuts(ctx context.Context) error {
	store, ok := h.opts.Store.(OptOutStore)
	if !ok {
		return nil
	}
	var loaded []OptOut
	if err := store.LoadOptOuts(ctx, func(userID string, since time.Time) error {
		loaded = append(loaded, OptOut{UserID: userID, Since: since})
		return nil
	}); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, o := range loaded {
		h.applyOptOutLocked(o.UserID, true, o.Since)
	}
	return nil
}

package history

import (
	"context"

	"github.com/halyardhq/halyard/core"
)

// errUnavailable is the answer while history has no store.
var errUnavailable = core.Errorf(core.EUNAVAILABLE, "presence history is unavailable: the database was not reachable at start")

// Enabled reports whether the user turned history on.
func (r *Recorder) Enabled(userID string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.users[userID]
	return ok
}

// Enable turns history on for the user: stored first (it survives
// restarts), then recorded from now on, then announced to the other nodes
// of a cluster. Turning it on twice is harmless.
func (r *Recorder) Enable(ctx context.Context, userID string) error {
	if r.opts.Store == nil {
		return errUnavailable
	}
	if err := r.opts.Store.SetHistoryUser(ctx, userID, true); err != nil {
		return storeError(err)
	}
	r.enableLocal(userID)
	r.announceChange(userID, ChangeOn)
	return nil
}

// enableLocal follows the user from now on, in memory (the opt-in is
// stored already).
func (r *Recorder) enableLocal(userID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.users[userID]; ok || r.sub == nil {
		return
	}
	// What was recorded before an earlier `off` is still stored (until it
	// expires or is cleared): load it in the background.
	t := r.newTracked(make(chan struct{}))
	// Those closed before an `off` and not written yet are in no load.
	for _, list := range [][]core.HistoryInterval{r.inflight, r.pending} {
		for _, iv := range list {
			if iv.UserID == userID {
				t.keep(iv)
			}
		}
	}
	go r.load(userID, t.loading)
	r.catchUpLater(userID)
	r.users[userID] = t
	r.sub.Add(userID) // before the snapshot: no change falls in between
	if u, ok := r.opts.Hub.Get(userID); ok {
		r.applyLocked(userID, t, u, r.now())
	}
}

// Disable turns history off: the open intervals end now and nothing more
// is recorded; what was recorded stays until it expires or is cleared.
func (r *Recorder) Disable(ctx context.Context, userID string) error {
	if r.opts.Store == nil {
		return errUnavailable
	}
	if err := r.opts.Store.SetHistoryUser(ctx, userID, false); err != nil {
		return storeError(err)
	}
	r.disableLocal(userID)
	r.announceChange(userID, ChangeOff)
	return nil
}

// disableLocal stops following the user, closing their open intervals
// now (written if this node writes them).
func (r *Recorder) disableLocal(userID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t, ok := r.users[userID]; ok {
		r.closeAllLocked(userID, t, r.now())
		delete(r.users, userID)
		r.sub.Remove(userID)
	}
}

// Clear deletes every recorded interval of the user, stored or waiting to
// be, at once, and returns how many. A user who keeps history on is
// recorded again from now. The other nodes of a cluster forget it too.
func (r *Recorder) Clear(ctx context.Context, userID string) (int64, error) {
	if r.opts.Store == nil {
		return 0, errUnavailable
	}
	r.writeMu.Lock() // no batch taken before the deletion is written after it
	defer r.writeMu.Unlock()
	waiting := r.forgetLocal(userID, false)
	n, err := r.opts.Store.DeleteHistory(context.WithoutCancel(ctx), userID)
	if err != nil {
		return 0, storeError(err)
	}
	r.announceChange(userID, ChangeClear)
	return n + int64(waiting), nil
}

// forgetLocal drops the user's intervals waiting to be written and those
// in memory, and returns how many were waiting; untrack also stops
// following the user (a purge). A user still followed is recorded again
// from now. The caller holds writeMu.
func (r *Recorder) forgetLocal(userID string, untrack bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.forgets++ // a catch-up read before this must not bring it back
	waiting := r.dropPendingLocked(userID)
	t, ok := r.users[userID]
	switch {
	case !ok:
	case untrack:
		delete(r.users, userID)
		r.sub.Remove(userID)
	default:
		// A load under way must not bring back what is deleted now.
		t.closed, t.loading = nil, nil
		if t.present {
			now := r.now()
			t.statusStart = now
			for a := range t.acts {
				t.acts[a] = now
			}
		}
	}
	return waiting
}

// Purge forgets the user's history and opt-in (Hub.Purge's hook), on
// every node of a cluster.
func (r *Recorder) Purge(ctx context.Context, userID string) error {
	if r.opts.Store == nil {
		return nil
	}
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	r.forgetLocal(userID, true)
	if err := r.opts.Store.SetHistoryUser(ctx, userID, false); err != nil {
		return err
	}
	if _, err := r.opts.Store.DeleteHistory(ctx, userID); err != nil {
		return err
	}
	r.announceChange(userID, ChangePurge)
	return nil
}

// dropPendingLocked removes the user's intervals waiting to be written
// and returns how many there were.
func (r *Recorder) dropPendingLocked(userID string) int {
	kept := r.pending[:0]
	for _, iv := range r.pending {
		if iv.UserID != userID {
			kept = append(kept, iv)
		}
	}
	n := len(r.pending) - len(kept)
	clear(r.pending[len(kept):])
	r.pending = kept
	return n
}

// storeError turns a store failure into EUNAVAILABLE unless it is already
// a domain error.
func storeError(err error) error {
	if core.ErrorCode(err) != core.EINTERNAL {
		return err
	}
	return core.Errorf(core.EUNAVAILABLE, "the database is unavailable, try again later")
}

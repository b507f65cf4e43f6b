package history

import (
	"context"

	"github.com/halyardhq/halyard/core"
)

// errUnavailable is the answer while history has no store.
var errUnavailable = core.Errorf(core.EUNAVAILABLE, "presence history is unavailable: the database was not reachable at start")

// errClustered is the answer on a node of a cluster: every node would
// record the same changes into the shared store, and opt-ins made through
// one node's bot would not reach the others' memory, so history is off
// until it records on one node and answers from the store on all.
var errClustered = core.Errorf(core.EUNAVAILABLE, "presence history is not available on a cluster of several nodes yet")

// unavailable is the error while history cannot be used.
func (r *Recorder) unavailable() error {
	if r.opts.Clustered {
		return errClustered
	}
	return errUnavailable
}

// Enabled reports whether the user turned history on.
func (r *Recorder) Enabled(userID string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.users[userID]
	return ok
}

// Enable turns history on for the user: stored first (it survives
// restarts), then recorded from now on. Turning it on twice is harmless.
func (r *Recorder) Enable(ctx context.Context, userID string) error {
	if r.opts.Store == nil {
		return r.unavailable()
	}
	if err := r.opts.Store.SetHistoryUser(ctx, userID, true); err != nil {
		return storeError(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.users[userID]; ok {
		return nil
	}
	// What was recorded before an earlier `off` is still stored (until it
	// expires or is cleared): load it in the background.
	t := &tracked{loading: make(chan struct{})}
	go r.load(userID, t.loading)
	r.users[userID] = t
	r.sub.Add(userID) // before the snapshot: no change falls in between
	if u, ok := r.opts.Hub.Get(userID); ok {
		r.applyLocked(userID, t, u, r.now())
	}
	return nil
}

// Disable turns history off: the open intervals end now and nothing more
// is recorded; what was recorded stays until it expires or is cleared.
func (r *Recorder) Disable(ctx context.Context, userID string) error {
	if r.opts.Store == nil {
		return r.unavailable()
	}
	if err := r.opts.Store.SetHistoryUser(ctx, userID, false); err != nil {
		return storeError(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if t, ok := r.users[userID]; ok {
		r.closeAllLocked(userID, t, r.now())
		delete(r.users, userID)
		r.sub.Remove(userID)
	}
	return nil
}

// Clear deletes every recorded interval of the user, stored or waiting to
// be, at once, and returns how many. A user who keeps history on is
// recorded again from now.
func (r *Recorder) Clear(ctx context.Context, userID string) (int64, error) {
	if r.opts.Store == nil {
		return 0, r.unavailable()
	}
	r.writeMu.Lock() // no batch taken before the deletion is written after it
	defer r.writeMu.Unlock()
	r.mu.Lock()
	waiting := r.dropPendingLocked(userID)
	if t, ok := r.users[userID]; ok {
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
	r.mu.Unlock()
	n, err := r.opts.Store.DeleteHistory(context.WithoutCancel(ctx), userID)
	if err != nil {
		return 0, storeError(err)
	}
	return n + int64(waiting), nil
}

// Purge forgets the user's history and opt-in (Hub.Purge's hook).
func (r *Recorder) Purge(ctx context.Context, userID string) error {
	if r.opts.Store == nil {
		return nil
	}
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	r.mu.Lock()
	r.dropPendingLocked(userID)
	if _, ok := r.users[userID]; ok {
		delete(r.users, userID)
		r.sub.Remove(userID)
	}
	r.mu.Unlock()
	if err := r.opts.Store.SetHistoryUser(ctx, userID, false); err != nil {
		return err
	}
	_, err := r.opts.Store.DeleteHistory(ctx, userID)
	return err
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

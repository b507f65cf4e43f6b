package history

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/halyardhq/halyard/core"
)

// Backup and restore of the history (`halyard backup`, `halyard
// restore`): answered from and applied to the recorder's memory, which
// holds every closed interval within the retention, written or not.

// historyKey identifies an interval for a restore: a user's status or
// activity from a start. Two intervals with the same key are the same
// stretch (a split interval's pieces are one in memory).
type historyKey struct {
	user     string
	status   core.Status
	activity core.HistoryActivity
	start    int64 // Unix milliseconds
}

func keyOf(iv core.HistoryInterval) historyKey {
	return historyKey{iv.UserID, iv.Status, iv.Activity, iv.Start.UnixMilli()}
}

// BackupHistory returns the users who turned history on and their
// intervals within the retention, by user then start. Intervals open now
// are returned closed now: the backup holds the history up to its
// moment, and a node restored from it records on from the restore.
func (r *Recorder) BackupHistory(ctx context.Context) ([]string, []core.HistoryInterval, error) {
	if r.opts.Store == nil {
		return nil, nil, errUnavailable
	}
	if err := r.waitLoaded(ctx, nil); err != nil {
		return nil, nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	cutoff := now.Add(-r.opts.Retention)
	users := make([]string, 0, len(r.users))
	var ivs []core.HistoryInterval
	for id, t := range r.users {
		users = append(users, id)
		for _, iv := range t.closed {
			if iv.End.After(cutoff) {
				ivs = append(ivs, iv)
			}
		}
		if !t.present {
			continue
		}
		if now.After(t.statusStart) {
			ivs = append(ivs, core.HistoryInterval{UserID: id, Status: t.status, Start: t.statusStart, End: now})
		}
		for a, start := range t.acts {
			if now.After(start) {
				ivs = append(ivs, core.HistoryInterval{UserID: id, Activity: a, Start: start, End: now})
			}
		}
	}
	slices.Sort(users)
	return users, mergeRuns(ivs), nil
}

// mergeRuns merges the intervals of one user's status or activity that
// touch or overlap, as memory holds a split interval's pieces (and a
// stored one read twice), and sorts them by user then start. The interval
// open at a backup thus continues the piece closed before it: one line,
// with the start the node keeps, so restoring the backup into the node it
// came from finds it held.
func mergeRuns(ivs []core.HistoryInterval) []core.HistoryInterval {
	slices.SortFunc(ivs, func(a, b core.HistoryInterval) int {
		return cmp.Or(cmp.Compare(a.UserID, b.UserID), cmp.Compare(a.Status, b.Status),
			cmp.Compare(a.Activity.Name, b.Activity.Name), cmp.Compare(a.Activity.Type, b.Activity.Type),
			cmp.Compare(a.Activity.ApplicationID, b.Activity.ApplicationID), a.Start.Compare(b.Start))
	})
	var out []core.HistoryInterval
	for _, iv := range ivs {
		if n := len(out); n > 0 {
			last := &out[n-1]
			if last.UserID == iv.UserID && last.Status == iv.Status && last.Activity == iv.Activity && !iv.Start.After(last.End) {
				if iv.End.After(last.End) {
					last.End = iv.End
				}
				continue
			}
		}
		out = append(out, iv)
	}
	slices.SortStableFunc(out, func(a, b core.HistoryInterval) int {
		return cmp.Or(cmp.Compare(a.UserID, b.UserID), a.Start.Compare(b.Start))
	})
	return out
}

// RestoreUser turns history on for the user, as `.history on` does,
// unless it is on already; it reports whether it changed anything. A dry
// run changes nothing.
func (r *Recorder) RestoreUser(ctx context.Context, userID string, dryRun bool) (bool, error) {
	if r.opts.Store == nil {
		return false, errUnavailable
	}
	if r.Enabled(userID) {
		return false, nil
	}
	if dryRun {
		return true, nil
	}
	return true, r.Enable(ctx, userID)
}

// RestoreHistory adds the intervals this node does not hold yet (by
// user, status or activity, and start), stored before they are answered,
// and returns how many it added, already held, and skipped as older than
// the retention. Their users must have history on (RestoreUser first);
// a dry run changes nothing and counts what it would add.
func (r *Recorder) RestoreHistory(ctx context.Context, ivs []core.HistoryInterval, dryRun bool) (added, held, skipped int, err error) {
	if r.opts.Store == nil {
		return 0, 0, 0, errUnavailable
	}
	ids := map[string]bool{}
	for _, iv := range ivs {
		ids[iv.UserID] = true
	}
	// The stored history of a user turned on just now is still loading:
	// what it holds counts as held.
	if err := r.waitLoaded(ctx, ids); err != nil {
		return 0, 0, 0, err
	}
	r.writeMu.Lock() // no Clear or Purge between the check and the write
	defer r.writeMu.Unlock()
	r.mu.Lock()
	cutoff := r.now().Add(-r.opts.Retention)
	known := map[string]map[historyKey]bool{}
	var add []core.HistoryInterval
	for _, iv := range ivs {
		if !iv.End.After(cutoff) {
			skipped++
			continue
		}
		t := r.users[iv.UserID]
		if t == nil && !dryRun {
			r.mu.Unlock()
			return 0, 0, 0, core.Errorf(core.EINVALID, "the backup holds history of user %s but no history_user line turning it on", iv.UserID)
		}
		keys := known[iv.UserID]
		if keys == nil {
			keys = heldKeys(iv.UserID, t)
			known[iv.UserID] = keys
		}
		if k := keyOf(iv); keys[k] {
			held++
		} else {
			keys[k] = true
			add = append(add, iv)
		}
	}
	r.mu.Unlock()
	if dryRun || len(add) == 0 {
		return len(add), held, skipped, nil
	}
	if err := r.opts.Store.AppendHistory(ctx, add); err != nil {
		return 0, 0, 0, storeError(err)
	}
	r.mu.Lock()
	restored := map[string]bool{}
	for _, iv := range add {
		if t := r.users[iv.UserID]; t != nil {
			t.closed = append(t.closed, iv)
			restored[iv.UserID] = true
		}
	}
	r.mu.Unlock()
	// The other nodes of a cluster read them from the store.
	for id := range restored {
		r.announceChange(id, ChangeRestored)
	}
	return len(add), held, skipped, nil
}

// heldKeys returns the keys of the intervals the node holds for the user:
// closed, and open (its start is the one the backup would hold).
func heldKeys(id string, t *tracked) map[historyKey]bool {
	keys := map[historyKey]bool{}
	if t == nil {
		return keys
	}
	for _, iv := range t.closed {
		keys[keyOf(iv)] = true
	}
	if t.present {
		keys[keyOf(core.HistoryInterval{UserID: id, Status: t.status, Start: t.statusStart})] = true
		for a, start := range t.acts {
			keys[keyOf(core.HistoryInterval{UserID: id, Activity: a, Start: start})] = true
		}
	}
	return keys
}

// waitLoaded waits until the stored history of the given users (every
// opted-in user when nil) is in memory, as a timeline does.
func (r *Recorder) waitLoaded(ctx context.Context, ids map[string]bool) error {
	deadline := time.After(loadWait)
	for {
		r.mu.Lock()
		var wait chan struct{}
		for id, t := range r.users {
			if t.loading != nil && (ids == nil || ids[id]) {
				wait = t.loading
				break
			}
		}
		r.mu.Unlock()
		if wait == nil {
			return nil
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return core.Errorf(core.EUNAVAILABLE, "the stored history is still being loaded, try again later")
		case <-deadline:
			return core.Errorf(core.EUNAVAILABLE, "the stored history is still being loaded, try again later")
		}
	}
}

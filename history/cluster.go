package history

import (
	"context"
	"time"

	"github.com/halyardhq/halyard/core"
)

// On a cluster (NATS_URL) every node records every opted-in user in
// memory, from the same hub changes (the shard holder's, applied from the
// bus on the others), and answers timelines from it; one node writes each
// user's intervals to the store: the holder of the Discord shard of the
// user's guild (Options.Writes), which ingested the changes. The others
// keep what they close in memory only, so nothing is written twice.
//
// Handover. When the shards a node holds change (it took or lost a lease,
// or gave one back at a stop), the cluster calls Handover: the node first
// records the changes it has been told of, then cuts every open interval
// of the users whose writer it stops or starts being at that moment. The
// node that stops writes the pieces up to then; the node that starts
// writes from its takeover on (the piece before it stays in its memory
// only). The store thus misses what happened between the old holder's
// loss and the new holder's takeover: nothing for a holder that stops
// cleanly and hands over within its lease round (the pieces meet, read
// back as one), up to the lease TTL plus a renewal (about 8 s) when it
// dies; a holder that dies also loses what it had not written yet (its
// intervals closed in the last flush interval, 5 s, and the open pieces
// since their last split, up to SplitAfter). The other nodes' memory
// still holds them until they restart.
//
// Catching up. A node reads the stored history when it starts (and a
// user's when they turn history on); what the writer closed shortly
// before and had not written yet is in no node's read, and a node whose
// memory begins then never closes it itself. So a cluster node reads it
// again once the writer has written it (catchUpLater) and adds what its
// memory lacks. What no read gives a node that starts (or restarts) while
// a stretch is going on is the part of it since its last stored piece
// (the writer stores long stretches every SplitAfter, so up to that much):
// that node's memory lacks it, until the node next reads the store (its
// next start); the writer's memory and the store have it.
//
// Opt-ins. Enable, Disable, Clear, Purge and a restore are stored first,
// then announced (SetAnnouncer: the cluster's KV announcements, numbered,
// so a lost one is a gap); every other node applies them with
// ApplyChange. A node that missed announcements (a gap, a reconnect, its
// start) makes its opt-ins the stored ones with ReloadUsers.

// Changes announced to the other nodes of a cluster.
const (
	ChangeOn       = "on"       // the user turned history on
	ChangeOff      = "off"      // the user turned history off
	ChangeClear    = "clear"    // the user's history was deleted
	ChangePurge    = "purge"    // the user's history and opt-in were deleted
	ChangeRestored = "restored" // intervals of the user were restored into the store
)

// applyTimeout bounds a store deletion made for another node's clear or
// purge.
const applyTimeout = 2 * time.Minute

// SetAnnouncer sets how this node tells the other nodes about an opt-in
// change it stored (a cluster; nil: none).
func (r *Recorder) SetAnnouncer(fn func(userID, change string)) {
	r.mu.Lock()
	r.announce = fn
	r.mu.Unlock()
}

// announceChange tells the other nodes of a cluster, if any.
func (r *Recorder) announceChange(userID, change string) {
	r.mu.Lock()
	fn := r.announce
	r.mu.Unlock()
	if fn != nil {
		fn(userID, change)
	}
}

// ApplyChange makes in memory an opt-in change another node stored and
// announced. A clear or purge of a user this node writes is also deleted
// from the store again here, after this node's waiting intervals are
// dropped, so none written before it survives.
func (r *Recorder) ApplyChange(userID, change string) {
	if r.opts.Store == nil {
		return
	}
	switch change {
	case ChangeOn:
		r.enableLocal(userID)
	case ChangeOff:
		r.disableLocal(userID)
	case ChangeClear, ChangePurge:
		writes := r.writesID(userID)
		r.writeMu.Lock()
		r.forgetLocal(userID, change == ChangePurge)
		if !writes {
			r.writeMu.Unlock()
			return
		}
		// The deletion may take long (FerretDB deletes one by one): not
		// on the caller's goroutine (the bus's), but before any write.
		go func() {
			defer r.writeMu.Unlock()
			ctx, cancel := context.WithTimeout(context.Background(), applyTimeout)
			defer cancel()
			if _, err := r.opts.Store.DeleteHistory(ctx, userID); err != nil {
				r.log.Warn("history: deleting a cleared history failed", "user", userID, "err", err)
			}
		}()
	case ChangeRestored:
		r.mu.Lock()
		if t := r.users[userID]; t != nil && t.loading == nil {
			t.loading = make(chan struct{})
			go r.load(userID, t.loading)
		}
		r.mu.Unlock()
	}
}

// ReloadUsers makes the opt-ins the stored ones: a node that may have
// missed announcements follows the users turned on meanwhile and stops
// following those turned off.
func (r *Recorder) ReloadUsers(ctx context.Context) error {
	if r.opts.Store == nil {
		return nil
	}
	stored := map[string]bool{}
	if err := r.opts.Store.LoadHistoryUsers(ctx, func(id string) error {
		stored[id] = true
		return nil
	}); err != nil {
		return err
	}
	r.mu.Lock()
	var off []string
	for id := range r.users {
		if !stored[id] {
			off = append(off, id)
		}
		delete(stored, id)
	}
	r.mu.Unlock()
	for _, id := range off {
		r.disableLocal(id)
	}
	for id := range stored {
		r.enableLocal(id)
	}
	return nil
}

// Handover is called when the users this node writes may have changed
// (it took, lost or gave back a shard's lease): the changes already
// applied to the hub are recorded first, under the writer they had, then
// the open intervals of each user whose writer changed are cut now.
func (r *Recorder) Handover() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sub == nil {
		return
	}
	r.applyEventsLocked()
	now := r.now()
	for id, t := range r.users {
		u, ok := r.opts.Hub.Get(id)
		switch {
		case !ok:
		case t.deferred:
			// The change waiting for the resolution is taken now (both
			// at now: the cut comes first, applyLocked).
			t.deferred = false
			r.sub.Add(id)
			r.applyLocked(id, t, u, now)
		case !t.present:
			t.writing = r.writes(u)
		default:
			if w := r.writes(u); w != t.writing {
				r.handoverLocked(id, t, now, w)
			}
		}
	}
}

// handoverLocked cuts the user's open intervals at now, the pieces before
// written by the node that wrote them, and makes writes the new writer.
func (r *Recorder) handoverLocked(id string, t *tracked, now time.Time, writes bool) {
	if t.present {
		r.closeLocked(core.HistoryInterval{UserID: id, Status: t.status, Start: t.statusStart, End: now})
		t.statusStart = now
		for a, start := range t.acts {
			r.closeLocked(core.HistoryInterval{UserID: id, Activity: a, Start: start, End: now})
			t.acts[a] = now
		}
	}
	t.writing = writes
}

// writes reports whether this node writes the user's intervals.
func (r *Recorder) writes(u *core.User) bool {
	return r.opts.Writes == nil || r.opts.Writes(u)
}

// writesID is writes for a user by id: a user no longer monitored is
// written by the node that wrote them last.
func (r *Recorder) writesID(userID string) bool {
	if r.opts.Writes == nil {
		return true
	}
	if u, ok := r.opts.Hub.Get(userID); ok {
		return r.opts.Writes(u)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.users[userID]
	return t != nil && t.writing
}

// newTracked is a user just followed; loading as given.
func (r *Recorder) newTracked(loading chan struct{}) *tracked {
	return &tracked{loading: loading, writing: r.opts.Writes == nil}
}

// catchUpLater reads the stored history again (of userID, or of every
// user when "") once the writer has written what it held when this node
// began following, and adds what memory lacks (same status or activity
// and start: mergeLoaded). Only on a cluster: a single node's memory
// holds everything it has not written.
func (r *Recorder) catchUpLater(userID string) {
	if r.opts.Writes == nil || r.opts.Store == nil {
		return
	}
	go func() {
		select {
		case <-time.After(2*r.opts.FlushInterval + time.Second):
		case <-r.stop:
			return
		}
		r.mu.Lock()
		forgets := r.forgets
		r.mu.Unlock()
		found := map[string][]core.HistoryInterval{}
		ctx, cancel := context.WithTimeout(context.Background(), applyTimeout)
		defer cancel()
		err := r.opts.Store.LoadHistory(ctx, r.now().Add(-r.opts.Retention), userID, func(iv core.HistoryInterval) error {
			found[iv.UserID] = append(found[iv.UserID], iv)
			return nil
		})
		if err != nil {
			r.log.Warn("history: catching up with the stored history failed", "user", userID, "err", err)
			return
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.forgets != forgets {
			return // cleared or purged meanwhile: what was read may be gone
		}
		for id, ivs := range found {
			if t := r.users[id]; t != nil && t.loading == nil {
				t.closed = mergeLoaded(ivs, t.closed)
			}
		}
	}()
}

package core

import (
	"context"
	"strings"
	"time"
)

// A monitored user's record is not stored twice: its username, monitoring
// start and last sighting live in the user's snapshot, and h.records keeps
// only the users who are not monitored now (loaded from the store, or who
// left) and the GitHub links. At a million members the duplicate map was a
// fifth of the hub's memory.

// recordLocked returns the user's record for a user becoming monitored,
// starting it (monitoring since now) for a user never seen before. The
// snapshot built from it takes it over; a member object's joined_at then
// replaces the start (UpsertMember), "now" being only the fallback for a
// member whose join time Discord did not give.
func (h *Hub) recordLocked(userID string, now time.Time) UserRecord {
	r, ok := h.records[userID]
	if !ok || r.MonitoringSince.IsZero() {
		r.ID = userID
		r.MonitoringSince = now
		h.markRecordLocked(userID)
		if !ok {
			// Never stored, as far as this hub knows (Open loaded every
			// stored record into h.records): after a fresh start, every
			// member of a large guild. (Not marked at all when another
			// node writes it: markRecordLocked.)
			h.dirty.markFresh(userID)
		}
	}
	if r.GitHubLogin == "" {
		delete(h.records, userID)
	} else {
		h.records[userID] = r
	}
	return r
}

// recordOfLocked returns what Halyard remembers about a user: from the
// snapshot while monitored, from h.records otherwise.
func (h *Hub) recordOfLocked(userID string) (UserRecord, bool) {
	r, ok := h.records[userID]
	if u, monitored := h.users.get(userID); monitored {
		r.ID = u.ID
		r.Username = u.Discord.Username()
		r.MonitoringSince = u.MonitoringSince()
		r.LastSeen = u.LastSeen()
		return r, true
	}
	return r, ok
}

// noteRecordLocked marks the user's record for the background writer
// unless prev — what Halyard remembered before this change (recordOfLocked:
// from the previous snapshot, or the stored record of a user becoming
// monitored; zero when none) — already says the same. After a restart
// every member becomes monitored again, and rewriting the unchanged records
// of a large guild kept the store busy for minutes (issue 12).
func (h *Hub) noteRecordLocked(u *User, prev UserRecord) {
	if prev.ID != "" && !prev.MonitoringSince.IsZero() &&
		prev.MonitoringSince.Equal(u.MonitoringSince()) && prev.LastSeen.Equal(u.LastSeen()) &&
		prev.Username == u.Discord.Username() {
		return
	}
	h.markRecordLocked(u.ID)
}

// keepRecordLocked stores the record of a user who stops being monitored.
func (h *Hub) keepRecordLocked(u *User) {
	id := strings.Clone(u.ID) // the snapshot's shares its packed profile
	r := h.records[id]
	r.ID = id
	r.Username = strings.Clone(u.Discord.Username()) // not the snapshot's raw JSON
	r.MonitoringSince = u.MonitoringSince()
	r.LastSeen = u.LastSeen()
	h.records[id] = r
}

// syncFlushWait is how long the record writer waits for the first full
// member sync at most (flushLoop).
const syncFlushWait = 5 * time.Minute

// flushLoop writes changed user records in batches, off every client's
// path. Until the first full member sync ends (MarkSynced) — or for
// syncFlushWait at most — it writes nothing: after a fresh start every
// member's record is new, and writing them took CPU from the sync itself
// (at a million members, the insert of every record cost seconds of
// readiness). Records written later are the same records; a process that
// dies before then rebuilds them from Discord on its next start.
func (h *Hub) flushLoop() {
	defer close(h.flushDone)
	t := time.NewTicker(h.opts.RecordFlushInterval)
	defer t.Stop()
	waitUntil := time.Now().Add(syncFlushWait)
	for {
		select {
		case <-t.C:
			if !h.IsSynced() && time.Now().Before(waitUntil) {
				continue
			}
			_ = h.FlushRecords(context.Background()) // logged; retried next tick
		case <-h.flushStop:
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = h.FlushRecords(ctx)
			cancel()
			return
		}
	}
}

// FlushRecords writes every changed user record now. Records that fail to
// write stay marked and are retried on the next flush, and the error is
// returned; nil means every record changed before the call is stored (a
// cluster announces that: hub_records_cluster.go).
func (h *Hub) FlushRecords(ctx context.Context) error {
	if h.opts.Store == nil {
		return nil
	}
	h.flushMu.Lock()
	defer h.flushMu.Unlock()
	inserter, _ := h.opts.Store.(NewUserSaver)
	const batch = 1000
	for {
		h.mu.Lock()
		fresh, recs := h.takeRecordsLocked(batch, inserter != nil)
		if h.dirty.len() == 0 {
			// A map keeps its peak size; after a full sync's burst that
			// is a slot per member.
			h.dirty = recordSet{}
		}
		h.mu.Unlock()
		if len(fresh)+len(recs) == 0 {
			return nil
		}
		h.stats.recordsWriting.Store(int64(len(fresh) + len(recs)))
		var err error
		if len(fresh) > 0 {
			err = inserter.InsertUsers(ctx, fresh)
		}
		if err == nil && len(recs) > 0 {
			err = h.opts.Store.SaveUsers(ctx, recs)
		}
		if err != nil {
			h.log.Warn("saving user records failed; will retry", "err", err, "count", len(fresh)+len(recs))
			h.mu.Lock()
			for _, r := range recs {
				h.dirty.add(r.ID)
			}
			for _, r := range fresh {
				h.dirty.add(r.ID)
				h.dirty.markFresh(r.ID)
			}
			h.stats.recordsWriting.Store(0)
			h.mu.Unlock()
			return err
		}
		h.stats.recordsWriting.Store(0)
		h.stats.recordsWritten.Add(int64(len(fresh) + len(recs)))
	}
}

// takeRecordsLocked unmarks up to n dirty records and returns them: the
// fresh ones apart (the store is not expected to hold them) when split is
// set, else all in recs.
func (h *Hub) takeRecordsLocked(n int, split bool) (fresh, recs []UserRecord) {
	for id, isFresh := range h.dirty.all() {
		h.dirty.del(id)
		if h.hiddenLocked(id) {
			// Nothing new about a user who opted out is written
			// (hub_optout.go); opting in marks the record again.
			continue
		}
		r, ok := h.recordOfLocked(id)
		switch {
		case !ok:
		case split && isFresh:
			fresh = append(fresh, r)
		default:
			recs = append(recs, r)
		}
		if len(fresh)+len(recs) == n {
			break
		}
	}
	return fresh, recs
}

package core

import (
	"context"
	"time"
)

// recordLocked returns the user's record, creating it (monitoring since
// now) for a user never seen before.
func (h *Hub) recordLocked(userID string, now time.Time) UserRecord {
	r, ok := h.records[userID]
	if !ok || r.MonitoringSince.IsZero() {
		r.ID = userID
		r.MonitoringSince = now
		h.records[userID] = r
		h.dirty[userID] = struct{}{}
	}
	return r
}

// noteRecordLocked copies what the record keeps from a snapshot and marks
// it for the background writer when it changed.
func (h *Hub) noteRecordLocked(u *User) {
	r := h.records[u.ID]
	if r.Username == u.Discord.Username && r.LastSeen.Equal(u.LastSeen) && r.ID == u.ID {
		return
	}
	r.ID = u.ID
	r.Username = u.Discord.Username
	r.LastSeen = u.LastSeen
	if r.MonitoringSince.IsZero() {
		r.MonitoringSince = u.MonitoringSince
	}
	h.records[u.ID] = r
	h.dirty[u.ID] = struct{}{}
}

// flushLoop writes changed user records in batches, off every client's path.
func (h *Hub) flushLoop() {
	defer close(h.flushDone)
	t := time.NewTicker(h.opts.RecordFlushInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			h.FlushRecords(context.Background())
		case <-h.flushStop:
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			h.FlushRecords(ctx)
			cancel()
			return
		}
	}
}

// FlushRecords writes every changed user record now. Records that fail to
// write stay marked and are retried on the next flush.
func (h *Hub) FlushRecords(ctx context.Context) {
	if h.opts.Store == nil {
		return
	}
	const batch = 1000
	for {
		h.mu.Lock()
		recs := make([]UserRecord, 0, min(batch, len(h.dirty)))
		for id := range h.dirty {
			recs = append(recs, h.records[id])
			delete(h.dirty, id)
			if len(recs) == batch {
				break
			}
		}
		h.mu.Unlock()
		if len(recs) == 0 {
			return
		}
		if err := h.opts.Store.SaveUsers(ctx, recs); err != nil {
			h.log.Warn("saving user records failed; will retry", "err", err, "count", len(recs))
			h.mu.Lock()
			for _, r := range recs {
				h.dirty[r.ID] = struct{}{}
			}
			h.mu.Unlock()
			return
		}
	}
}

package core

import "sync/atomic"

// hubStats counts fan-out work for metrics.
type hubStats struct {
	events     atomic.Int64
	deliveries atomic.Int64
	dropped    atomic.Int64
	// recordsWriting is the size of the record batch being written now.
	recordsWriting atomic.Int64
	// recordsWritten counts the user records this hub stored.
	recordsWritten atomic.Int64
}

func (s *hubStats) observe(deliveries, dropped int) {
	s.events.Add(1)
	s.deliveries.Add(int64(deliveries))
	s.dropped.Add(int64(dropped))
}

// HubStats is a snapshot of the hub's counters.
type HubStats struct {
	Events      int64 // events published
	Deliveries  int64 // events queued to subscribers
	Dropped     int64 // subscribers dropped for overflowing
	Monitored   int   // monitored users now
	Subscribers int   // live subscriptions following every user
	// RecordsPending is how many changed user records wait for the
	// background writer; it grows while the store refuses writes.
	RecordsPending int
	// RecordsWritten counts the user records this hub stored.
	RecordsWritten int64
	// RecordsForeign is how many changed records another node of a
	// cluster writes, kept until it says they are stored
	// (hub_records_cluster.go).
	RecordsForeign int
}

// Stats returns the hub's counters.
func (h *Hub) Stats() HubStats {
	h.subMu.Lock()
	all := len(h.subsAll)
	h.subMu.Unlock()
	h.mu.Lock()
	pending := h.dirty.len() + int(h.stats.recordsWriting.Load())
	foreign := len(h.foreign)
	h.mu.Unlock()
	return HubStats{
		Events:      h.stats.events.Load(),
		Deliveries:  h.stats.deliveries.Load(),
		Dropped:     h.stats.dropped.Load(),
		Monitored:   h.Count(),
		Subscribers: all,

		RecordsPending: pending,
		RecordsWritten: h.stats.recordsWritten.Load(),
		RecordsForeign: foreign,
	}
}

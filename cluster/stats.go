package cluster

import "sync/atomic"

// Stats are a node's bus counters, for /metrics.
type Stats struct {
	BusIn     atomic.Uint64 // hub batches received
	BusOut    atomic.Uint64 // hub batches sent
	OpsIn     atomic.Uint64 // hub changes applied from other nodes
	OpsOut    atomic.Uint64 // hub changes sent
	Resyncs   atomic.Uint64 // snapshots loaded after a gap, a join or a reconnect
	KVReloads atomic.Uint64 // full KV and token reloads
	// ApplyLagNanos is the time from the last applied batch's sending to
	// its application, in nanoseconds.
	ApplyLagNanos atomic.Int64
}

package core

import "context"

// MarkSynced records that the gateway has delivered the full member list
// of every watched guild at least once, so "not monitored" now means it.
// Later calls do nothing.
func (h *Hub) MarkSynced() {
	h.syncOnce.Do(func() { close(h.synced) })
}

// Synced is closed once MarkSynced was called.
func (h *Hub) Synced() <-chan struct{} { return h.synced }

// IsSynced reports whether MarkSynced was called.
func (h *Hub) IsSynced() bool {
	select {
	case <-h.synced:
		return true
	default:
		return false
	}
}

// WaitSynced blocks until the first full member sync or ctx ends. Sockets
// use it so a subscription sent right after a restart is not answered
// "not monitored" for users still being loaded.
func (h *Hub) WaitSynced(ctx context.Context) error {
	select {
	case <-h.synced:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

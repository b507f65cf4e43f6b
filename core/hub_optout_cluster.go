package core

import (
	"context"
	"time"
)

// SetOptOutHook registers fn, called after each stored change of a user's
// visibility made on this node (SetOptOut, RestoreOptOut), so a cluster
// bus carries it to the other nodes (which apply it with ApplyOptOut).
func (h *Hub) SetOptOutHook(fn func(userID string, optOut bool, since time.Time)) {
	h.mu.Lock()
	h.optOutHook = fn
	h.mu.Unlock()
}

// notifyOptOut runs the opt-out hook, if any (without h.mu held).
func (h *Hub) notifyOptOut(userID string, optOut bool, since time.Time) {
	h.mu.RLock()
	fn := h.optOutHook
	h.mu.RUnlock()
	if fn != nil {
		fn(userID, optOut, since)
	}
}

// ReloadOptOuts makes the hub's opt-outs the stored ones: a node that may
// have missed other nodes' changes (a gap on the bus, a reconnect) hides
// and shows users as the store says, with the same events as SetOptOut.
func (h *Hub) ReloadOptOuts(ctx context.Context) error {
	store, ok := h.opts.Store.(OptOutStore)
	if !ok {
		return nil
	}
	stored := map[string]time.Time{}
	if err := store.LoadOptOuts(ctx, func(userID string, since time.Time) error {
		stored[userID] = since
		return nil
	}); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for id := range h.optOuts {
		if _, still := stored[id]; !still {
			h.applyOptOutLocked(id, false, time.Time{})
		}
	}
	for id, since := range stored {
		h.applyOptOutLocked(id, true, since)
	}
	return nil
}

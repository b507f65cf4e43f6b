package core

// Follow follows the given users, like Add, and returns the snapshots of
// those monitored now, in the order given (absent ids are skipped), taken
// at the same moment: no change is published between following and
// reading, so every event queued afterwards is newer than the snapshot
// returned. A stream that sends the current state and then the changes
// (server-sent events) shows neither a stale state nor a gap.
func (s *Subscription) Follow(ids ...string) []*User {
	h := s.hub
	// Changes are published with h.mu held for writing (replace →
	// publishLocked): holding it for reading keeps them out.
	h.mu.RLock()
	defer h.mu.RUnlock()
	s.Add(ids...)
	users := make([]*User, 0, len(ids))
	for _, id := range ids {
		if u, ok := h.users.get(id); ok {
			users = append(users, u)
		}
	}
	return users
}

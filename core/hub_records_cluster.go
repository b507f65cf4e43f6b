package core

// One record writer per change in a cluster (docs: cluster/doc.go
// "Records"). Every node applies the shard holder's member changes, and a
// change can make the user's record dirty on each of them; if every node
// wrote it, they would race on the same documents. The node whose bot made
// a change writes its record (its ordinary dirty mark); a node applying it
// from the bus only notes it as foreign, under the change's origin and a
// generation the cluster numbers. The origin later says its records up to
// some point are stored (ForgetForeignRecords drops those notes), and a
// node that takes a shard over writes every note it still has
// (AdoptForeignRecords): what the old holder changed but did not store.

// ForeignRecord says which node's change made a record dirty (Origin, the
// node's stream) and when, in the applying node's own count (Gen).
type ForeignRecord struct {
	Origin string
	Gen    uint64
}

// ApplyMember applies a member change another node made, as UpsertMember
// does, except that the record it changes is that node's to write: it is
// noted under from (see ForeignRecord), not written by this hub.
func (h *Hub) ApplyMember(from ForeignRecord, guildID string, m Member) {
	if m.User.ID == "" {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.marking = &from
	h.upsertMemberLocked(guildID, m)
	h.marking = nil
}

// markRecordLocked marks the user's record for the background writer, or,
// while another node's change is applied (ApplyMember), notes it as that
// node's. A record already marked for this hub stays this hub's.
func (h *Hub) markRecordLocked(userID string) {
	if h.marking == nil {
		h.dirty.add(userID)
		return
	}
	if h.dirty.has(userID) {
		return
	}
	if h.foreign == nil {
		h.foreign = map[string]ForeignRecord{}
	}
	h.foreign[userID] = *h.marking
}

// ForgetForeignRecords drops the notes for which drop returns true: their
// origin stored them, or left them to another node.
func (h *Hub) ForgetForeignRecords(drop func(ForeignRecord) bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.foreign) == 0 {
		return
	}
	for id, f := range h.foreign {
		if drop(f) {
			delete(h.foreign, id)
		}
	}
	if len(h.foreign) == 0 {
		h.foreign = nil // a map keeps its peak size
	}
}

// AdoptForeignRecords makes every noted record this hub's to write (this
// node took over a shard: what the old holder did not store is written
// here) and returns how many.
func (h *Hub) AdoptForeignRecords() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := len(h.foreign)
	for id := range h.foreign {
		h.dirty.add(id)
	}
	h.foreign = nil
	return n
}

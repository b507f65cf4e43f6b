package core

import "sync"

// DefaultQueueSize is a subscriber's event queue length when none is given.
const DefaultQueueSize = 256

// Subscription receives the events of the users it follows: a set of ids,
// or every user. Its queue is bounded; when it overflows the hub drops the
// subscription (closes Events) rather than wait, so one slow client never
// slows the others.
type Subscription struct {
	hub *Hub
	ch  chan Event

	// guarded by hub.subMu
	all        bool
	ids        map[string]struct{}
	closed     bool
	overflowed bool
}

// Subscribe returns a new subscription that follows nobody yet. queue is the
// bound of its event queue (DefaultQueueSize when ≤ 0).
func (h *Hub) Subscribe(queue int) *Subscription {
	if queue <= 0 {
		queue = DefaultQueueSize
	}
	return &Subscription{hub: h, ch: make(chan Event, queue), ids: map[string]struct{}{}}
}

// Events delivers the subscription's events in order. It is closed by
// Close, or by the hub when the queue overflowed (see Overflowed).
func (s *Subscription) Events() <-chan Event { return s.ch }

// Add follows the given users (monitored or not yet).
func (s *Subscription) Add(ids ...string) {
	h := s.hub
	h.subMu.Lock()
	defer h.subMu.Unlock()
	if s.closed {
		return
	}
	for _, id := range ids {
		if _, ok := s.ids[id]; ok {
			continue
		}
		s.ids[id] = struct{}{}
		set := h.subsByUser[id]
		if set == nil {
			set = map[*Subscription]struct{}{}
			h.subsByUser[id] = set
		}
		set[s] = struct{}{}
	}
}

// Remove stops following the given users.
func (s *Subscription) Remove(ids ...string) {
	h := s.hub
	h.subMu.Lock()
	defer h.subMu.Unlock()
	for _, id := range ids {
		s.removeLocked(id)
	}
}

// SetAll follows (true) or stops following (false) every user.
func (s *Subscription) SetAll(all bool) {
	h := s.hub
	h.subMu.Lock()
	defer h.subMu.Unlock()
	if s.closed {
		return
	}
	s.all = all
	if all {
		h.subsAll[s] = struct{}{}
	} else {
		delete(h.subsAll, s)
	}
}

// Follows reports whether the subscription receives the user's events.
func (s *Subscription) Follows(id string) bool {
	s.hub.subMu.Lock()
	defer s.hub.subMu.Unlock()
	_, ok := s.ids[id]
	return ok || s.all
}

// IDs returns the users followed individually.
func (s *Subscription) IDs() []string {
	s.hub.subMu.Lock()
	defer s.hub.subMu.Unlock()
	out := make([]string, 0, len(s.ids))
	for id := range s.ids {
		out = append(out, id)
	}
	return out
}

// Overflowed reports whether the hub dropped the subscription because its
// queue was full.
func (s *Subscription) Overflowed() bool {
	s.hub.subMu.Lock()
	defer s.hub.subMu.Unlock()
	return s.overflowed
}

// Close ends the subscription and closes Events. Closing twice is safe.
func (s *Subscription) Close() {
	h := s.hub
	h.subMu.Lock()
	defer h.subMu.Unlock()
	s.closeLocked()
}

func (s *Subscription) removeLocked(id string) {
	if _, ok := s.ids[id]; !ok {
		return
	}
	delete(s.ids, id)
	if set := s.hub.subsByUser[id]; set != nil {
		delete(set, s)
		if len(set) == 0 {
			delete(s.hub.subsByUser, id)
		}
	}
}

func (s *Subscription) closeLocked() {
	if s.closed {
		return
	}
	s.closed = true
	for id := range s.ids {
		s.removeLocked(id)
	}
	delete(s.hub.subsAll, s)
	close(s.ch)
}

// deliver queues ev without blocking; a full queue drops the subscription.
// Called with hub.subMu held.
func (s *Subscription) deliver(ev Event, dropped *int) {
	if s.closed {
		return
	}
	select {
	case s.ch <- ev:
	default:
		s.overflowed = true
		s.closeLocked()
		*dropped++
	}
}

// subscriberSets is the hub's subscription index.
type subscriberSets struct {
	subMu      sync.Mutex
	subsAll    map[*Subscription]struct{}
	subsByUser map[string]map[*Subscription]struct{}
}

package core

import (
	"sync"
	"sync/atomic"
)

// DefaultQueueSize is a subscriber's event queue length when none is given.
const DefaultQueueSize = 256

// Subscription receives the events of the users it follows: a set of ids,
// or every user. Its queue is bounded; when it overflows the hub drops the
// subscription rather than wait, so one slow client never slows the others.
// There is one kind, made by SubscribeNotify: the hub queues events and
// wakes the owner, which collects them with Drain (no channel, no goroutine
// per subscriber).
type Subscription struct {
	hub *Hub

	// notify is called when pending goes from empty to non-empty and on
	// overflow; limit bounds pending.
	notify  func()
	limit   int
	qmu     sync.Mutex
	pending []Event
	lastOf  map[string]int // user → index of its last pending event, once pending is long

	overflowed atomic.Bool

	// guarded by hub.subMu
	all    bool
	ids    IDSet
	closed bool
}

// SubscribeNotify returns a subscription that follows nobody yet and
// queues its events without a channel or a goroutine waiting on one: the
// hub calls notify (which must not block; it runs under the hub's locks,
// or, in a fan-out to more than notifyInline subscribers, on the hub's
// notifier goroutine just after: see fanOut) when the first event is
// pending and when the subscription overflowed,
// and the owner collects the events with Drain. While it follows every
// user (SetAll), a pending update of a user is replaced by a newer update
// of the same kind for that user (only the latest snapshot matters), so a
// burst — a member sync, a restart — costs one queue entry per user
// instead of dropping the socket; subscriptions by id get every update, in
// order. The subscription overflows (and is dropped: the hub closes it
// and calls notify; Overflowed then reports it) when more than queue
// events wait — distinct users' events, for one that
// merges; a stalled subscriber that follows everyone is then dropped by
// its owner's write deadline, or once queue distinct users changed.
// queue is DefaultQueueSize when ≤ 0.
func (h *Hub) SubscribeNotify(queue int, notify func()) *Subscription {
	if queue <= 0 {
		queue = DefaultQueueSize
	}
	return &Subscription{hub: h, notify: notify, limit: queue}
}

// Drain appends the pending events to buf, in order, and empties the
// queue. After an overflow the pending events are those queued up to the
// drop; the owner is expected to end its client instead.
func (s *Subscription) Drain(buf []Event) []Event {
	s.qmu.Lock()
	buf = append(buf, s.pending...)
	clear(s.pending)
	if cap(s.pending) > 8 {
		s.pending = nil // an idle subscription keeps no backlog array
	} else {
		s.pending = s.pending[:0]
	}
	s.lastOf = nil
	s.qmu.Unlock()
	return buf
}

// Add follows the given users (monitored or not yet).
func (s *Subscription) Add(ids ...string) {
	h := s.hub
	h.subMu.Lock()
	defer h.subMu.Unlock()
	if s.closed {
		return
	}
	for _, id := range ids {
		if s.ids.Has(id) {
			continue
		}
		s.ids.Add(id)
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
	return s.ids.Has(id) || s.all
}

// IDs returns the users followed individually.
func (s *Subscription) IDs() []string {
	s.hub.subMu.Lock()
	defer s.hub.subMu.Unlock()
	return s.ids.List()
}

// Overflowed reports whether the hub dropped the subscription because its
// queue was full.
func (s *Subscription) Overflowed() bool { return s.overflowed.Load() }

// Close ends the subscription: no event is queued after it. Closing twice
// is safe.
func (s *Subscription) Close() {
	h := s.hub
	h.subMu.Lock()
	defer h.subMu.Unlock()
	s.closeLocked()
}

func (s *Subscription) removeLocked(id string) {
	if !s.ids.Has(id) {
		return
	}
	s.ids.Remove(id)
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
	for _, id := range s.ids.List() {
		s.removeLocked(id)
	}
	delete(s.hub.subsAll, s)
	s.all = false // a closed subscription follows nobody (Follows)
}

// deliver queues ev without blocking; a full queue drops the subscription.
// It reports whether the owner is to be notified (the first pending event,
// or the drop). Called with hub.subMu held.
func (s *Subscription) deliver(ev Event, dropped *int) bool {
	if s.closed {
		return false
	}
	return s.queue(ev, dropped)
}

// mergeScan is the pending length up to which the last event of a user is
// found by scanning back; longer queues keep an index.
const mergeScan = 16

// queue adds ev to the subscription's queue; one that follows every user
// merges it into a pending update of the same kind for the same user.
// It reports whether the owner is to be notified. Called with hub.subMu
// held.
func (s *Subscription) queue(ev Event, dropped *int) bool {
	s.qmu.Lock()
	first := len(s.pending) == 0
	// Only a subscription following everyone merges, so only it looks for
	// the user's last event and keeps the index: one by id (most sockets)
	// pays nothing for it.
	mergeable := s.all && (ev.Type == PresenceUpdated || ev.Type == KVUpdated)
	last := -1
	if mergeable {
		if s.lastOf != nil {
			if i, ok := s.lastOf[ev.User.ID]; ok {
				last = i
			}
		} else {
			for i := len(s.pending) - 1; i >= 0; i-- {
				if s.pending[i].User.ID == ev.User.ID {
					last = i
					break
				}
			}
		}
	}
	if last >= 0 && s.pending[last].Type == ev.Type {
		s.pending[last].User = ev.User
	} else {
		s.pending = append(s.pending, ev)
		switch {
		case !s.all:
			s.lastOf = nil // not kept up to date meanwhile: rebuilt if SetAll comes back
		case s.lastOf == nil && len(s.pending) > mergeScan:
			s.lastOf = make(map[string]int, len(s.pending)*2)
			for i, p := range s.pending {
				s.lastOf[p.User.ID] = i
			}
		case s.lastOf != nil:
			s.lastOf[ev.User.ID] = len(s.pending) - 1
		}
	}
	over := len(s.pending) > s.limit
	s.qmu.Unlock()
	if over {
		s.overflowed.Store(true)
		s.closeLocked()
		*dropped++
		return true
	}
	return first
}

// subscriberSets is the hub's subscription index.
type subscriberSets struct {
	subMu      sync.Mutex
	subsAll    map[*Subscription]struct{}
	subsByUser map[string]map[*Subscription]struct{}
	wakeBuf    []func() // fanOut's list of owners to notify, reused (under subMu)
	notifier   notifier
}

// notifyInline is the largest fan-out whose owners are notified on the
// publisher's goroutine, under the hub's locks; a larger one's are
// notified by the notifier goroutine.
const notifyInline = 64

// fanOut queues ev for the subscriptions following its user (by id or
// all users) and notifies the owners that need it. Called with the hub's
// mu held. Queueing an event is cheap; notifying its owner (waking a
// socket's actor on the engine's pool) is not, and the publisher holds the
// hub's lock for writing — every reader and the next change wait — and, on
// a cluster's shard holder, sends the change to the bus only once the hub
// returns. So a large fan-out is queued under the locks and its owners are
// notified after, on the notifier's goroutine, while the sockets woken
// first are already being written. Each subscription's events stay in
// order (they are queued here, in publishing order); a notify only says
// "drain".
func (ss *subscriberSets) fanOut(ev Event) (n, dropped int) {
	ss.subMu.Lock()
	defer ss.subMu.Unlock()
	wake := ss.wakeBuf[:0]
	for s := range ss.subsByUser[ev.User.ID] {
		if !s.all {
			if s.deliver(ev, &dropped) {
				wake = append(wake, s.notify)
			}
			n++
		}
	}
	for s := range ss.subsAll {
		if s.deliver(ev, &dropped) {
			wake = append(wake, s.notify)
		}
		n++
	}
	if len(wake) > notifyInline {
		ss.wakeBuf = nil // the notifier owns this list now
		ss.notifier.add(wake)
		return n, dropped
	}
	for _, notify := range wake {
		notify()
	}
	clear(wake)
	ss.wakeBuf = wake
	return n, dropped
}

// notifier calls the notify functions of large fan-outs (fanOut) on a
// goroutine of its own, started when a list arrives and gone once none is
// left, lists in the order they came.
type notifier struct {
	mu      sync.Mutex
	lists   [][]func()
	running bool
}

// add queues a list of notify functions; it never blocks.
func (nf *notifier) add(wake []func()) {
	nf.mu.Lock()
	nf.lists = append(nf.lists, wake)
	start := !nf.running
	nf.running = true
	nf.mu.Unlock()
	if start {
		go nf.run()
	}
}

func (nf *notifier) run() {
	for {
		nf.mu.Lock()
		if len(nf.lists) == 0 {
			nf.lists = nil
			nf.running = false
			nf.mu.Unlock()
			return
		}
		wake := nf.lists[0]
		nf.lists[0] = nil
		nf.lists = nf.lists[1:]
		nf.mu.Unlock()
		for _, notify := range wake {
			notify()
		}
	}
}

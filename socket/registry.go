package socket

import (
	"sync"
	"sync/atomic"
)

// Member is a live connection in the engine's registry, of any transport:
// a WebSocket of a dialect today, a server-sent-events stream or a
// cluster link tomorrow. The registry only needs to tell it to go.
type Member interface {
	// GoingAway tells the connection that its group is closing. It must
	// not block: the connection ends itself as its protocol says (a
	// WebSocket sends 1001 Going Away, an SSE stream ends its response)
	// and then calls Lease.Done.
	GoingAway()
}

// Group is one endpoint's set of live connections and its counters, in
// an Engine's registry. Every transport follows the same lifecycle:
//
//  1. NewLease, kept in the member, then Lease.Join when the connection
//     is accepted (false: the group is closing, turn the client away);
//  2. count traffic with Lease.In and Lease.Out (and CountInit for
//     subscription kinds);
//  3. Lease.Done with the close label once the connection is closed.
//
// Close (or Engine.Close) calls GoingAway on every member and waits for
// each Done.
type Group struct {
	name string

	mu      sync.Mutex
	live    []*Lease // joined and not done; each knows its index (Lease.slot)
	closed  bool
	closing chan struct{}
	wg      sync.WaitGroup

	opened, in, out atomic.Int64
	closes          sync.Map // label → *atomic.Int64
	inits           sync.Map // Init → *atomic.Int64
}

func newGroup(name string) *Group {
	return &Group{name: name, closing: make(chan struct{})}
}

// Name is the group's name (a dialect's, in metrics).
func (g *Group) Name() string { return g.name }

// Lease is one member's place in its group. The group keeps its live
// leases in a slice, each lease its index, rather than a map (≈ 30 B
// less for every idle socket, issue 17).
type Lease struct {
	g     *Group
	m     Member        // guarded by g.mu
	slot  int32         // 1 + index in g.live; 0: not in it. Guarded by g.mu.
	state atomic.Uint32 // leaseClaimed, leaseDone: one word, so that a lease fits 32 bytes
}

// Bits of Lease.state.
const (
	leaseClaimed = 1 << iota
	leaseDone
)

// setState sets bits unless stop is set already; false when it was.
func (l *Lease) setState(stop, bits uint32) bool {
	for {
		old := l.state.Load()
		if old&stop != 0 {
			return false
		}
		if l.state.CompareAndSwap(old, old|bits) {
			return true
		}
	}
}

// Claim takes the right to end the member, for members that several
// goroutines may end at once (a first message racing GoingAway): only the
// first caller gets true. Done claims too.
func (l *Lease) Claim() bool { return l.setState(leaseClaimed, leaseClaimed) }

// NewLease returns a lease in g for a member about to join. The member
// keeps it before Join, so that it has it whenever GoingAway comes.
func (g *Group) NewLease() *Lease { return &Lease{g: g} }

// Join registers m and counts it opened; false (nothing counted) once the
// group is closing. Call it once.
func (l *Lease) Join(m Member) bool {
	g := l.g
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	l.m = m
	g.live = append(g.live, l)
	l.slot = int32(len(g.live))
	g.wg.Add(1)
	g.opened.Add(1)
	return true
}

// Done removes the member and counts its close under label (a close code
// such as "1001", or "" for none). Only the first call counts.
func (l *Lease) Done(label string) {
	if l == nil || !l.setState(leaseDone, leaseDone|leaseClaimed) {
		return
	}
	g := l.g
	g.mu.Lock()
	g.removeLocked(l)
	g.mu.Unlock()
	if label != "" {
		g.CountClose(label)
	}
	g.wg.Done()
}

// removeLocked takes l out of the live leases: the last one moves into
// its place.
func (g *Group) removeLocked(l *Lease) {
	if l.slot == 0 {
		return
	}
	i, last := l.slot-1, len(g.live)-1
	g.live[i] = g.live[last]
	g.live[i].slot = i + 1
	g.live[last] = nil
	g.live = g.live[:last]
	l.slot, l.m = 0, nil
	if last == 0 && cap(g.live) > 1024 {
		g.live = nil // the crowd is gone: give its array back
	}
}

// In counts one message received from the member's client.
func (l *Lease) In() { l.g.in.Add(1) }

// Out counts one message sent to the member's client.
func (l *Lease) Out() { l.g.out.Add(1) }

// Closing is closed once the group closes.
func (g *Group) Closing() <-chan struct{} { return g.closing }

// IsClosing reports whether the group is closing.
func (g *Group) IsClosing() bool {
	select {
	case <-g.closing:
		return true
	default:
		return false
	}
}

// Close tells every member to go, refuses new ones, and returns once
// every member is done.
func (g *Group) Close() {
	g.closeStart()
	g.wait()
}

func (g *Group) closeStart() {
	g.mu.Lock()
	if !g.closed {
		g.closed = true
		close(g.closing)
	}
	live := make([]Member, 0, len(g.live))
	for _, l := range g.live {
		live = append(live, l.m)
	}
	g.mu.Unlock()
	for _, m := range live {
		m.GoingAway()
	}
}

func (g *Group) wait() { g.wg.Wait() }

// CountClose counts a connection that ended under label, for those that
// never joined (an upgrade that failed, a client over its address's cap).
func (g *Group) CountClose(label string) { count(&g.closes, label) }

// CountInit counts one subscription of the given kind.
func (g *Group) CountInit(kind Init) { count(&g.inits, kind) }

// DeclareInits makes the kinds appear in Stats even at zero.
func (g *Group) DeclareInits(kinds ...Init) {
	for _, k := range kinds {
		g.inits.LoadOrStore(k, new(atomic.Int64))
	}
}

func count(m *sync.Map, key any) {
	v, ok := m.Load(key)
	if !ok {
		v, _ = m.LoadOrStore(key, new(atomic.Int64))
	}
	v.(*atomic.Int64).Add(1)
}

// Stats returns the group's counters.
func (g *Group) Stats() Stats {
	g.mu.Lock()
	open := len(g.live)
	g.mu.Unlock()
	st := Stats{Open: int64(open), Opened: g.opened.Load(), Closes: map[string]int64{}, Inits: map[Init]int64{},
		MessagesIn: g.in.Load(), MessagesOut: g.out.Load()}
	g.closes.Range(func(k, v any) bool {
		st.Closes[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	g.inits.Range(func(k, v any) bool {
		st.Inits[k.(Init)] = v.(*atomic.Int64).Load()
		return true
	})
	return st
}

// Init is one kind of subscription: Lanyard's op 2 type ("ids",
// "single", "all") and the compression ("json", "zlib").
type Init struct {
	Type        string
	Compression string
}

// Stats is a snapshot of one group's counters (halyard_socket_* in
// /metrics).
type Stats struct {
	Open        int64            // connections open now
	Opened      int64            // connections accepted since start
	Closes      map[string]int64 // closes by close code or reason ("4004", "1002", "upgrade_failed"…)
	Inits       map[Init]int64   // subscriptions by kind
	MessagesIn  int64            // client messages received
	MessagesOut int64            // messages sent
}

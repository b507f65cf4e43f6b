package socket

import (
	"sync/atomic"
	"testing"
)

// countingMember counts the GoingAway calls it hears and leaves at once.
type countingMember struct {
	lease *Lease
	away  atomic.Int32
}

func (m *countingMember) GoingAway() {
	m.away.Add(1)
	m.lease.Done("1001")
}

// TestGroupLeases: members that leave in any order leave the others in
// place — Open counts exactly those still joined, and Close tells each of
// them, and only them, to go.
func TestGroupLeases(t *testing.T) {
	g := newGroup("test")
	members := make([]*countingMember, 40)
	for i := range members {
		m := &countingMember{lease: g.NewLease()}
		if !m.lease.Join(m) {
			t.Fatalf("member %d refused by an open group", i)
		}
		members[i] = m
	}
	left := map[int]bool{}
	for _, i := range []int{0, 39, 17, 18, 5, 38, 1} {
		members[i].lease.Done("1000")
		left[i] = true
	}
	members[17].lease.Done("1000") // twice: counted once
	if st := g.Stats(); st.Open != int64(len(members)-len(left)) || st.Opened != int64(len(members)) || st.Closes["1000"] != int64(len(left)) {
		t.Fatalf("stats %+v, want %d open of %d opened, %d closed 1000", st, len(members)-len(left), len(members), len(left))
	}
	g.Close()
	for i, m := range members {
		want := int32(1)
		if left[i] {
			want = 0
		}
		if got := m.away.Load(); got != want {
			t.Errorf("member %d heard GoingAway %d times, want %d", i, got, want)
		}
	}
	if st := g.Stats(); st.Open != 0 || st.Closes["1001"] != int64(len(members)-len(left)) {
		t.Errorf("after Close: %+v", st)
	}
	if m := (&countingMember{lease: g.NewLease()}); m.lease.Join(m) {
		t.Error("a closed group took a member")
	}
}

// TestLeaseClaim: only the first Claim wins, Done claims too, and a
// claimed lease is still counted done once.
func TestLeaseClaim(t *testing.T) {
	g := newGroup("test")
	a, b := g.NewLease(), g.NewLease()
	m := &countingMember{lease: a}
	a.Join(m)
	b.Join(&countingMember{lease: b})
	if !a.Claim() || a.Claim() {
		t.Fatal("Claim: want true once, then false")
	}
	a.Done("1000")
	b.Done("1000")
	if b.Claim() {
		t.Error("a lease that is done could still be claimed")
	}
	if st := g.Stats(); st.Open != 0 || st.Closes["1000"] != 2 {
		t.Errorf("stats %+v, want both done and counted", st)
	}
}

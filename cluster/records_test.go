package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/internal/memstore"
)

// nodeStore is one node's view of a store the nodes share: it counts the
// user records this node writes, and can refuse them (the node's own link
// to the database down).
type nodeStore struct {
	*memstore.Store
	mu      sync.Mutex
	written map[string]int
	refuse  bool
}

func (s *nodeStore) SaveUsers(ctx context.Context, recs []core.UserRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refuse {
		return errors.New("this node cannot reach the database")
	}
	for _, r := range recs {
		s.written[r.ID]++
	}
	return s.Store.SaveUsers(ctx, recs)
}

// InsertUsers counts and refuses as SaveUsers does (the hub inserts the
// records of users it never saw stored).
func (s *nodeStore) InsertUsers(ctx context.Context, recs []core.UserRecord) error {
	return s.SaveUsers(ctx, recs)
}

func (s *nodeStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.written)
}

func (s *nodeStore) wrote(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.written[id] > 0
}

func (s *nodeStore) setRefuse(v bool) {
	s.mu.Lock()
	s.refuse = v
	s.mu.Unlock()
}

// TestRecordsHaveOneWriter: the user records of the holder's member
// changes are written by the holder alone; the follower notes them and
// forgets its notes once the holder says they are stored. When the
// holder cannot store them and goes, the follower that takes the shard
// writes them.
func TestRecordsHaveOneWriter(t *testing.T) {
	url := startNATS(t)
	shared := memstore.New()
	storeA := &nodeStore{Store: shared, written: map[string]int{}}
	storeB := &nodeStore{Store: shared, written: map[string]int{}}
	a, hubA, shardsA := newStoredNode(t, url, "a", 1, storeA)
	a.Start()
	waitFor(t, "a to take the shard", func() bool { return shardsA.isOpen(0) })
	b, hubB, shardsB := newStoredNode(t, url, "b", 1, storeB)
	b.Start()
	tee := a.Tee()
	for i := range 300 {
		tee.UpsertMember("g1", member(fmt.Sprint(1000+i), core.StatusOnline))
	}
	tee.MarkSynced()
	waitFor(t, "b to equal a", func() bool { return sameHubs(hubA, hubB) })
	waitFor(t, "a to store every record and b to forget its notes", func() bool {
		return storeA.count() == 300 && hubB.Stats().RecordsForeign == 0
	})
	if err := hubB.FlushRecords(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := storeB.count(); n != 0 {
		t.Fatalf("the follower wrote %d records of the holder's changes", n)
	}
	if w := hubA.Stats().RecordsWritten; w < 300 {
		t.Fatalf("the holder says it wrote %d records", w)
	}

	// a cannot store the next joins; it goes; b takes over and writes them.
	storeA.setRefuse(true)
	for i := range 50 {
		tee.UpsertMember("g1", member(fmt.Sprint(2000+i), core.StatusOnline))
	}
	waitFor(t, "b to note the new members' records", func() bool { return hubB.Stats().RecordsForeign == 50 })
	if err := hubB.FlushRecords(t.Context()); err != nil {
		t.Fatal(err)
	}
	if storeB.count() != 0 {
		t.Fatal("the follower wrote records while the holder lives")
	}
	a.Close()
	waitFor(t, "b to take the shard", func() bool { return shardsB.isOpen(0) })
	waitFor(t, "b to write the records a could not", func() bool {
		for i := range 50 {
			if _, ok := shared.Record(fmt.Sprint(2000 + i)); !ok {
				return false
			}
		}
		return true
	})
	for i := range 50 {
		if id := fmt.Sprint(2000 + i); !storeB.wrote(id) {
			t.Fatalf("record %s was not written by the new holder", id)
		}
	}
	if n := storeB.count(); n != 50 {
		t.Fatalf("the new holder wrote %d records, want the 50 a left", n)
	}
}

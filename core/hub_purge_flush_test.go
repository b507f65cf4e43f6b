package core

import (
	"context"
	"sync"
	"testing"
	"time"
)

// recordingStore keeps records and can hold a SaveUsers until released.
type recordingStore struct {
	mu      sync.Mutex
	records map[string]UserRecord
	saving  chan struct{} // receives when a SaveUsers starts, if set
	release chan struct{}
}

func (s *recordingStore) LoadKV(context.Context, func(string, KV) error) error    { return nil }
func (s *recordingStore) SaveKV(context.Context, string, KV) error                { return nil }
func (s *recordingStore) LoadUsers(context.Context, func(UserRecord) error) error { return nil }
func (s *recordingStore) SaveUsers(_ context.Context, recs []UserRecord) error {
	if s.saving != nil {
		s.saving <- struct{}{}
		<-s.release
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		s.records[r.ID] = r
	}
	return nil
}
func (s *recordingStore) DeleteUser(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.records, id)
	return nil
}

// TestPurgeWaitsForFlush: a record batch read before the purge and written
// after its delete would store the purged record again; the purge waits
// for the batch being written, so the record stays gone.
func TestPurgeWaitsForFlush(t *testing.T) {
	store := &recordingStore{records: map[string]UserRecord{}, saving: make(chan struct{}), release: make(chan struct{})}
	h := NewHub(HubOptions{Store: store, RecordFlushInterval: time.Hour})
	if err := h.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.UpsertMember("g", Member{User: testUser("1")})
	h.RemoveMember("g", "1") // not monitored: the purge leaves no fresh record
	h.SetGitHubLogin("1", "octo")

	flushed := make(chan struct{})
	go func() { h.FlushRecords(context.Background()); close(flushed) }()
	<-store.saving // the batch holding "1" is being written
	purged := make(chan error, 1)
	go func() { _, err := h.Purge(context.Background(), "1"); purged <- err }()
	select {
	case err := <-purged:
		t.Fatalf("purge finished while a batch with the record was being written (%v)", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(store.release)
	<-flushed
	if err := <-purged; err != nil {
		t.Fatal(err)
	}
	store.saving = nil
	h.Close()
	if r, ok := store.records["1"]; ok {
		t.Fatalf("purged record stored again by the flush: %+v", r)
	}
}

package core

import (
	"context"
	"testing"
	"time"
)

// blockingUserStore holds every SaveUsers until release is closed.
type blockingUserStore struct {
	saving  chan int // receives the size of each batch being saved
	release chan struct{}
}

func (b *blockingUserStore) LoadKV(context.Context, func(string, KV) error) error { return nil }
func (b *blockingUserStore) SaveKV(context.Context, string, KV) error             { return nil }
func (b *blockingUserStore) LoadUsers(context.Context, func(UserRecord) error) error {
	return nil
}
func (b *blockingUserStore) SaveUsers(_ context.Context, recs []UserRecord) error {
	b.saving <- len(recs)
	<-b.release
	return nil
}

// TestStatsRecordsPending: the records waiting for the background writer
// are counted until they are written, including the batch being written
// (an operator, and the load tool's restart scenario, read it to know the
// store has caught up).
func TestStatsRecordsPending(t *testing.T) {
	store := &blockingUserStore{saving: make(chan int, 1), release: make(chan struct{})}
	h := NewHub(HubOptions{Store: store, RecordFlushInterval: time.Hour})
	if err := h.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for _, id := range []string{"1", "2", "3"} {
		h.UpsertMember("g", Member{User: testUser(id)})
	}
	if got := h.Stats().RecordsPending; got != 3 {
		t.Fatalf("RecordsPending = %d before a flush, want 3", got)
	}
	done := make(chan struct{})
	go func() { h.FlushRecords(context.Background()); close(done) }()
	if n := <-store.saving; n != 3 {
		t.Fatalf("saving a batch of %d, want 3", n)
	}
	if got := h.Stats().RecordsPending; got != 3 {
		t.Errorf("RecordsPending = %d while the batch is being written, want 3", got)
	}
	close(store.release)
	<-done
	if got := h.Stats().RecordsPending; got != 0 {
		t.Errorf("RecordsPending = %d once written, want 0", got)
	}
}

package core

import (
	"bytes"
	"context"
	"testing"
)

// ctxTokenStore refuses work on a cancelled context, as the MongoDB driver
// does, so a test can tell whether the caller's cancellation reached it.
type ctxTokenStore struct{ memTokenStore }

func (s *ctxTokenStore) SaveTokenHash(ctx context.Context, u string, h []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.memTokenStore.SaveTokenHash(ctx, u, h)
}

func (s *ctxTokenStore) DeleteTokenHash(ctx context.Context, u string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.memTokenStore.DeleteTokenHash(ctx, u)
}

// A client that hangs up mid-request must not leave the store and memory
// disagreeing: the write runs to completion and memory follows it.
func TestTokensWritesOutliveCallerCancellation(t *testing.T) {
	store := &ctxTokenStore{memTokenStore{m: map[string][]byte{}}}
	tok, err := NewTokens(bytes.Repeat([]byte{7}, 32), store)
	if err != nil {
		t.Fatal(err)
	}
	gone, cancel := context.WithCancel(context.Background())
	cancel()

	issued, err := tok.Issue(gone, "1")
	if err != nil {
		t.Fatalf("issue on a cancelled request: %v", err)
	}
	if u, err := tok.Verify(issued); err != nil || u != "1" {
		t.Fatalf("verify: %q %v", u, err)
	}
	if _, ok := store.m["1"]; !ok {
		t.Fatal("issued token not in the store")
	}

	if err := tok.Revoke(gone, "1"); err != nil {
		t.Fatalf("revoke on a cancelled request: %v", err)
	}
	if _, err := tok.Verify(issued); err == nil {
		t.Fatal("revoked token still verifies")
	}
	if _, ok := store.m["1"]; ok {
		t.Fatal("revoked token still in the store")
	}
}

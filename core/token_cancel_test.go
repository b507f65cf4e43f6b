package core_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/internal/memstore"
)

// A client that hangs up mid-request must not leave the store and memory
// disagreeing: the write runs to completion and memory follows it. The
// store refuses work on a cancelled context, as the MongoDB driver does,
// so the test tells whether the caller's cancellation reached it.
func TestTokensWritesOutliveCallerCancellation(t *testing.T) {
	store := memstore.New()
	tok, err := core.NewTokens(bytes.Repeat([]byte{7}, 32), store)
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
	if _, ok := store.TokenHash("1"); !ok {
		t.Fatal("issued token not in the store")
	}

	if err := tok.Revoke(gone, "1"); err != nil {
		t.Fatalf("revoke on a cancelled request: %v", err)
	}
	if _, err := tok.Verify(issued); err == nil {
		t.Fatal("revoked token still verifies")
	}
	if _, ok := store.TokenHash("1"); ok {
		t.Fatal("revoked token still in the store")
	}
}

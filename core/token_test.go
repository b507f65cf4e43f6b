package core

import (
	"bytes"
	"context"
	"regexp"
	"sync"
	"testing"
)

// memTokenStore is an in-memory TokenStore for the token rules; the MongoDB
// implementation is tested in storage/ and end to end.
type memTokenStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *memTokenStore) LoadTokenHashes(_ context.Context, fn func(string, []byte) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for u, h := range s.m {
		if err := fn(u, h); err != nil {
			return err
		}
	}
	return nil
}

func (s *memTokenStore) SaveTokenHash(_ context.Context, u string, h []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[u] = h
	return nil
}

func (s *memTokenStore) DeleteTokenHash(_ context.Context, u string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, u)
	return nil
}

func TestTokensIssueVerifyRevoke(t *testing.T) {
	ctx := context.Background()
	store := &memTokenStore{m: map[string][]byte{}}
	secret := bytes.Repeat([]byte{7}, 32)
	tok, err := NewTokens(secret, store)
	if err != nil {
		t.Fatal(err)
	}
	first, err := tok.Issue(ctx, "1")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^lnyd_[0-9a-f]{32}$`).MatchString(first) {
		t.Fatalf("token format: %q", first)
	}
	if u, err := tok.Verify(first); err != nil || u != "1" {
		t.Fatalf("verify: %q %v", u, err)
	}
	second, _ := tok.Issue(ctx, "1")
	if _, err := tok.Verify(first); ErrorCode(err) != EUNAUTHORIZED {
		t.Fatalf("old token still valid: %v", err)
	}
	if !tok.IsToken("1", second) || tok.IsToken("2", second) {
		t.Fatal("IsToken wrong")
	}
	for _, h := range store.m {
		if bytes.Contains(h, []byte(second)) || len(h) != TokenHashSize {
			t.Fatal("stored hash reveals the token")
		}
	}
	// A fresh service with the same secret verifies from the store.
	again, _ := NewTokens(secret, store)
	if err := again.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if u, err := again.Verify(second); err != nil || u != "1" {
		t.Fatalf("after reload: %q %v", u, err)
	}
	// Another secret does not.
	other, _ := NewTokens(bytes.Repeat([]byte{8}, 32), store)
	_ = other.Load(ctx)
	if _, err := other.Verify(second); err == nil {
		t.Fatal("verified with another secret")
	}
	if err := tok.Revoke(ctx, "1"); err != nil {
		t.Fatal(err)
	}
	if _, err := tok.Verify(second); err == nil || tok.HasToken("1") {
		t.Fatal("revoked token still valid")
	}
	// Legacy Lanyard keys import and verify.
	if err := tok.Import(ctx, "3", "0123456789abcdef0123456789abcdef"); err != nil {
		t.Fatal(err)
	}
	if u, _ := tok.Verify("0123456789abcdef0123456789abcdef"); u != "3" {
		t.Fatal("legacy key not verified")
	}
	if _, err := NewTokens([]byte("short"), store); err == nil {
		t.Fatal("short secret accepted")
	}
}

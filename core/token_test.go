package core_test

import (
	"bytes"
	"context"
	"regexp"
	"testing"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/internal/memstore"
)

func TestTokensIssueVerifyRevoke(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	secret := bytes.Repeat([]byte{7}, 32)
	tok, err := core.NewTokens(secret, store)
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
	if _, err := tok.Verify(first); core.ErrorCode(err) != core.EUNAUTHORIZED {
		t.Fatalf("old token still valid: %v", err)
	}
	if !tok.IsToken("1", second) || tok.IsToken("2", second) {
		t.Fatal("IsToken wrong")
	}
	if h, _ := store.TokenHash("1"); bytes.Contains(h, []byte(second)) || len(h) != core.TokenHashSize {
		t.Fatal("stored hash reveals the token")
	}
	// A fresh service with the same secret verifies from the store.
	again, _ := core.NewTokens(secret, store)
	if err := again.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if u, err := again.Verify(second); err != nil || u != "1" {
		t.Fatalf("after reload: %q %v", u, err)
	}
	// Another secret does not.
	other, _ := core.NewTokens(bytes.Repeat([]byte{8}, 32), store)
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
	if _, err := core.NewTokens([]byte("short"), store); err == nil {
		t.Fatal("short secret accepted")
	}
}

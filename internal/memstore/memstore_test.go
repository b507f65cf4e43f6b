package memstore

import (
	"context"
	"errors"
	"testing"

	"github.com/halyardhq/halyard/core"
)

// TestStoreKeepsWhatWasSaved: what is saved loads back (KV in its order,
// an empty map deletes), and a store that is down or a cancelled context
// fails every call without changing anything.
func TestStoreKeepsWhatWasSaved(t *testing.T) {
	ctx := t.Context()
	s := New()
	if err := s.SaveKV(ctx, "1", core.KVOf("b", "2", "a", "1")); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveKV(ctx, "2", core.KVOf("x", "y")); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveKV(ctx, "2", core.KV{}); err != nil {
		t.Fatal(err)
	}
	loaded := map[string]core.KV{}
	if err := s.LoadKV(ctx, func(u string, kv core.KV) error { loaded[u] = kv; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(loaded) != 1 || loaded["1"].String() != `{"b":"2","a":"1"}` {
		t.Fatalf("loaded %v", loaded)
	}
	if err := s.SaveTokenHash(ctx, "1", []byte("h")); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveUsers(ctx, []core.UserRecord{{ID: "1", Username: "u"}}); err != nil {
		t.Fatal(err)
	}

	down := errors.New("down")
	s.SetDown(down)
	if err := s.SaveKV(ctx, "1", core.KVOf("c", "3")); !errors.Is(err, down) {
		t.Fatalf("SaveKV while down: %v", err)
	}
	if err := s.DeleteTokenHash(ctx, "1"); !errors.Is(err, down) || s.Ping(ctx) == nil {
		t.Fatalf("DeleteTokenHash while down: %v", err)
	}
	s.SetDown(nil)
	gone, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.SaveUsers(gone, []core.UserRecord{{ID: "1", Username: "changed"}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("SaveUsers on a cancelled context: %v", err)
	}
	if h, ok := s.TokenHash("1"); !ok || string(h) != "h" {
		t.Fatal("token hash lost while down")
	}
	if r, ok := s.Record("1"); !ok || r.Username != "u" {
		t.Fatalf("record %+v", r)
	}
	if s.KV("1").String() != `{"b":"2","a":"1"}` || s.Ping(ctx) != nil {
		t.Fatal("KV changed while down")
	}
}

package storage

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
)

func TestKVRoundTrip(t *testing.T) {
	many := core.KV{}
	for i := range core.MaxKVPairs {
		many.Set(fmt.Sprintf("key_%03d", i), strings.Repeat("v", i)+"ß")
	}
	tests := []struct {
		name string
		kv   core.KV
	}{
		{"one pair", core.KVOf("a", "b")},
		{"empty key and value", core.KVOf("", "", "x", "")},
		{"unicode", core.KVOf("emoji", "🏳️‍🌈👨‍👩‍👧‍👦", "combining", "e\u0301\u0302", "rtl", "مرحبا שלום", "cjk", "日本語テキスト", "nul", "a\x00b", "json", `{"$set": {"a.b": 1}}`)},
		// Storage does not judge keys: dots and dollars are data, not paths.
		{"odd keys", core.KVOf("a.b", "1", "$x", "2", "_id", "3", "pairs", "4")},
		{"512 pairs", many},
		{"max value", core.KVOf("big", strings.Repeat("é", core.MaxKVValueBytes/2))},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user := uid(t, i)
			if err := shared.SaveKV(t.Context(), user, tt.kv); err != nil {
				t.Fatal(err)
			}
			got := loadKV(t, shared)[user]
			if !got.Equal(tt.kv) {
				t.Errorf("loaded %d pairs, want %d: %q", got.Len(), tt.kv.Len(), got)
			}
		})
	}
}

func TestSaveKVReplacesWholeMap(t *testing.T) {
	user := uid(t, 0)
	ctx := t.Context()
	if err := shared.SaveKV(ctx, user, core.KVOf("a", "1", "b", "2")); err != nil {
		t.Fatal(err)
	}
	if err := shared.SaveKV(ctx, user, core.KVOf("b", "3", "c", "4")); err != nil {
		t.Fatal(err)
	}
	if got, want := loadKV(t, shared)[user], (core.KVOf("b", "3", "c", "4")); !got.Equal(want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestSaveKVEmptyDeletes(t *testing.T) {
	ctx := t.Context()
	for i, empty := range []core.KV{{}, core.KVOf()} {
		user := uid(t, i)
		if err := shared.SaveKV(ctx, user, core.KVOf("a", "1")); err != nil {
			t.Fatal(err)
		}
		if err := shared.SaveKV(ctx, user, empty); err != nil {
			t.Fatal(err)
		}
		if kv, ok := loadKV(t, shared)[user]; ok {
			t.Errorf("after saving %#v the user still has %q", empty, kv)
		}
		n, err := shared.kv.CountDocuments(ctx, map[string]string{"_id": user})
		if err != nil || n != 0 {
			t.Errorf("%d documents left (%v)", n, err)
		}
		// Deleting what is not there succeeds.
		if err := shared.SaveKV(ctx, user, empty); err != nil {
			t.Error(err)
		}
	}
}

func TestSaveKVTooLarge(t *testing.T) {
	user := uid(t, 0)
	ctx := t.Context()
	small := core.KVOf("keep", "me")
	if err := shared.SaveKV(ctx, user, small); err != nil {
		t.Fatal(err)
	}
	huge := core.KV{}
	value := strings.Repeat("x", core.MaxKVValueBytes)
	for i := range 140 { // 140 × 120000 bytes > 16 MiB
		huge.Set(fmt.Sprintf("k%03d", i), value)
	}
	err := shared.SaveKV(ctx, user, huge)
	var e *core.Error
	if !errors.As(err, &e) || e.Code != core.ETOOLARGE {
		t.Fatalf("SaveKV of %d bytes: %v, want ETOOLARGE", 140*len(value), err)
	}
	if got := loadKV(t, shared)[user]; !got.Equal(small) {
		t.Errorf("after the refused write: %d pairs, want the old map", got.Len())
	}
}

// TestSaveKVNearLimit checks that a map just under 16 MiB is stored, so
// ETOOLARGE is the only size error a caller sees.
func TestSaveKVNearLimit(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("writes 16 MiB: about 1 s, 11 s with -race")
	}
	// Its own server: a 16 MiB document slows every load of the shared one.
	s := openTemp(t, Config{OpTimeout: time.Minute})
	user := uid(t, 0)
	kv := core.KV{}
	value := strings.Repeat("y", core.MaxKVValueBytes)
	for i := range 139 { // 139 × 120000 bytes < 16 MiB
		kv.Set(fmt.Sprintf("k%03d", i), value)
	}
	start := time.Now()
	if err := s.SaveKV(t.Context(), user, kv); err != nil {
		t.Fatal(err)
	}
	t.Logf("saved 16 MiB in %v", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	if got := loadKV(t, s)[user]; !got.Equal(kv) {
		t.Errorf("loaded %d pairs, want %d", got.Len(), kv.Len())
	}
	t.Logf("loaded 16 MiB in %v", time.Since(start).Round(time.Millisecond))
}

// TestSaveKVConcurrentWholeMaps checks atomicity: racing writers each store
// a whole map, and what remains is exactly one of them, never a mix.
func TestSaveKVConcurrentWholeMaps(t *testing.T) {
	user := uid(t, 0)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			kv := core.KV{}
			for i := range 50 {
				kv.Set(fmt.Sprintf("k%02d", i+w), fmt.Sprint(w))
			}
			if err := shared.SaveKV(t.Context(), user, kv); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got := loadKV(t, shared)[user]
	if got.Len() != 50 {
		t.Fatalf("%d pairs, want 50", got.Len())
	}
	w := got.Value(fmt.Sprintf("k%02d", 49))
	for k, v := range got.All() {
		if v != w {
			t.Fatalf("mixed maps: %s=%s next to writer %s", k, v, w)
		}
	}
}

func TestLoadKVStopsOnCallbackError(t *testing.T) {
	ctx := t.Context()
	for i := range 3 {
		if err := shared.SaveKV(ctx, uid(t, i), core.KVOf("a", "b")); err != nil {
			t.Fatal(err)
		}
	}
	stop := errors.New("stop")
	calls := 0
	err := shared.LoadKV(ctx, func(string, core.KV) error { calls++; return stop })
	if err != stop || calls != 1 {
		t.Errorf("LoadKV = %v after %d calls, want the callback's error after 1", err, calls)
	}
}

func BenchmarkSaveKV(b *testing.B) {
	kv := core.KV{}
	for i := range 20 {
		kv.Set(fmt.Sprintf("key_%02d", i), strings.Repeat("v", 100))
	}
	i := 0
	for b.Loop() {
		kv.Set("counter", fmt.Sprint(i))
		if err := shared.SaveKV(b.Context(), fmt.Sprintf("bench/%d", i%100), kv); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

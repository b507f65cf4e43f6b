package storage

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
)

// BenchmarkSaveKVScale measures one SaveKV replacing an existing user's
// map in a kv collection of 100, 2 000 and 20 000 documents: a write must
// cost the same whatever the number of users. The population is added by
// bulk inserts between the sub-benchmarks, on one embedded server.
func BenchmarkSaveKVScale(b *testing.B) {
	s, err := Open(b.Context(), Config{DataDir: b.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	kv := benchKV()
	stored := 0
	for _, docs := range []int{100, 2_000, 20_000} {
		b.Run(fmt.Sprintf("docs=%d", docs), func(b *testing.B) {
			if err := populateKV(b, s, stored, docs, kv); err != nil {
				b.Fatal(err)
			}
			stored = max(stored, docs)
			i := 0
			for b.Loop() {
				kv.Set("counter", fmt.Sprint(i))
				// Stride through the population, so the replaced
				// documents are spread over the whole table.
				if err := s.SaveKV(b.Context(), scaleUserID((i*7919)%docs), kv); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkSaveTokenHashScale is BenchmarkSaveKVScale for token hashes,
// which every issued or imported token writes.
func BenchmarkSaveTokenHashScale(b *testing.B) {
	s, err := Open(b.Context(), Config{DataDir: b.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	stored := 0
	for _, docs := range []int{100, 2_000, 20_000} {
		b.Run(fmt.Sprintf("docs=%d", docs), func(b *testing.B) {
			if stored < docs {
				batch := make([]any, 0, docs-stored)
				for n := stored; n < docs; n++ {
					batch = append(batch, tokenDoc{UserID: scaleUserID(n), Hash: randomHash(b), CreatedAt: time.Now().UTC()})
				}
				if _, err := s.tokens.InsertMany(b.Context(), batch); err != nil {
					b.Fatal(err)
				}
				stored = docs
			}
			i := 0
			for b.Loop() {
				if err := s.SaveTokenHash(b.Context(), scaleUserID((i*7919)%docs), randomHash(b)); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// benchKV is a typical map: 20 pairs of 100-byte values.
func benchKV() core.KV {
	kv := core.KV{}
	for i := range 20 {
		kv.Set(fmt.Sprintf("key_%02d", i), strings.Repeat("v", 100))
	}
	return kv
}

// scaleUserID is the n-th user of a benchmark population.
func scaleUserID(n int) string { return fmt.Sprintf("1%017d", n) }

// populateKV bulk-inserts the documents of users from..to-1, each with kv.
func populateKV(b *testing.B, s *Store, from, to int, kv core.KV) error {
	if from >= to {
		return nil
	}
	docs := make([]any, 0, to-from)
	for n := from; n < to; n++ {
		d := kvDoc{UserID: scaleUserID(n), UpdatedAt: time.Now().UTC()}
		for _, k := range kv.Keys() {
			d.Pairs = append(d.Pairs, kvPair{K: k, V: kv.Value(k)})
		}
		docs = append(docs, d)
	}
	_, err := s.kv.InsertMany(b.Context(), docs)
	return err
}

package lanyardredis

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/internal/redistest"
	"github.com/halyardhq/halyard/storage"
)

// BenchmarkImportScale imports a Lanyard Redis of n users, each with a
// 5-pair KV hash and an API key (user_api_key and api_key entries), into
// a fresh embedded store, and reports the import's wall time and rate:
//
//	go test -run '^$' -bench 'ImportScale/users=20000' -benchtime 1x ./migrate/lanyardredis/
func BenchmarkImportScale(b *testing.B) {
	rdb := redis.NewClient(&redis.Options{Addr: redistest.Start(b)})
	defer rdb.Close()
	seeded := 0
	for _, users := range []int{1_000, 20_000} {
		b.Run(fmt.Sprintf("users=%d", users), func(b *testing.B) {
			seedUsers(b, rdb, seeded, users)
			seeded = max(seeded, users)
			for b.Loop() {
				b.StopTimer()
				store, err := storage.Open(context.Background(), storage.Config{DataDir: b.TempDir(), Logger: slog.New(slog.DiscardHandler)})
				if err != nil {
					b.Fatal(err)
				}
				tokens, err := core.NewTokens(bytes.Repeat([]byte("s"), 32), store)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				sum, err := Run(context.Background(), Options{Redis: rdb, Store: store, Tokens: tokens})
				if err != nil {
					b.Fatal(err)
				}
				took := time.Since(start)
				b.StopTimer()
				if sum.KVUsersWritten != users || sum.TokensImported != users {
					b.Fatalf("imported %d KV users and %d tokens, want %d of each", sum.KVUsersWritten, sum.TokensImported, users)
				}
				b.ReportMetric(took.Seconds(), "s/import")
				b.ReportMetric(float64(users)/took.Seconds(), "users/s")
				store.Close()
				b.StartTimer()
			}
		})
	}
}

// seedUsers writes users from..to-1 into rdb as Lanyard does.
func seedUsers(b *testing.B, rdb *redis.Client, from, to int) {
	ctx := context.Background()
	for lo := from; lo < to; lo += 1000 {
		pipe := rdb.Pipeline()
		for n := lo; n < min(lo+1000, to); n++ {
			id := fmt.Sprintf("3%017d", n)
			key := fmt.Sprintf("lnyd_%032x", n)
			pipe.HSet(ctx, kvPrefix+id, map[string]any{
				"location": "Los Angeles", "emoji": "🎉", "website": "https://example.com/" + id,
				"status": "shipping", "n": fmt.Sprint(n),
			})
			pipe.Set(ctx, userKeyPrefix+id, key, 0)
			pipe.Set(ctx, apiKeyPrefix+key, id, 0)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

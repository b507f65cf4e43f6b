// Package lanyardredis imports a Lanyard deployment's Redis data into
// Halyard's store (docs/compat/lanyard.md §8): every user's KV map
// (`lanyard_kv:<id>` hashes) and every API key (`user_api_key:<id>`, and
// `api_key:<key>` entries whose owner has no `user_api_key`), so users keep
// their KV and their keys keep working.
//
// The import makes Halyard match Redis for every user and key found there
// and never deletes anything: pairs Halyard holds that Redis does not are
// kept, a pair present in both takes the Redis value, and an imported key
// replaces the user's Halyard token. Data that breaks Halyard's store-wide
// rules (docs/compat/lanyard.md §9: invalid UTF-8, more than 512 pairs, …) is
// skipped and counted by reason. Running it twice changes nothing the
// second time. Run it while Halyard is stopped: a running server keeps KV
// and tokens in memory and would neither see the import nor keep it.
package lanyardredis

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/migrate/report"
)

// Redis key prefixes of Lanyard's data.
const (
	kvPrefix       = "lanyard_kv:"
	userKeyPrefix  = "user_api_key:"
	apiKeyPrefix   = "api_key:"
	scanBatch      = 1000 // keys asked for per SCAN
	pipelineBatch  = 200  // commands per pipelined round trip
	redisWrongType = "WRONGTYPE"
)

// Options configures an import.
type Options struct {
	// Redis is the Lanyard Redis to read from; the import only reads.
	Redis *redis.Client
	// Store is Halyard's KV store; pairs are written to it directly, not
	// through the hub, so no server needs to run.
	Store core.KVStore
	// Tokens is Halyard's token service over its token store, already
	// loaded, keyed with the server's secret.
	Tokens *core.Tokens
	// DryRun reads and checks everything and writes nothing.
	DryRun bool
	// Progress is told how far the import is; nil for none.
	Progress report.Progress
}

// Run imports everything and returns what it did. It stops at the first
// error from Redis or the store (what was written before stays written; a
// second run completes it).
func Run(ctx context.Context, opts Options) (*Summary, error) {
	if opts.Redis == nil || opts.Store == nil || opts.Tokens == nil {
		return nil, errors.New("lanyardredis: Redis, Store and Tokens are required")
	}
	if opts.Progress == nil {
		opts.Progress = report.None
	}
	if err := opts.Redis.Ping(ctx).Err(); err != nil {
		return nil, fmt.Errorf("cannot reach Redis: %w", err)
	}
	kvKeys, err := scanKeys(ctx, opts.Redis, kvPrefix+"*")
	if err != nil {
		return nil, err
	}
	userKeys, err := scanKeys(ctx, opts.Redis, userKeyPrefix+"*")
	if err != nil {
		return nil, err
	}
	apiKeys, err := scanKeys(ctx, opts.Redis, apiKeyPrefix+"*")
	if err != nil {
		return nil, err
	}

	existing := map[string]core.KV{}
	if err := opts.Store.LoadKV(ctx, func(userID string, kv core.KV) error {
		existing[userID] = kv
		return nil
	}); err != nil {
		return nil, fmt.Errorf("reading Halyard's KV: %w", err)
	}

	s := newSummary(opts.DryRun)
	opts.Progress.Start(len(kvKeys) + len(userKeys) + len(apiKeys))
	defer opts.Progress.Finish()
	imp := &importer{opts: opts, sum: s, existing: existing, seenTokens: map[string]string{}}
	if err := imp.importKV(ctx, kvKeys); err != nil {
		return s, err
	}
	if err := imp.importTokens(ctx, userKeys, apiKeys); err != nil {
		return s, err
	}
	return s, nil
}

// importer is one run's state.
type importer struct {
	opts     Options
	sum      *Summary
	existing map[string]core.KV // Halyard's KV before the run, by user
	// seenTokens maps tokens imported (or, in a dry run, that would be)
	// in this run to their owner.
	seenTokens map[string]string
}

// scanKeys returns every key matching pattern, sorted so runs are
// reproducible. SCAN may return a key more than once; duplicates are
// dropped.
func scanKeys(ctx context.Context, rdb *redis.Client, pattern string) ([]string, error) {
	seen := map[string]struct{}{}
	it := rdb.Scan(ctx, 0, pattern, scanBatch).Iterator()
	for it.Next(ctx) {
		seen[it.Val()] = struct{}{}
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("scanning Redis for %s: %w", pattern, err)
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys, nil
}

// isUserID reports whether s looks like a Discord user id.
func isUserID(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// wrongType reports whether err is Redis refusing a command for the key's
// type (a key under Lanyard's prefixes that Lanyard did not write).
func wrongType(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), redisWrongType)
}

// batches calls fn with consecutive slices of at most n keys.
func batches(keys []string, n int, fn func([]string) error) error {
	for len(keys) > 0 {
		b := keys[:min(n, len(keys))]
		keys = keys[len(b):]
		if err := fn(b); err != nil {
			return err
		}
	}
	return nil
}

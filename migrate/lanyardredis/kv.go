package lanyardredis

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/halyardhq/halyard/core"
)

// maxKVBytes bounds one user's map in bytes, below MongoDB's 16 MiB per
// document with room for the document's own fields.
const maxKVBytes = 16<<20 - 64<<10

// pairOverhead approximates what one pair costs in the stored document
// beyond its key and value.
const pairOverhead = 32

// importKV reads every `lanyard_kv:<id>` hash and merges it into the
// user's Halyard KV.
func (imp *importer) importKV(ctx context.Context, keys []string) error {
	return batches(keys, pipelineBatch, func(batch []string) error {
		pipe := imp.opts.Redis.Pipeline()
		cmds := make([]*redis.MapStringStringCmd, len(batch))
		for i, k := range batch {
			cmds[i] = pipe.HGetAll(ctx, k)
		}
		_, _ = pipe.Exec(ctx) // errors are read per command below
		for i, k := range batch {
			pairs, err := cmds[i].Result()
			switch {
			case wrongType(err):
				imp.sum.skipKey("not a hash")
			case err != nil:
				return fmt.Errorf("reading %s from Redis: %w", k, err)
			case !isUserID(strings.TrimPrefix(k, kvPrefix)):
				imp.sum.skipKey("no user id in the key name")
			case len(pairs) > 0:
				if err := imp.mergeKV(ctx, strings.TrimPrefix(k, kvPrefix), pairs); err != nil {
					return err
				}
			}
			imp.opts.Progress.Add(1)
		}
		return nil
	})
}

// mergeKV merges one user's Redis pairs into their Halyard KV, in byte-wise
// key order, and stores the result when anything changed. A pair is
// skipped when it breaks a KV rule, when the map already holds 512 pairs,
// or when it would make the stored map too large.
func (imp *importer) mergeKV(ctx context.Context, userID string, pairs map[string]string) error {
	imp.sum.KVUsers++
	next := imp.existing[userID].Clone()
	size := 0
	for k, v := range next.All() {
		size += pairSize(k, v)
	}
	keys := make([]string, 0, len(pairs))
	for k := range pairs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	written := 0
	for _, k := range keys {
		v := pairs[k]
		if err := core.ValidateKVPair(k, v); err != nil {
			imp.sum.skipPair(err.Error())
			continue
		}
		old, exists := next.Get(k)
		if exists && old == v {
			imp.sum.PairsUnchanged++
			continue
		}
		if !exists && next.Len() >= core.MaxKVPairs {
			imp.sum.skipPair(fmt.Sprintf("user already has %d pairs", core.MaxKVPairs))
			continue
		}
		delta := pairSize(k, v)
		if exists {
			delta -= pairSize(k, old)
		}
		if size+delta > maxKVBytes {
			imp.sum.skipPair("user's KV would exceed 16 MiB")
			continue
		}
		next.Set(k, v)
		size += delta
		written++
	}
	if written == 0 {
		return nil
	}
	if !imp.opts.DryRun {
		if err := imp.opts.Store.SaveKV(ctx, userID, next); err != nil {
			if core.ErrorCode(err) == core.ETOOLARGE {
				for range written {
					imp.sum.skipPair("user's KV would exceed 16 MiB")
				}
				return nil
			}
			return fmt.Errorf("saving the KV of %s: %w", userID, err)
		}
	}
	imp.existing[userID] = next
	imp.sum.KVUsersWritten++
	imp.sum.PairsWritten += written
	return nil
}

func pairSize(k, v string) int { return len(k) + len(v) + pairOverhead }

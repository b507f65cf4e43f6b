package lanyardredis

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/halyardhq/halyard/core"
)

// importTokens imports each user's current API key: the value of
// `user_api_key:<id>`, or, for a user without one, the single
// `api_key:<key>` entry naming them as owner. Both Lanyard formats
// (`lnyd_` + 32 hex, and 32 hex) are accepted; only their keyed hash is
// stored.
func (imp *importer) importTokens(ctx context.Context, userKeys, apiKeys []string) error {
	current := map[string]string{} // user id → key, from user_api_key:*
	err := imp.getEach(ctx, userKeys, func(rkey, key string) {
		if uid := strings.TrimPrefix(rkey, userKeyPrefix); isUserID(uid) {
			current[uid] = key
		} else {
			imp.sum.skipKey("no user id in the key name")
		}
	})
	if err != nil {
		return err
	}

	orphans := map[string][]string{} // owner → keys, for owners without user_api_key
	err = imp.getEach(ctx, apiKeys, func(rkey, owner string) {
		key := strings.TrimPrefix(rkey, apiKeyPrefix)
		switch cur, ok := current[owner]; {
		case !isUserID(owner):
			imp.sum.skipKey("api_key value is not a user id")
		case ok && cur != key:
			imp.sum.skipKey("stale api_key (not the owner's user_api_key)")
		case !ok:
			orphans[owner] = append(orphans[owner], key)
		}
	})
	if err != nil {
		return err
	}
	for owner, keys := range orphans {
		if len(keys) == 1 {
			current[owner] = keys[0]
			continue
		}
		for range keys {
			imp.sum.skipToken("several api_key entries for one user and no user_api_key")
		}
	}

	users := make([]string, 0, len(current))
	for uid := range current {
		users = append(users, uid)
	}
	sort.Strings(users)
	for _, uid := range users {
		if err := imp.importToken(ctx, uid, current[uid]); err != nil {
			return err
		}
	}
	return nil
}

// importToken makes key the user's token unless it already is, or it
// cannot be: not a Lanyard key, or another user's.
func (imp *importer) importToken(ctx context.Context, userID, key string) error {
	t := imp.opts.Tokens
	if !core.LooksLikeToken(key) {
		imp.sum.skipToken("not a Lanyard key format")
		return nil
	}
	if t.IsToken(userID, key) {
		imp.sum.TokensUnchanged++
		return nil
	}
	if owner, ok := imp.seenTokens[key]; ok && owner != userID {
		imp.sum.skipToken("same key as another user")
		return nil
	}
	if owner, err := t.Verify(key); err == nil && owner != userID {
		imp.sum.skipToken("same key as another user")
		return nil
	}
	replaced := t.HasToken(userID)
	if !imp.opts.DryRun {
		if err := t.Import(ctx, userID, key); err != nil {
			if core.ErrorCode(err) == core.EINVALID {
				imp.sum.skipToken(core.ErrorMessage(err))
				return nil
			}
			return fmt.Errorf("saving the API key of %s: %w", userID, err)
		}
	}
	imp.seenTokens[key] = userID
	imp.sum.TokensImported++
	if replaced {
		imp.sum.TokensReplaced++
	}
	return nil
}

// getEach GETs every key (pipelined) and calls fn with the key and its
// value. Keys gone since the scan are passed over; keys that are not
// strings are counted as skipped.
func (imp *importer) getEach(ctx context.Context, keys []string, fn func(rkey, value string)) error {
	return batches(keys, pipelineBatch, func(batch []string) error {
		pipe := imp.opts.Redis.Pipeline()
		cmds := make([]*redis.StringCmd, len(batch))
		for i, k := range batch {
			cmds[i] = pipe.Get(ctx, k)
		}
		_, _ = pipe.Exec(ctx) // errors are read per command below
		for i, k := range batch {
			v, err := cmds[i].Result()
			switch {
			case errors.Is(err, redis.Nil):
			case wrongType(err):
				imp.sum.skipKey("not a string")
			case err != nil:
				return fmt.Errorf("reading %s from Redis: %w", k, err)
			default:
				fn(k, v)
			}
			imp.opts.Progress.Add(1)
		}
		return nil
	})
}

package lanternmongo

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/halyardhq/halyard/core"
)

// importKV merges a Lantern kv map into the user's Halyard KV: Lantern's
// value wins for a key in both, Halyard's other pairs stay. Pairs breaking
// the store-wide rules are skipped, as are new keys past the 512-pair
// limit (Lantern had none), taken in Lantern's order.
func (im *importer) importKV(ctx context.Context, userID string, kv bson.D) error {
	cur := im.kv[userID]
	next := cur.Clone()
	changed := false
	for _, e := range kv {
		value, ok := e.Value.(string)
		if !ok {
			im.sum.skipPair("value is not a string")
			continue
		}
		if err := core.ValidateKVPair(e.Key, value); err != nil {
			var kerr *core.KVError
			reason := "invalid pair"
			if errors.As(err, &kerr) {
				reason = kerr.Error()
			}
			im.sum.skipPair(reason)
			continue
		}
		old, exists := next.Get(e.Key)
		if !exists && next.Len() >= core.MaxKVPairs {
			im.sum.skipPair("over the 512-pair limit")
			continue
		}
		im.sum.Pairs++
		if exists && old == value {
			continue
		}
		next.Set(e.Key, value) // a new key goes last: Lantern's order is kept
		changed = true
	}
	if !changed {
		return nil
	}
	im.sum.KVUsersWritten++
	if im.opts.DryRun {
		return nil
	}
	if err := im.opts.Store.SaveKV(ctx, userID, next); err != nil {
		return fmt.Errorf("writing the KV of %s: %w", userID, err)
	}
	im.kv[userID] = next
	return nil
}

package storage

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// optOutDoc is one opted-out user in the optouts collection. Opt-outs are
// not a field of the user record: purging a user's data deletes the
// record and must keep the choice (core/hub_optout.go).
type optOutDoc struct {
	ID    string    `bson:"_id"`
	Since time.Time `bson:"since"`
}

// LoadOptOuts calls fn for every opted-out user. An error from fn stops
// the load and is returned as is.
func (s *Store) LoadOptOuts(ctx context.Context, fn func(userID string, since time.Time) error) error {
	return s.each(ctx, s.optOuts, "opt-outs", func(raw bson.Raw) error {
		var d optOutDoc
		if err := bson.Unmarshal(raw, &d); err != nil {
			return fmt.Errorf("storage: decoding opt-out document %v: %w", raw.Lookup("_id"), err)
		}
		return fn(d.ID, d.Since)
	})
}

// SaveOptOut records the user's opt-out (an upsert: saving it again
// changes nothing but the time). Times are stored with millisecond
// precision.
func (s *Store) SaveOptOut(ctx context.Context, userID string, since time.Time) error {
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	_, err := s.optOuts.ReplaceOne(ctx, bson.D{{Key: "_id", Value: userID}},
		optOutDoc{ID: userID, Since: since.UTC()}, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("storage: saving the opt-out of %s: %w", userID, err)
	}
	return nil
}

// DeleteOptOut removes the user's opt-out; removing an absent one
// succeeds.
func (s *Store) DeleteOptOut(ctx context.Context, userID string) error {
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	if _, err := s.optOuts.DeleteOne(ctx, bson.D{{Key: "_id", Value: userID}}); err != nil {
		return fmt.Errorf("storage: deleting the opt-out of %s: %w", userID, err)
	}
	return nil
}

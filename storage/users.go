package storage

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/halyardhq/halyard/core"
)

// saveUsersBatch is how many records one write command carries: small
// enough that a batch finishes well within the operation timeout on the
// embedded server, which commits them one by one (1–5 ms each).
const saveUsersBatch = 100

// userDoc is a core.UserRecord in the users collection. Unknown fields are
// omitted rather than stored as zero values.
type userDoc struct {
	ID              string    `bson:"_id"`
	Username        string    `bson:"username,omitempty"`
	MonitoringSince time.Time `bson:"monitoring_since,omitempty"`
	LastSeen        time.Time `bson:"last_seen,omitempty"`
	GitHubLogin     string    `bson:"github_login,omitempty"`
}

// LoadUsers calls fn for every stored record. An error from fn stops the
// load and is returned as is.
func (s *Store) LoadUsers(ctx context.Context, fn func(core.UserRecord) error) error {
	return s.each(ctx, s.users, "user records", func(raw bson.Raw) error {
		var d userDoc
		if err := bson.Unmarshal(raw, &d); err != nil {
			return fmt.Errorf("storage: decoding user document %v: %w", raw.Lookup("_id"), err)
		}
		return fn(core.UserRecord(d))
	})
}

// SaveUsers upserts whole records, in batches of unordered replaces: a
// failed batch stops the save and is reported; records already written
// stay written. Times are stored with millisecond precision.
func (s *Store) SaveUsers(ctx context.Context, recs []core.UserRecord) error {
	for len(recs) > 0 {
		n := min(len(recs), s.usersBatch)
		models := make([]mongo.WriteModel, 0, n)
		for _, r := range recs[:n] {
			d := userDoc(r)
			d.MonitoringSince, d.LastSeen = d.MonitoringSince.UTC(), d.LastSeen.UTC()
			models = append(models, mongo.NewReplaceOneModel().
				SetFilter(bson.D{{Key: "_id", Value: r.ID}}).
				SetReplacement(d).
				SetUpsert(true))
		}
		bctx, cancel := s.opContext(ctx)
		_, err := s.users.BulkWrite(bctx, models, options.BulkWrite().SetOrdered(false))
		cancel()
		if err != nil {
			return fmt.Errorf("storage: saving %d user records: %w", n, err)
		}
		recs = recs[n:]
	}
	return nil
}

package storage

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// each streams every document of coll to fn. Each round trip (the query
// and every further batch) has its own operation timeout, so a long load
// is never cut short while an outage still fails it promptly. Time spent
// in fn does not count. An error from fn is returned as is.
func (s *Store) each(ctx context.Context, coll *mongo.Collection, what string, fn func(bson.Raw) error) error {
	qctx, cancel := s.opContext(ctx)
	cur, err := coll.Find(qctx, bson.D{})
	cancel()
	if err != nil {
		return fmt.Errorf("storage: loading %s: %w", what, err)
	}
	defer func() {
		cctx, cancel := s.opContext(context.WithoutCancel(ctx))
		defer cancel()
		_ = cur.Close(cctx)
	}()
	for {
		// Documents already in the current batch are handed out without a
		// round trip; only a batch fetch can wait on the database.
		nctx, cancel := s.opContext(ctx)
		ok := cur.Next(nctx)
		cancel()
		if !ok {
			break
		}
		if err := fn(cur.Current); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("storage: loading %s: %w", what, err)
	}
	return nil
}

package storage

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// probeFresh is how long a successful write probe vouches for the store:
// a load balancer polling /readyz every second costs at most one durable
// write a second, however many probes arrive at once.
const probeFresh = time.Second

// probeDocID is the _id of the one document the write probe rewrites.
const probeDocID = "readyz"

// ProbeWrite reports whether the database takes a durable write now: it
// rewrites one small document in the health collection, with the store's
// write concern, within ctx and the operation timeout. A ping only proves
// that the server answers; issue 12's jammed embedded server answered pings
// while every write waited for a connection it never got. Concurrent probes
// wait for the one in flight (or their own ctx) and share its result.
func (s *Store) ProbeWrite(ctx context.Context) error {
	select {
	case s.probeTurn <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("storage: write probe: %w", ctx.Err())
	}
	defer func() { <-s.probeTurn }()
	if time.Since(s.probeOK) < probeFresh {
		return nil
	}
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	doc := bson.D{{Key: "_id", Value: probeDocID}, {Key: "at", Value: time.Now().UTC()}}
	if err := replaceByID(ctx, s.health, probeDocID, doc); err != nil {
		return fmt.Errorf("storage: write probe at %s: %w", s.uri, err)
	}
	s.probeOK = time.Now()
	return nil
}

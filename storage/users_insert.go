package storage

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/halyardhq/halyard/core"
)

// insertUsersBatch is how many records one insert command carries. An
// insert holds no query open (ferretdb_limits.go is about updates), and
// the embedded server commits each 100 documents of it in one
// transaction, where SaveUsers' replaces cost a query and a transaction
// per record: after a fresh start every member's record is new, and at a
// million members the replaces kept the store busy for minutes.
const insertUsersBatch = 1000

// InsertUsers writes records the store is not expected to hold (the hub
// knows which users it never saw stored), as unordered inserts. A record
// that is there after all — a duplicate _id — is replaced instead
// (SaveUsers), so a wrong guess costs time, not data. A failed batch stops
// the save and is reported; records already written stay written.
func (s *Store) InsertUsers(ctx context.Context, recs []core.UserRecord) error {
	for len(recs) > 0 {
		n := min(len(recs), insertUsersBatch)
		docs := make([]any, 0, n)
		for _, r := range recs[:n] {
			d := userDoc(r)
			d.MonitoringSince, d.LastSeen = d.MonitoringSince.UTC(), d.LastSeen.UTC()
			docs = append(docs, d)
		}
		bctx, cancel := s.opContext(ctx)
		_, err := s.users.InsertMany(bctx, docs, options.InsertMany().SetOrdered(false))
		cancel()
		if dups, ok := duplicateIndexes(err); ok {
			again := make([]core.UserRecord, 0, len(dups))
			for _, i := range dups {
				again = append(again, recs[i])
			}
			err = s.SaveUsers(ctx, again)
		}
		if err != nil {
			return fmt.Errorf("storage: inserting %d user records: %w", n, err)
		}
		recs = recs[n:]
	}
	return nil
}

// duplicateKeyCode is the server's error code for a duplicate _id.
const duplicateKeyCode = 11000

// duplicateIndexes returns the indexes of the documents an unordered
// insert refused as duplicates, and whether that was its only failure.
func duplicateIndexes(err error) ([]int, bool) {
	var bwe mongo.BulkWriteException
	if err == nil || !errors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) == 0 {
		return nil, false
	}
	idx := make([]int, 0, len(bwe.WriteErrors))
	for _, we := range bwe.WriteErrors {
		if we.Code != duplicateKeyCode {
			return nil, false
		}
		idx = append(idx, we.Index)
	}
	return idx, true
}

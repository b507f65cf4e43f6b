package storage

import (
	"context"
	"errors"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// upsertAttempts bounds replaceByID's retries of a lost upsert race.
const upsertAttempts = 3

// replaceByID replaces the document with _id id by doc, inserting it when
// absent, in one command. Two upserts of a new _id can race: MongoDB
// retries the loser itself, FerretDB reports a duplicate key; we retry, and
// the retry finds the winner's document and replaces it. A duplicate key
// that persists comes from another unique index and is returned.
func replaceByID(ctx context.Context, coll *mongo.Collection, id string, doc any) error {
	filter := bson.D{{Key: "_id", Value: id}}
	opts := options.Replace().SetUpsert(true)
	var err error
	for range upsertAttempts {
		_, err = coll.ReplaceOne(ctx, filter, doc, opts)
		if !isDuplicateKey(err) {
			return err
		}
	}
	return err
}

// isDuplicateKey reports whether err is a unique index violation. FerretDB
// on SQLite reports one hit by an update as an InternalError naming the
// SQLite constraint instead of code 11000.
func isDuplicateKey(err error) bool {
	if mongo.IsDuplicateKeyError(err) {
		return true
	}
	var se mongo.ServerError
	return errors.As(err, &se) && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

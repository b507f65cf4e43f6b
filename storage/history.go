package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/halyardhq/halyard/core"
)

// Presence history (core.HistoryStore): one document per closed interval
// in the history collection, insert-only, and one per opted-in user in
// history_users. MongoDB expires intervals by a TTL index on their end;
// FerretDB has no TTL indexes ("not implemented"), so the recorder also
// prunes them (PruneHistory), which serves both.

// historyBatch is how many intervals one insert carries. Inserts of new
// documents are not the update commands ferretdb_limits.go bounds (an
// insert holds no query open), and FerretDB commits a batch in one
// transaction: 500 small documents cost about 45 µs of CPU each against
// 630 µs one by one.
const historyBatch = 500

// historyDeleteTimeout bounds one deletion of a user's whole history or
// one prune: FerretDB removes documents one by one.
const historyDeleteTimeout = 2 * time.Minute

// Interval kinds in a history document.
const (
	historyKindStatus   = "status"
	historyKindActivity = "activity"
)

// historyDoc is one closed interval.
type historyDoc struct {
	ID            bson.ObjectID `bson:"_id,omitempty"`
	UserID        string        `bson:"user_id"`
	Kind          string        `bson:"kind"`
	Status        string        `bson:"status,omitempty"`
	Name          string        `bson:"name,omitempty"`
	Type          int           `bson:"type"`
	ApplicationID string        `bson:"application_id,omitempty"`
	Start         time.Time     `bson:"start"`
	End           time.Time     `bson:"end"`
}

// historyUserDoc records one user's opt-in.
type historyUserDoc struct {
	ID    string    `bson:"_id"`
	Since time.Time `bson:"since"`
}

func toHistoryDoc(iv core.HistoryInterval) historyDoc {
	d := historyDoc{UserID: iv.UserID, Start: iv.Start.UTC(), End: iv.End.UTC()}
	if iv.IsStatus() {
		d.Kind, d.Status = historyKindStatus, string(iv.Status)
	} else {
		d.Kind, d.Name, d.Type, d.ApplicationID = historyKindActivity, iv.Activity.Name, iv.Activity.Type, iv.Activity.ApplicationID
	}
	return d
}

func (d historyDoc) interval() core.HistoryInterval {
	iv := core.HistoryInterval{UserID: d.UserID, Start: d.Start, End: d.End}
	if d.Kind == historyKindStatus {
		iv.Status = core.Status(d.Status)
	} else {
		iv.Activity = core.HistoryActivity{Name: d.Name, Type: d.Type, ApplicationID: d.ApplicationID}
	}
	return iv
}

// createHistoryIndexes indexes the history by user and start, and on
// MongoDB expires intervals retention after their end (changing the
// retention of an existing TTL index with collMod).
func (s *Store) createHistoryIndexes(ctx context.Context, retention time.Duration) error {
	cctx, cancel := s.opContext(ctx)
	defer cancel()
	if _, err := s.history.Indexes().CreateOne(cctx, mongo.IndexModel{
		Keys:    bson.D{{Key: "user_id", Value: 1}, {Key: "start", Value: 1}},
		Options: options.Index().SetName("user_start"),
	}); err != nil {
		return err
	}
	if s.ferretDB || retention <= 0 {
		return nil // no TTL indexes there: PruneHistory expires them
	}
	secs := int32(min(retention/time.Second, 1<<31-1))
	_, err := s.history.Indexes().CreateOne(cctx, mongo.IndexModel{
		Keys:    bson.D{{Key: "end", Value: 1}},
		Options: options.Index().SetName("end_ttl").SetExpireAfterSeconds(secs),
	})
	var se mongo.ServerError
	if errors.As(err, &se) && (se.HasErrorCode(85) || se.HasErrorCode(86)) { // IndexOptionsConflict, IndexKeySpecsConflict
		err = s.history.Database().RunCommand(cctx, bson.D{{Key: "collMod", Value: s.history.Name()},
			{Key: "index", Value: bson.D{{Key: "name", Value: "end_ttl"}, {Key: "expireAfterSeconds", Value: secs}}}}).Err()
	}
	return err
}

// LoadHistoryUsers calls fn for every user who turned history on.
func (s *Store) LoadHistoryUsers(ctx context.Context, fn func(userID string) error) error {
	return s.each(ctx, s.historyUsers, "history opt-ins", func(raw bson.Raw) error {
		id, ok := raw.Lookup("_id").StringValueOK()
		if !ok {
			return fmt.Errorf("storage: history opt-in without a string _id: %v", raw.Lookup("_id"))
		}
		return fn(id)
	})
}

// SetHistoryUser durably records the user's opt-in (on) or removes it.
func (s *Store) SetHistoryUser(ctx context.Context, userID string, on bool) error {
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	if on {
		if err := replaceByID(ctx, s.historyUsers, userID, historyUserDoc{ID: userID, Since: time.Now().UTC()}); err != nil {
			return fmt.Errorf("storage: turning history on for %s: %w", userID, err)
		}
		return nil
	}
	if _, err := s.historyUsers.DeleteOne(ctx, bson.D{{Key: "_id", Value: userID}}); err != nil {
		return fmt.Errorf("storage: turning history off for %s: %w", userID, err)
	}
	return nil
}

// AppendHistory inserts closed intervals in batches of historyBatch. A
// failed batch stops it; batches already written stay.
func (s *Store) AppendHistory(ctx context.Context, ivs []core.HistoryInterval) error {
	for len(ivs) > 0 {
		n := min(len(ivs), historyBatch)
		docs := make([]any, n)
		for i, iv := range ivs[:n] {
			docs[i] = toHistoryDoc(iv)
		}
		bctx, cancel := s.opContext(ctx)
		_, err := s.history.InsertMany(bctx, docs, options.InsertMany().SetOrdered(false))
		cancel()
		if err != nil {
			return fmt.Errorf("storage: saving %d history intervals: %w", n, err)
		}
		ivs = ivs[n:]
	}
	return nil
}

// History returns the user's stored intervals overlapping [from, to), in
// start order (tests and tools; the recorder answers from memory).
func (s *Store) History(ctx context.Context, userID string, from, to time.Time) ([]core.HistoryInterval, error) {
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	filter := bson.D{{Key: "user_id", Value: userID}, {Key: "end", Value: bson.D{{Key: "$gt", Value: from.UTC()}}},
		{Key: "start", Value: bson.D{{Key: "$lt", Value: to.UTC()}}}}
	cur, err := s.history.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "start", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("storage: reading the history of %s: %w", userID, err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	var out []core.HistoryInterval
	for cur.Next(ctx) {
		var d historyDoc
		if err := cur.Decode(&d); err != nil {
			return nil, fmt.Errorf("storage: decoding a history interval of %s: %w", userID, err)
		}
		out = append(out, d.interval())
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("storage: reading the history of %s: %w", userID, err)
	}
	return out, nil
}

// historyLoadTimeout bounds one LoadHistory: FerretDB reads the whole
// collection for it (only _id lookups reach SQLite's indexes).
const historyLoadTimeout = 10 * time.Minute

// LoadHistory calls fn for every stored interval that ended after cutoff
// (of userID only, unless it is ""), in no particular order. An error
// from fn stops it and is returned as is.
func (s *Store) LoadHistory(ctx context.Context, cutoff time.Time, userID string, fn func(core.HistoryInterval) error) error {
	ctx, cancel := context.WithTimeout(ctx, historyLoadTimeout)
	defer cancel()
	filter := bson.D{{Key: "end", Value: bson.D{{Key: "$gt", Value: cutoff.UTC()}}}}
	if userID != "" {
		filter = append(bson.D{{Key: "user_id", Value: userID}}, filter...)
	}
	cur, err := s.history.Find(ctx, filter, options.Find().SetBatchSize(1000))
	if err != nil {
		return fmt.Errorf("storage: loading history: %w", err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	for cur.Next(ctx) {
		var d historyDoc
		if err := cur.Decode(&d); err != nil {
			return fmt.Errorf("storage: decoding a history interval: %w", err)
		}
		if err := fn(d.interval()); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("storage: loading history: %w", err)
	}
	return nil
}

// DeleteHistory removes every stored interval of the user.
func (s *Store) DeleteHistory(ctx context.Context, userID string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, historyDeleteTimeout)
	defer cancel()
	res, err := s.history.DeleteMany(ctx, bson.D{{Key: "user_id", Value: userID}})
	if err != nil {
		return 0, fmt.Errorf("storage: deleting the history of %s: %w", userID, err)
	}
	return res.DeletedCount, nil
}

// PruneHistory removes the intervals that ended before cutoff.
func (s *Store) PruneHistory(ctx context.Context, cutoff time.Time) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, historyDeleteTimeout)
	defer cancel()
	res, err := s.history.DeleteMany(ctx, bson.D{{Key: "end", Value: bson.D{{Key: "$lt", Value: cutoff.UTC()}}}})
	if err != nil {
		return 0, fmt.Errorf("storage: pruning history before %s: %w", cutoff.UTC().Format(time.RFC3339), err)
	}
	return res.DeletedCount, nil
}

var _ core.HistoryStore = (*Store)(nil)

package storage

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/halyardhq/halyard/core"
)

// The versioned KV writes of a cluster (docs: DESIGN.md "Several nodes").
//
// A filter on the version ({_id, ver: n}) is not a compare-and-set on
// FerretDB: its update reads, then writes, and two writers on the same
// version both match (measured: 120 writes from 3 clients left 41). An
// insert of an existing _id fails on every server, FerretDB included, so
// the write that makes version n+1 first inserts a claim with _id
// "<user>/<n+1>" holding the whole new map into kv_claims: exactly one
// writer wins a version. The winner then writes the map into the kv
// document (ver n+1). A reader that finds a claim for the version after
// the kv document's rolls the document forward, so a writer that stopped
// between the two steps loses nothing.
//
// Old claims are swept: the winner of every claimWindow-th version
// deletes one window of claims well behind it (sweepKVClaims), keeping the
// last claimWindow versions at least. A deleted claim could be
// inserted again by a stale writer (one that read the map before that
// version was won) and look won, so a winner whose copy finds the kv
// document already at its version or later reads the document's version:
// claimWindow versions or more ahead means its claim's window may have
// been swept, and the claim is a conflict (the writer re-reads and tries
// again). A window is swept only by the winner of a version
// claimWindow past it, after its own copy, so a claim of a swept
// version always meets a document that far ahead. A genuine winner meets
// one only if it stalled between its claim and its copy while
// claimWindow later versions were won on top of it; it then writes
// its change again on the newer map (a write applied twice, nothing
// lost). What the sweep relies on is what the roll-forward relies on: no
// copy of a claim stalls inside the store while claimWindow later
// versions are won (a copy that set the document back over a swept window
// would find no claims to roll forward over).
//
// The kv document stays the map's one home for backups, imports and the
// single node. Versioned writes on MongoDB pay the same commands.

// claimWindow is how often (in versions) a user's claims are swept, and
// the size of the window swept: the claims kept are the last claimWindow
// to 2·claimWindow versions. Generous: a copy stalled inside FerretDB
// (whose writers wait their turn on SQLite's lock) must not outlast it.
const claimWindow = 256

var _ core.VersionedKVStore = (*Store)(nil)

// kvClaim is one versioned write of a user's map, won by inserting it.
type kvClaim struct {
	ID      string   `bson:"_id"` // user/version
	UserID  string   `bson:"user"`
	Version int64    `bson:"ver"`
	Pairs   []kvPair `bson:"pairs"`
}

func claimID(userID string, version int64) string {
	return userID + "/" + strconv.FormatInt(version, 10)
}

// LoadUserKV returns the user's stored map and its version (empty and 0
// when none), rolling the kv document forward over claims a writer won
// but did not copy there yet.
func (s *Store) LoadUserKV(ctx context.Context, userID string) (core.KV, int64, error) {
	s.claimsInUse.Store(true)
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	var d kvDoc
	err := s.kv.FindOne(ctx, bson.D{{Key: "_id", Value: userID}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		d = kvDoc{UserID: userID}
	} else if err != nil {
		return core.KV{}, 0, fmt.Errorf("storage: loading KV of %s: %w", userID, err)
	}
	from := d.Version
	for {
		var c kvClaim
		err := s.kvClaims.FindOne(ctx, bson.D{{Key: "_id", Value: claimID(userID, d.Version+1)}}).Decode(&c)
		if errors.Is(err, mongo.ErrNoDocuments) {
			break
		}
		if err != nil {
			return core.KV{}, 0, fmt.Errorf("storage: loading KV claims of %s: %w", userID, err)
		}
		d = kvDoc{UserID: userID, Pairs: c.Pairs, UpdatedAt: time.Now().UTC(), Version: c.Version}
	}
	if d.Version > from { // copy the latest claim once, not each step
		raw, err := bson.Marshal(d)
		if err == nil {
			_, err = s.copyClaim(ctx, userID, raw, d.Version)
		}
		if err != nil {
			return core.KV{}, 0, fmt.Errorf("storage: rolling KV of %s forward: %w", userID, err)
		}
	}
	return d.kv(), d.Version, nil
}

// LoadKVVersions calls fn for every stored map, emptied ones included,
// with its version (as the kv documents hold them: a claim not copied yet
// is found by the next LoadUserKV of that user).
func (s *Store) LoadKVVersions(ctx context.Context, fn func(userID string, kv core.KV, version int64) error) error {
	s.claimsInUse.Store(true)
	return s.each(ctx, s.kv, "KV", func(raw bson.Raw) error {
		var d kvDoc
		if err := bson.Unmarshal(raw, &d); err != nil {
			return fmt.Errorf("storage: decoding KV document %v: %w", raw.Lookup("_id"), err)
		}
		return fn(d.UserID, d.kv(), d.Version)
	})
}

// SaveKVVersion stores kv as version expected+1 if no other writer made
// that version first; otherwise it fails with core.ErrKVVersionConflict
// and changes nothing. An emptied map keeps its document (no pairs, its
// version), so versions never go back.
func (s *Store) SaveKVVersion(ctx context.Context, userID string, kv core.KV, expected int64) (int64, error) {
	s.claimsInUse.Store(true)
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	next := expected + 1
	doc := kvDoc{UserID: userID, Pairs: make([]kvPair, 0, kv.Len()), UpdatedAt: time.Now().UTC(), Version: next}
	for k, v := range kv.All() {
		doc.Pairs = append(doc.Pairs, kvPair{K: k, V: v})
	}
	raw, err := bson.Marshal(doc)
	if err != nil {
		return 0, fmt.Errorf("storage: encoding KV of %s: %w", userID, err)
	}
	if len(raw) > maxDocumentSize {
		return 0, errKVTooLarge
	}
	claim := kvClaim{ID: claimID(userID, next), UserID: userID, Version: next, Pairs: doc.Pairs}
	if _, err := s.kvClaims.InsertOne(ctx, claim); err != nil {
		if isDuplicateKey(err) {
			return 0, core.ErrKVVersionConflict
		}
		return 0, fmt.Errorf("storage: claiming KV version %d of %s: %w", next, userID, err)
	}
	// The claim is the write: from here a reader finds it even if this
	// node stops now. Copy it into the kv document.
	copied, err := s.copyClaim(ctx, userID, raw, next)
	if err != nil || !copied {
		// The document is at this version or later already (or the copy
		// failed): a reader rolled it forward, or this claim is a stale
		// writer's second claim of a version swept long ago.
		at, verr := s.kvVersion(ctx, userID)
		switch {
		case verr != nil:
			return 0, fmt.Errorf("storage: checking KV version %d of %s: %w", next, userID, verr)
		case at >= next+s.claimWindow:
			_, _ = s.kvClaims.DeleteOne(ctx, bson.D{{Key: "_id", Value: claimID(userID, next)}})
			return 0, core.ErrKVVersionConflict
		case err != nil:
			s.log.Warn("storage: copying a KV claim into its document failed; readers roll it forward", "user", userID, "err", err)
		}
	}
	if w := s.claimWindow; next%w == 0 && next >= 2*w {
		s.sweepKVClaims(ctx, userID, next-2*w, next-w)
	}
	return next, nil
}

// sweepKVClaims deletes the user's claims of the versions [from, to),
// one command; a failure leaves them (logged): they are only space.
func (s *Store) sweepKVClaims(ctx context.Context, userID string, from, to int64) {
	models := make([]mongo.WriteModel, 0, to-from)
	for v := max(from, 1); v < to; v++ {
		models = append(models, mongo.NewDeleteOneModel().SetFilter(bson.D{{Key: "_id", Value: claimID(userID, v)}}))
	}
	if _, err := s.kvClaims.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false)); err != nil {
		s.log.Warn("storage: sweeping old KV claims failed", "user", userID, "err", err)
	}
}

// kvVersion reads the version of the user's kv document (0 when none).
func (s *Store) kvVersion(ctx context.Context, userID string) (int64, error) {
	var d struct {
		Version int64 `bson:"ver"`
	}
	err := s.kv.FindOne(ctx, bson.D{{Key: "_id", Value: userID}}, options.FindOne().SetProjection(bson.D{{Key: "ver", Value: 1}})).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	return d.Version, err
}

// copyClaim writes the kv document of version (raw) unless the document
// is already at that version or later (copied false). The check and the
// write are two steps on FerretDB, so a slow copy can still set the
// document back; the claims after it stay, and the next reader rolls it
// forward again.
func (s *Store) copyClaim(ctx context.Context, userID string, raw []byte, version int64) (copied bool, err error) {
	filter := bson.D{{Key: "_id", Value: userID}, {Key: "$or", Value: bson.A{
		bson.D{{Key: "ver", Value: bson.D{{Key: "$lt", Value: version}}}},
		bson.D{{Key: "ver", Value: bson.D{{Key: "$exists", Value: false}}}},
	}}}
	res, err := s.kv.ReplaceOne(ctx, filter, bson.Raw(raw))
	if err != nil {
		return false, err
	}
	if res.MatchedCount > 0 {
		return true, nil
	}
	if _, err = s.kv.InsertOne(ctx, bson.Raw(raw)); isDuplicateKey(err) {
		return false, nil // the document exists at this version or a later one
	}
	return err == nil, err
}

// deleteKVClaims removes the user's claims: a map written without a
// version (import, restore, purge) starts the count again, and an old
// claim must not roll it back.
func (s *Store) deleteKVClaims(ctx context.Context, userID string) error {
	if !s.claimsInUse.Load() {
		return nil
	}
	if _, err := s.kvClaims.DeleteMany(ctx, bson.D{{Key: "user", Value: userID}}); err != nil {
		return fmt.Errorf("storage: deleting KV claims of %s: %w", userID, err)
	}
	return nil
}

// kv returns the document's pairs as a map, in their stored order.
func (d *kvDoc) kv() core.KV {
	var kv core.KV
	for _, p := range d.Pairs {
		kv.Set(p.K, p.V)
	}
	return kv
}

package storage

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

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
// between the two steps loses nothing. Claims are kept (one small
// document per versioned write; removing old ones needs a sweep by age
// far beyond the operation timeout, not written yet): deleting a claim a
// stale writer could still insert again would let it win an old version.
// The kv document stays the map's one home for backups, imports and the
// single node. Versioned writes on MongoDB pay the same commands.

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
			err = s.copyClaim(ctx, userID, raw, d.Version)
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
	if err := s.copyClaim(ctx, userID, raw, next); err != nil {
		s.log.Warn("storage: copying a KV claim into its document failed; readers roll it forward", "user", userID, "err", err)
	}
	return next, nil
}

// copyClaim writes the kv document of version (raw) unless the document
// is already at that version or later. The check and the write are two
// steps on FerretDB, so a slow copy can still set the document back; the
// claims after it stay, and the next reader rolls it forward again.
func (s *Store) copyClaim(ctx context.Context, userID string, raw []byte, version int64) error {
	filter := bson.D{{Key: "_id", Value: userID}, {Key: "$or", Value: bson.A{
		bson.D{{Key: "ver", Value: bson.D{{Key: "$lt", Value: version}}}},
		bson.D{{Key: "ver", Value: bson.D{{Key: "$exists", Value: false}}}},
	}}}
	res, err := s.kv.ReplaceOne(ctx, filter, bson.Raw(raw))
	if err == nil && res.MatchedCount == 0 {
		if _, err = s.kv.InsertOne(ctx, bson.Raw(raw)); isDuplicateKey(err) {
			err = nil // the document exists at this version or a later one
		}
	}
	return err
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

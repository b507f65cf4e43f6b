package storage

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/halyardhq/halyard/core"
)

// kvDoc is one user's KV map in the kv collection. Pairs are an array, not
// a sub-document keyed by KV key: keys may be empty, and a key must never
// be read as a field path. The array keeps the map's insertion order
// (Lantern renders storage in that order); maps written before the order
// was kept were stored sorted and load in that order.
type kvDoc struct {
	UserID    string    `bson:"_id"`
	Pairs     []kvPair  `bson:"pairs"`
	UpdatedAt time.Time `bson:"updated_at"`
	// Version counts the map's versioned writes (a cluster's
	// compare-and-set, kv_versions.go); absent on maps written without.
	Version int64 `bson:"ver,omitempty"`
}

// kvPair is one key/value pair of a kvDoc.
type kvPair struct {
	K string `bson:"k"`
	V string `bson:"v"`
}

// LoadKV calls fn for every user that has at least one pair. An error from
// fn stops the load and is returned as is.
func (s *Store) LoadKV(ctx context.Context, fn func(userID string, kv core.KV) error) error {
	return s.each(ctx, s.kv, "KV", func(raw bson.Raw) error {
		var d kvDoc
		if err := bson.Unmarshal(raw, &d); err != nil {
			return fmt.Errorf("storage: decoding KV document %v: %w", raw.Lookup("_id"), err)
		}
		if len(d.Pairs) == 0 {
			return nil
		}
		var kv core.KV
		for _, p := range d.Pairs { // stored in insertion order
			kv.Set(p.K, p.V)
		}
		return fn(d.UserID, kv)
	})
}

// SaveKV replaces the user's whole KV map with one upsert, so the stored map
// is always either the old one or the new one. An empty map deletes the
// document. A map whose document would exceed 16 MiB fails with ETOOLARGE.
func (s *Store) SaveKV(ctx context.Context, userID string, kv core.KV) error {
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	if err := s.deleteKVClaims(ctx, userID); err != nil {
		return err
	}
	if kv.Len() == 0 {
		if _, err := s.kv.DeleteOne(ctx, bson.D{{Key: "_id", Value: userID}}); err != nil {
			return fmt.Errorf("storage: deleting KV of %s: %w", userID, err)
		}
		return nil
	}
	doc := kvDoc{UserID: userID, Pairs: make([]kvPair, 0, kv.Len()), UpdatedAt: time.Now().UTC()}
	for k, v := range kv.All() { // insertion order: Lantern renders it
		doc.Pairs = append(doc.Pairs, kvPair{K: k, V: v})
	}
	// Encode once: to check the size, then to send the same bytes.
	raw, err := bson.Marshal(doc)
	if err != nil {
		return fmt.Errorf("storage: encoding KV of %s: %w", userID, err)
	}
	if len(raw) > maxDocumentSize {
		return errKVTooLarge
	}
	if err := replaceByID(ctx, s.kv, userID, bson.Raw(raw)); err != nil {
		return fmt.Errorf("storage: saving KV of %s: %w", userID, err)
	}
	return nil
}

package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/halyardhq/halyard/core"
)

// tokenDoc is one user's token hash in the tokens collection. Only the
// keyed hash is stored, so a dump reveals no token.
type tokenDoc struct {
	UserID    string    `bson:"_id"`
	Hash      []byte    `bson:"hash"`
	CreatedAt time.Time `bson:"created_at"`
}

// LoadTokenHashes calls fn for every stored (user, hash) pair. An error
// from fn stops the load and is returned as is.
func (s *Store) LoadTokenHashes(ctx context.Context, fn func(userID string, hash []byte) error) error {
	return s.each(ctx, s.tokens, "token hashes", func(raw bson.Raw) error {
		var d tokenDoc
		if err := bson.Unmarshal(raw, &d); err != nil {
			return fmt.Errorf("storage: decoding token document %v: %w", raw.Lookup("_id"), err)
		}
		return fn(d.UserID, d.Hash)
	})
}

// SaveTokenHash replaces the user's token hash. It accepts only a hash of
// core.TokenHashSize bytes, so a token passed by mistake is never stored; a
// hash another user already holds fails with EINVALID.
func (s *Store) SaveTokenHash(ctx context.Context, userID string, hash []byte) error {
	if len(hash) != core.TokenHashSize {
		return fmt.Errorf("storage: a token hash is %d bytes, got %d", core.TokenHashSize, len(hash))
	}
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	doc := tokenDoc{UserID: userID, Hash: hash, CreatedAt: time.Now().UTC()}
	err := replaceByID(ctx, s.tokens, userID, doc)
	if isDuplicateKey(err) {
		return errTokenTaken
	}
	if err != nil {
		return fmt.Errorf("storage: saving token hash of %s: %w", userID, err)
	}
	return nil
}

// DeleteTokenHash removes the user's token hash; removing an absent one
// succeeds.
func (s *Store) DeleteTokenHash(ctx context.Context, userID string) error {
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	if _, err := s.tokens.DeleteOne(ctx, bson.D{{Key: "_id", Value: userID}}); err != nil {
		return fmt.Errorf("storage: deleting token hash of %s: %w", userID, err)
	}
	return nil
}

// LoadTokenHash returns the user's stored token hash, nil when none (a
// cluster node reloads one user's token after another node changed it).
func (s *Store) LoadTokenHash(ctx context.Context, userID string) ([]byte, error) {
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	var d tokenDoc
	err := s.tokens.FindOne(ctx, bson.D{{Key: "_id", Value: userID}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("storage: loading token hash of %s: %w", userID, err)
	}
	return d.Hash, nil
}

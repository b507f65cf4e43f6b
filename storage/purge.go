package storage

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// DeleteUser removes the user's record (the admin API's purge); removing
// an absent one succeeds. KV and the token hash are removed through
// SaveKV with an empty map and DeleteTokenHash.
func (s *Store) DeleteUser(ctx context.Context, userID string) error {
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	if _, err := s.users.DeleteOne(ctx, bson.D{{Key: "_id", Value: userID}}); err != nil {
		return fmt.Errorf("storage: deleting the record of %s: %w", userID, err)
	}
	return nil
}

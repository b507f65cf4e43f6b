// Package memstore is an in-memory core.Store for tests that need a store
// but not a database: KV maps, user records and token hashes in maps. The
// real store (storage/, an embedded MongoDB-compatible server) is tested
// in its own package and end to end; this one stands in where a test is
// about the caller's rules.
//
// It behaves as the real one does where callers can tell: every call on a
// cancelled context fails (as the MongoDB driver does), SetDown makes every
// call fail as an unreachable database would, and what was saved is what
// loads (KV in insertion order, records, hashes).
package memstore

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/halyardhq/halyard/core"
)

// Store is an in-memory core.Store, safe for concurrent use. The zero
// Store is not ready; use New.
type Store struct {
	mu     sync.Mutex
	down   error
	kv     map[string]core.KV
	users  map[string]core.UserRecord
	tokens map[string][]byte
	optOut map[string]time.Time
	// inserted: ids written by InsertUsers, in order (Inserted).
	inserted []string
}

var _ core.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{kv: map[string]core.KV{}, users: map[string]core.UserRecord{}, tokens: map[string][]byte{},
		optOut: map[string]time.Time{}}
}

// SetDown makes every later call fail with err (a database that stopped
// answering); nil brings the store back.
func (s *Store) SetDown(err error) {
	s.mu.Lock()
	s.down = err
	s.mu.Unlock()
}

// check is the failure every call meets first: a cancelled context, then
// a store that is down. Called with s.mu held.
func (s *Store) check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.down
}

// LoadKV implements core.KVStore.
func (s *Store) LoadKV(ctx context.Context, fn func(userID string, kv core.KV) error) error {
	s.mu.Lock()
	if err := s.check(ctx); err != nil {
		s.mu.Unlock()
		return err
	}
	all := make(map[string]core.KV, len(s.kv))
	for u, kv := range s.kv {
		all[u] = kv.Clone()
	}
	s.mu.Unlock()
	for u, kv := range all { // fn may call back into the store
		if err := fn(u, kv); err != nil {
			return err
		}
	}
	return nil
}

// SaveKV implements core.KVStore: the map replaces the user's, an empty
// one deletes it.
func (s *Store) SaveKV(ctx context.Context, userID string, kv core.KV) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return err
	}
	if kv.Len() == 0 {
		delete(s.kv, userID)
	} else {
		s.kv[userID] = kv.Clone()
	}
	return nil
}

// LoadUsers implements core.UserStore.
func (s *Store) LoadUsers(ctx context.Context, fn func(core.UserRecord) error) error {
	s.mu.Lock()
	if err := s.check(ctx); err != nil {
		s.mu.Unlock()
		return err
	}
	recs := make([]core.UserRecord, 0, len(s.users))
	for _, r := range s.users {
		recs = append(recs, r)
	}
	s.mu.Unlock()
	for _, r := range recs {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// SaveUsers implements core.UserStore (upserts by id).
func (s *Store) SaveUsers(ctx context.Context, recs []core.UserRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return err
	}
	for _, r := range recs {
		s.users[r.ID] = r
	}
	return nil
}

// InsertUsers implements core.NewUserSaver: a record held already is
// replaced, as the storage package's does.
func (s *Store) InsertUsers(ctx context.Context, recs []core.UserRecord) error {
	if err := s.SaveUsers(ctx, recs); err != nil {
		return err
	}
	s.mu.Lock()
	for _, r := range recs {
		s.inserted = append(s.inserted, r.ID)
	}
	s.mu.Unlock()
	return nil
}

// Inserted returns the ids InsertUsers has written, in order.
func (s *Store) Inserted() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.inserted)
}

// DeleteUser implements core.UserDeleter.
func (s *Store) DeleteUser(ctx context.Context, userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return err
	}
	delete(s.users, userID)
	return nil
}

// LoadTokenHashes implements core.TokenStore.
func (s *Store) LoadTokenHashes(ctx context.Context, fn func(userID string, hash []byte) error) error {
	s.mu.Lock()
	if err := s.check(ctx); err != nil {
		s.mu.Unlock()
		return err
	}
	all := make(map[string][]byte, len(s.tokens))
	for u, h := range s.tokens {
		all[u] = bytes.Clone(h)
	}
	s.mu.Unlock()
	for u, h := range all {
		if err := fn(u, h); err != nil {
			return err
		}
	}
	return nil
}

// SaveTokenHash implements core.TokenStore.
func (s *Store) SaveTokenHash(ctx context.Context, userID string, hash []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return err
	}
	s.tokens[userID] = bytes.Clone(hash)
	return nil
}

// DeleteTokenHash implements core.TokenStore.
func (s *Store) DeleteTokenHash(ctx context.Context, userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return err
	}
	delete(s.tokens, userID)
	return nil
}

// LoadOptOuts implements core.OptOutStore.
func (s *Store) LoadOptOuts(ctx context.Context, fn func(userID string, since time.Time) error) error {
	s.mu.Lock()
	if err := s.check(ctx); err != nil {
		s.mu.Unlock()
		return err
	}
	all := make(map[string]time.Time, len(s.optOut))
	for u, t := range s.optOut {
		all[u] = t
	}
	s.mu.Unlock()
	for u, t := range all {
		if err := fn(u, t); err != nil {
			return err
		}
	}
	return nil
}

// SaveOptOut implements core.OptOutStore.
func (s *Store) SaveOptOut(ctx context.Context, userID string, since time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return err
	}
	s.optOut[userID] = since
	return nil
}

// DeleteOptOut implements core.OptOutStore.
func (s *Store) DeleteOptOut(ctx context.Context, userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return err
	}
	delete(s.optOut, userID)
	return nil
}

// OptedOut reports whether the user's opt-out is stored.
func (s *Store) OptedOut(userID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.optOut[userID]
	return ok
}

// Ping implements core.Store: nil unless the store is down.
func (s *Store) Ping(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.check(ctx)
}

// Close implements core.Store; the data stays readable.
func (s *Store) Close() error { return nil }

// KV returns the user's stored map (empty when none).
func (s *Store) KV(userID string) core.KV {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.kv[userID].Clone()
}

// Record returns the user's stored record.
func (s *Store) Record(userID string) (core.UserRecord, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.users[userID]
	return r, ok
}

// TokenHash returns the user's stored token hash.
func (s *Store) TokenHash(userID string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.tokens[userID]
	return bytes.Clone(h), ok
}

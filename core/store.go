package core

import (
	"context"
	"time"
)

// KVStore persists users' KV maps.
type KVStore interface {
	// LoadKV calls fn for every user that has at least one pair.
	LoadKV(ctx context.Context, fn func(userID string, kv KV) error) error
	// SaveKV replaces the user's whole KV map atomically and durably;
	// an empty map deletes it.
	SaveKV(ctx context.Context, userID string, kv KV) error
}

// UserRecord is what Halyard remembers about a user across restarts.
type UserRecord struct {
	ID              string
	Username        string
	MonitoringSince time.Time
	LastSeen        time.Time
	GitHubLogin     string
}

// UserStore persists user records.
type UserStore interface {
	// LoadUsers calls fn for every stored record.
	LoadUsers(ctx context.Context, fn func(UserRecord) error) error
	// SaveUsers upserts records (best effort batches; not on a client's path).
	SaveUsers(ctx context.Context, recs []UserRecord) error
}

// NewUserSaver is a UserStore that writes records it is not expected to
// hold more cheaply than SaveUsers (storage.Store: inserts instead of
// replaces). A record it holds after all must still end up replaced. The
// hub writes through it the records of users it never saw stored.
type NewUserSaver interface {
	InsertUsers(ctx context.Context, recs []UserRecord) error
}

// Store is everything Halyard keeps in its database.
type Store interface {
	KVStore
	TokenStore
	UserStore
	UserDeleter
	OptOutStore
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Close releases the connection (and stops an embedded server).
	Close() error
}

// storeError turns a storage failure into a domain error: adapters see
// EUNAVAILABLE unless the store already returned an *Error. The cause stays
// in the chain for logs.
func storeError(err error) error {
	if err == nil || ErrorCode(err) != EINTERNAL {
		return err
	}
	return &causedError{domain: &Error{Code: EUNAVAILABLE, Message: "the database is unavailable, try again later"}, cause: err}
}

// causedError is a domain error that keeps its underlying cause.
type causedError struct {
	domain *Error
	cause  error
}

func (c *causedError) Error() string   { return c.domain.Error() + ": " + c.cause.Error() }
func (c *causedError) Unwrap() []error { return []error{c.domain, c.cause} }

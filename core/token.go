package core

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/blake2b"
)

// TokenPrefix starts every API token Halyard issues (as current Lanyard).
const TokenPrefix = "lnyd_"

// TokenHashSize is the size of a stored token hash in bytes.
const TokenHashSize = 32

// TokenStore persists token hashes: one per user.
type TokenStore interface {
	// LoadTokenHashes calls fn for every stored (user, hash) pair.
	LoadTokenHashes(ctx context.Context, fn func(userID string, hash []byte) error) error
	// SaveTokenHash replaces the user's token hash, durably.
	SaveTokenHash(ctx context.Context, userID string, hash []byte) error
	// DeleteTokenHash removes the user's token hash, durably.
	DeleteTokenHash(ctx context.Context, userID string) error
}

// Tokens issues, verifies and revokes API tokens. Only a keyed BLAKE2b hash
// of a token is ever stored; verification hashes the presented token with
// the server secret and compares in constant time. Hashes are also kept in
// memory so verifying never waits on the database.
type Tokens struct {
	secret []byte
	store  TokenStore

	mu     sync.RWMutex
	byUser map[string][]byte // user id → hash
	byHash map[string]string // string(hash) → user id
	// onChange tells a cluster about this node's token writes (OnChange).
	onChange func(userID string, hash []byte)

	// unloaded is set while the stored hashes could not be read (the
	// database was unreachable at start): no token can be told valid, so
	// Verify answers EUNAVAILABLE instead of calling a good token invalid.
	unloaded atomic.Bool
}

// NewTokens returns a token service keyed with secret (at least 32 bytes).
func NewTokens(secret []byte, store TokenStore) (*Tokens, error) {
	if len(secret) < 32 {
		return nil, fmt.Errorf("token secret must be at least 32 bytes, got %d", len(secret))
	}
	if len(secret) > 64 {
		sum := blake2b.Sum256(secret)
		secret = sum[:]
	}
	return &Tokens{secret: secret, store: store, byUser: map[string][]byte{}, byHash: map[string]string{}}, nil
}

// Load reads every stored hash into memory.
func (t *Tokens) Load(ctx context.Context) error {
	err := t.store.LoadTokenHashes(ctx, func(userID string, hash []byte) error {
		t.mu.Lock()
		t.set(userID, hash)
		t.mu.Unlock()
		return nil
	})
	if err == nil {
		t.unloaded.Store(false)
	}
	return err
}

// Available reports whether the stored hashes are loaded, so that Verify
// can tell a token valid or not.
func (t *Tokens) Available() bool { return !t.unloaded.Load() }

// Defer marks the stored hashes as not loaded yet: until Load succeeds,
// Verify answers EUNAVAILABLE for every token.
func (t *Tokens) Defer() { t.unloaded.Store(true) }

// Hash returns the keyed hash of token.
func (t *Tokens) Hash(token string) []byte {
	h, _ := blake2b.New256(t.secret) // the key length is checked in NewTokens
	h.Write([]byte(token))
	return h.Sum(nil)
}

// NewToken returns a fresh token: TokenPrefix and 32 lowercase hex digits
// from a CSPRNG.
func NewToken() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error()) // unrecoverable: the OS has no entropy source
	}
	return TokenPrefix + hex.EncodeToString(b[:])
}

// Issue creates a new token for the user, replacing (and so revoking) any
// previous one. It returns only after the hash is stored durably.
func (t *Tokens) Issue(ctx context.Context, userID string) (string, error) {
	token := NewToken()
	if err := t.Import(ctx, userID, token); err != nil {
		return "", err
	}
	return token, nil
}

// Import stores an existing token (for example one migrated from Lanyard's
// Redis, with or without the lnyd_ prefix) as the user's token.
func (t *Tokens) Import(ctx context.Context, userID, token string) error {
	if userID == "" || token == "" {
		return Errorf(EINVALID, "user id and token are required")
	}
	hash := t.Hash(token)
	if err := t.store.SaveTokenHash(context.WithoutCancel(ctx), userID, hash); err != nil {
		return storeError(err)
	}
	t.mu.Lock()
	t.set(userID, hash)
	t.mu.Unlock()
	t.notify(userID, hash)
	return nil
}

// Revoke removes the user's token. Revoking a user without one succeeds.
func (t *Tokens) Revoke(ctx context.Context, userID string) error {
	if err := t.store.DeleteTokenHash(context.WithoutCancel(ctx), userID); err != nil {
		return storeError(err)
	}
	t.mu.Lock()
	if old, ok := t.byUser[userID]; ok {
		delete(t.byHash, string(old))
		delete(t.byUser, userID)
	}
	t.mu.Unlock()
	t.notify(userID, nil)
	return nil
}

// Verify returns the owner of token, or an EUNAUTHORIZED error. A "Bearer "
// prefix is not stripped here: dialects decide whether they accept it.
func (t *Tokens) Verify(token string) (string, error) {
	if token == "" || len(token) > 256 {
		return "", Errorf(EUNAUTHORIZED, "invalid token")
	}
	if t.unloaded.Load() {
		return "", Errorf(EUNAVAILABLE, "the database is unavailable, try again later")
	}
	hash := t.Hash(token)
	t.mu.RLock()
	userID, ok := t.byHash[string(hash)]
	stored := t.byUser[userID]
	t.mu.RUnlock()
	if !ok || subtle.ConstantTimeCompare(stored, hash) != 1 {
		return "", Errorf(EUNAUTHORIZED, "invalid token")
	}
	return userID, nil
}

// HasToken reports whether the user holds a token.
func (t *Tokens) HasToken(userID string) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	_, ok := t.byUser[userID]
	return ok
}

// IsToken reports whether s is the user's current token.
func (t *Tokens) IsToken(userID, s string) bool {
	owner, err := t.Verify(s)
	return err == nil && owner == userID
}

// LooksLikeToken reports whether s has the shape of a Halyard or legacy
// Lanyard token.
func LooksLikeToken(s string) bool {
	s = strings.TrimPrefix(s, TokenPrefix)
	if len(s) != 32 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

func (t *Tokens) set(userID string, hash []byte) {
	if old, ok := t.byUser[userID]; ok {
		delete(t.byHash, string(old))
	}
	t.byUser[userID] = hash
	t.byHash[string(hash)] = userID
}

package core

import "context"

// OnChange registers fn, called after each durable token change on this
// node with the user's new hash (nil when revoked), so a cluster can tell
// the other nodes. Call it before the first Issue.
func (t *Tokens) OnChange(fn func(userID string, hash []byte)) {
	t.mu.Lock()
	t.onChange = fn
	t.mu.Unlock()
}

// notify runs the OnChange hook, if any.
func (t *Tokens) notify(userID string, hash []byte) {
	t.mu.RLock()
	fn := t.onChange
	t.mu.RUnlock()
	if fn != nil {
		fn(userID, hash)
	}
}

// TokenHashLoader reads one user's stored token hash (nil when none).
type TokenHashLoader interface {
	LoadTokenHash(ctx context.Context, userID string) ([]byte, error)
}

// ReloadUser reads the user's token hash from the store and installs it
// (nil revokes): another node changed it. Reading the store rather than
// taking a hash from the bus makes every node end on the stored hash even
// when two nodes issue a token for one user at once.
func (t *Tokens) ReloadUser(ctx context.Context, userID string) error {
	l, ok := t.store.(TokenHashLoader)
	if !ok {
		return nil
	}
	hash, err := l.LoadTokenHash(ctx, userID)
	if err != nil {
		return storeError(err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if hash == nil {
		if old, ok := t.byUser[userID]; ok {
			delete(t.byHash, string(old))
			delete(t.byUser, userID)
		}
		return nil
	}
	t.set(userID, hash)
	return nil
}

// Reload replaces every hash in memory with the stored ones (after missed
// bus messages: tokens revoked meanwhile are dropped too).
func (t *Tokens) Reload(ctx context.Context) error {
	byUser, byHash := map[string][]byte{}, map[string]string{}
	if err := t.store.LoadTokenHashes(ctx, func(userID string, hash []byte) error {
		byUser[userID] = hash
		byHash[string(hash)] = userID
		return nil
	}); err != nil {
		return err
	}
	t.mu.Lock()
	t.byUser, t.byHash = byUser, byHash
	t.mu.Unlock()
	t.unloaded.Store(false)
	return nil
}

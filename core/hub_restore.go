package core

import (
	"bytes"
	"context"
	"encoding/hex"
	"slices"
	"time"
)

// Backups (halyard backup / restore) read and write through the running
// hub, not around it: the hub's memory is the store's content (KV and token
// writes go to the store first, and both are loaded at start) plus the
// user records not flushed yet, so an export from it is complete and taken
// at one moment, and a restore through it is served at once — KV pushed to
// subscribers as a KV write is, tokens valid on the next request — with no
// restart.

// UserKV is one user's KV map, as a backup holds it.
type UserKV struct {
	UserID string
	KV     KV
}

// TokenHash is one user's stored token hash, as a backup holds it.
type TokenHash struct {
	UserID string
	Hash   []byte
}

// Snapshot returns, taken at one moment, every non-empty KV map
// (monitored user or not) and every user record the hub keeps (monitored
// users and remembered ones, unflushed changes included), each in
// ascending user id order. The KV maps are shared read-only snapshots.
func (h *Hub) Snapshot() ([]UserKV, []UserRecord) {
	h.mu.RLock()
	kvs := make([]UserKV, 0, len(h.kv))
	for id, kv := range h.kv {
		if kv.Len() > 0 {
			kvs = append(kvs, UserKV{UserID: id, KV: kv})
		}
	}
	recs := make([]UserRecord, 0, h.users.len()+len(h.records))
	for id := range h.users.all() {
		r, _ := h.recordOfLocked(id)
		recs = append(recs, r)
	}
	for id, r := range h.records {
		if _, monitored := h.users.get(id); !monitored {
			recs = append(recs, r)
		}
	}
	h.mu.RUnlock()
	slices.SortFunc(kvs, func(a, b UserKV) int { return idCompare(a.UserID, b.UserID) })
	slices.SortFunc(recs, func(a, b UserRecord) int { return idCompare(a.ID, b.ID) })
	return kvs, recs
}

// RestoreKV makes userID's KV map the given one, monitored user or not,
// replacing the whole map in one durable write (a user is never left half
// restored). A map equal to the current one changes nothing, so restoring
// twice is harmless; a changed map of a monitored user is published as
// KVUpdated, as a KV write is. With dryRun it only reports whether the map
// would change. The map must obey the KV rules (EINVALID otherwise).
func (h *Hub) RestoreKV(ctx context.Context, userID string, kv KV, dryRun bool) (changed bool, err error) {
	if userID == "" {
		return false, Errorf(EINVALID, "a KV map needs a user id")
	}
	if kv.Len() > MaxKVPairs {
		return false, Errorf(EINVALID, "user %s: %d KV pairs, over the limit of %d", userID, kv.Len(), MaxKVPairs)
	}
	if err := ValidateKVPairs(kv); err != nil {
		return false, Errorf(EINVALID, "user %s: %s", userID, ErrorMessage(err))
	}
	lock := h.kvLock(userID)
	lock.Lock()
	defer lock.Unlock()
	if h.KV(userID).Equal(kv) {
		return false, nil
	}
	if dryRun {
		return true, nil
	}
	if vs, ok := h.opts.Store.(VersionedKVStore); ok && h.opts.VersionedKV {
		// On a cluster, as a KV write from any node: the version keeps
		// growing and every node is told (a plain replace would reset the
		// version and tell no one).
		if err := h.writeKVVersioned(ctx, vs, userID, func(KV) (KV, error) { return kv, nil }); err != nil {
			return false, err
		}
		return true, nil
	}
	if h.opts.Store != nil {
		if err := h.opts.Store.SaveKV(context.WithoutCancel(ctx), userID, kv); err != nil {
			h.log.Error("restoring KV failed", "user", userID, "err", err)
			return false, storeError(err)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.setKVLocked(userID, kv)
	return true, nil
}

// RestoreRecords merges backed-up user records into the hub by the rules
// a start-up load follows (the earlier monitoring start and the later
// sighting win; a GitHub link the hub holds is kept, else the backup's is
// taken; a missing username is filled), and writes the records that
// changed before returning. Records that change nothing are not written,
// so restoring twice is harmless. With dryRun it only counts the records
// that would change.
func (h *Hub) RestoreRecords(ctx context.Context, recs []UserRecord, dryRun bool) (changed int, err error) {
	for _, r := range recs {
		if r.ID == "" {
			return 0, Errorf(EINVALID, "a user record needs a user id")
		}
	}
	h.mu.Lock()
	var written []UserRecord
	for _, r := range recs {
		next, ok := h.restoredRecordLocked(r)
		if !ok {
			continue
		}
		changed++
		if dryRun {
			continue
		}
		h.applyRecordLocked(next)
		if got, ok := h.recordOfLocked(r.ID); ok {
			written = append(written, got)
		}
	}
	h.mu.Unlock()
	if len(written) == 0 || h.opts.Store == nil {
		return changed, nil
	}
	if err := h.opts.Store.SaveUsers(context.WithoutCancel(ctx), written); err != nil {
		// Memory holds them: the background writer retries.
		h.mu.Lock()
		for _, r := range written {
			h.dirty.add(r.ID)
		}
		h.mu.Unlock()
		return changed, storeError(err)
	}
	return changed, nil
}

// restoredRecordLocked returns the record r merged into the user's current
// one, and whether that differs from what the hub holds.
func (h *Hub) restoredRecordLocked(r UserRecord) (UserRecord, bool) {
	cur, have := h.recordOfLocked(r.ID)
	if !have {
		return r, true
	}
	next := cur
	if !r.MonitoringSince.IsZero() && (next.MonitoringSince.IsZero() || r.MonitoringSince.Before(next.MonitoringSince)) {
		next.MonitoringSince = r.MonitoringSince
	}
	if r.LastSeen.After(next.LastSeen) {
		next.LastSeen = r.LastSeen
	}
	if _, monitored := h.users.get(r.ID); !monitored && next.Username == "" {
		next.Username = r.Username // a monitored user's name is Discord's
	}
	if next.GitHubLogin == "" {
		next.GitHubLogin = r.GitHubLogin
	}
	return next, next != cur
}

// applyRecordLocked installs a merged record: into the snapshot of a
// monitored user (a new snapshot, so its cached renderings are rebuilt;
// nothing is published, as at a start-up load), into h.records otherwise.
func (h *Hub) applyRecordLocked(r UserRecord) {
	u, monitored := h.users.get(r.ID)
	if !monitored {
		h.records[r.ID] = r
		return
	}
	if !r.MonitoringSince.Equal(u.MonitoringSince()) || !r.LastSeen.Equal(u.LastSeen()) {
		nu := u.clone()
		nu.SetMonitoringSince(r.MonitoringSince)
		nu.SetLastSeen(r.LastSeen)
		h.install(nu)
	}
	if r.GitHubLogin != "" {
		h.records[r.ID] = UserRecord{ID: r.ID, GitHubLogin: r.GitHubLogin}
	}
}

// HashSnapshot returns every stored token hash, in ascending user id order.
func (t *Tokens) HashSnapshot() []TokenHash {
	t.mu.RLock()
	out := make([]TokenHash, 0, len(t.byUser))
	for id, h := range t.byUser {
		out = append(out, TokenHash{UserID: id, Hash: h})
	}
	t.mu.RUnlock()
	slices.SortFunc(out, func(a, b TokenHash) int { return idCompare(a.UserID, b.UserID) })
	return out
}

// KeyCheck identifies the server secret without revealing it: the keyed
// hash of a fixed text. A backup carries it, so that restoring token
// hashes into a node with another secret (where none of them would ever
// verify) is refused instead of silently locking every user out.
func (t *Tokens) KeyCheck() string {
	return hex.EncodeToString(t.Hash("halyard backup key check v1"))
}

// RestoreHash makes hash the user's stored token hash. The same hash
// changes nothing (restoring twice is harmless); another one replaces the
// user's token durably, valid from the next request. With dryRun it only
// reports whether the hash would change.
func (t *Tokens) RestoreHash(ctx context.Context, userID string, hash []byte, dryRun bool) (changed bool, err error) {
	if userID == "" || len(hash) != TokenHashSize {
		return false, Errorf(EINVALID, "a token hash needs a user id and %d bytes", TokenHashSize)
	}
	t.mu.RLock()
	cur, ok := t.byUser[userID]
	t.mu.RUnlock()
	if ok && bytes.Equal(cur, hash) {
		return false, nil
	}
	if dryRun {
		return true, nil
	}
	hash = bytes.Clone(hash)
	if err := t.store.SaveTokenHash(context.WithoutCancel(ctx), userID, hash); err != nil {
		return false, storeError(err)
	}
	t.mu.Lock()
	t.set(userID, hash)
	t.mu.Unlock()
	return true, nil
}

// idCompare orders snowflakes numerically, as idLess does.
func idCompare(a, b string) int {
	switch {
	case idLess(a, b):
		return -1
	case idLess(b, a):
		return 1
	}
	return 0
}

// RestoreOptOut hides userID as a stored opt-out since since would (a
// backup's opt-out): stored first, then applied and published as
// SetOptOut does. A user already opted out changes nothing (restoring
// twice is harmless), and a restore never shows again a user who opted
// out after the backup was taken. With dryRun it only reports whether the
// user would be hidden.
func (h *Hub) RestoreOptOut(ctx context.Context, userID string, since time.Time, dryRun bool) (changed bool, err error) {
	if userID == "" {
		return false, Errorf(EINVALID, "an opt-out needs a user id")
	}
	lock := h.kvLock(userID)
	lock.Lock()
	defer lock.Unlock()
	if h.OptedOut(userID) {
		return false, nil
	}
	if dryRun {
		return true, nil
	}
	since = since.UTC().Truncate(time.Millisecond)
	if st := h.opts.Store; st != nil {
		store, ok := st.(OptOutStore)
		if !ok {
			return false, Errorf(EINTERNAL, "the store cannot keep opt-outs")
		}
		if err := store.SaveOptOut(context.WithoutCancel(ctx), userID, since); err != nil {
			h.log.Error("restoring an opt-out failed", "user", userID, "err", err)
			return false, storeError(err)
		}
	}
	h.mu.Lock()
	h.applyOptOutLocked(userID, true, since)
	h.mu.Unlock()
	h.notifyOptOut(userID, true, since)
	return true, nil
}

package core

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// HubStore is what the hub needs from the database.
type HubStore interface {
	KVStore
	UserStore
}

// HubOptions configures a Hub.
type HubOptions struct {
	Store  HubStore
	Logger *slog.Logger
	// Now returns the current time (tests may fix it); time.Now when nil.
	Now func() time.Time
	// RecordFlushInterval is how often changed user records are written;
	// 2 s when zero.
	RecordFlushInterval time.Duration
	// RenderCacheBytes bounds the memory of cached renderings (oldest are
	// evicted and rebuilt on demand); 256 MiB when zero.
	RenderCacheBytes int64
	// VersionedKV makes KV writes compare-and-set on a per-user version
	// (Store must be a VersionedKVStore): several nodes write one store
	// (a cluster). Off, a write replaces the stored map as before.
	VersionedKV bool
	// OnKVWrite is called after each durable versioned KV write with the
	// new map and version, so a cluster can tell the other nodes.
	OnKVWrite func(userID string, kv KV, version int64)
}

// Hub owns the live presence of every monitored user and the in-memory copy
// of every user's KV. Gateway events and KV writes change it; subscribers
// receive the resulting events. Every change replaces the user's snapshot,
// so readers never lock a user.
type Hub struct {
	opts HubOptions
	log  *slog.Logger

	mu      sync.RWMutex
	users   userIndex             // monitored users
	kv      map[string]KV         // every user's KV, monitored or not
	kvVer   map[string]int64      // stored version of each KV (VersionedKV only)
	records map[string]UserRecord // users not monitored now, and GitHub links (hub_records.go)
	dirty   recordSet             // records not yet written
	// foreign: records another node changed and writes; this hub writes
	// them only if it takes over (hub_records_cluster.go).
	foreign map[string]ForeignRecord
	// marking, while set, says whose change is being applied: the
	// record marks it makes go to foreign, not dirty.
	marking *ForeignRecord
	// optOuts: users who opted out, since when; hidden from every read
	// and event (hub_optout.go).
	optOuts map[string]time.Time
	// optOutHook tells a cluster about this node's opt-out changes (SetOptOutHook).
	optOutHook func(userID string, optOut bool, since time.Time)
	// purgeHook tells a cluster about this node's purges (SetPurgeHook).
	purgeHook func(userID string, at time.Time)
	// flushMu serialises record flushes with Purge (hub_purge.go).
	flushMu sync.Mutex
	// oneGuild holds one shared membership per guild (oneGuildLocked).
	oneGuild map[string]*membership
	// renders are the registered renderers, replaced (never changed in
	// place) on registration, so that Render reads them without h.mu: the
	// sockets render while the publisher holds h.mu to notify them.
	renders atomic.Pointer[[]RenderFunc]
	// purgeHooks remove what other components keep (hub_purge.go).
	purgeHooks []PurgeHook

	renderMem renderBudget

	subscriberSets

	kvLocks [64]sync.Mutex // serialise KV writes per user (striped)
	stats   hubStats

	flushStop chan struct{}
	flushDone chan struct{}

	synced   chan struct{} // closed by MarkSynced
	syncOnce sync.Once
}

// NewHub returns an empty hub. Call Open before use.
func NewHub(opts HubOptions) *Hub {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RecordFlushInterval <= 0 {
		opts.RecordFlushInterval = 2 * time.Second
	}
	if opts.RenderCacheBytes <= 0 {
		opts.RenderCacheBytes = 256 << 20
	}
	return &Hub{
		opts:      opts,
		renderMem: renderBudget{limit: opts.RenderCacheBytes},
		log:       opts.Logger,
		kv:        map[string]KV{},
		kvVer:     map[string]int64{},
		records:   map[string]UserRecord{},
		synced:    make(chan struct{}),
		subscriberSets: subscriberSets{
			subsAll:    map[*Subscription]struct{}{},
			subsByUser: map[string]map[*Subscription]struct{}{},
		},
	}
}

// Open loads every stored KV map and user record and starts the background
// writer of user records.
func (h *Hub) Open(ctx context.Context) error {
	if h.opts.Store != nil {
		if err := h.loadKV(ctx); err != nil {
			return err
		}
		if err := h.opts.Store.LoadUsers(ctx, func(r UserRecord) error {
			h.mu.Lock()
			h.records[r.ID] = r
			h.mu.Unlock()
			return nil
		}); err != nil {
			return err
		}
		if err := h.loadOptOuts(ctx); err != nil {
			return err
		}
	}
	h.flushStop = make(chan struct{})
	h.flushDone = make(chan struct{})
	go h.flushLoop()
	return nil
}

// loadKV reads every stored KV map (with its version when VersionedKV).
func (h *Hub) loadKV(ctx context.Context) error {
	if vs, ok := h.opts.Store.(VersionedKVStore); ok && h.opts.VersionedKV {
		return vs.LoadKVVersions(ctx, func(userID string, kv KV, ver int64) error {
			h.installKV(userID, kv, ver, true)
			return nil
		})
	}
	return h.opts.Store.LoadKV(ctx, func(userID string, kv KV) error {
		h.mu.Lock()
		h.kv[userID] = kv
		h.mu.Unlock()
		return nil
	})
}

// Close writes pending user records and stops the background writer.
func (h *Hub) Close() error {
	if h.flushStop != nil {
		close(h.flushStop)
		<-h.flushDone
		h.flushStop = nil
	}
	return nil
}

// RegisterRenderer adds a dialect's renderer. Register every renderer before
// users arrive (a snapshot's cache grows to the new count on its next read).
func (h *Hub) RegisterRenderer(fn RenderFunc) RendererID {
	h.mu.Lock()
	defer h.mu.Unlock()
	var fns []RenderFunc
	if old := h.renders.Load(); old != nil {
		fns = append(fns, *old...)
	}
	fns = append(fns, fn)
	h.renders.Store(&fns)
	return RendererID(len(fns) - 1)
}

// Render returns u rendered by the renderer id, built once per snapshot
// (and again if the render cache evicted it).
func (h *Hub) Render(id RendererID, u *User) []byte {
	fns := *h.renders.Load()
	return u.renders.get(id, len(fns), u, fns[id], &h.renderMem)
}

// Get returns the monitored user's current snapshot. A user who opted out
// is not monitored as far as every reader is concerned.
func (h *Hub) Get(userID string) (*User, bool) {
	h.mu.RLock()
	u, ok := h.users.get(userID)
	if ok && h.hiddenLocked(userID) {
		u, ok = nil, false
	}
	h.mu.RUnlock()
	return u, ok
}

// Count returns the number of monitored users (opted-out ones excluded).
func (h *Hub) Count() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.users.len() - h.hiddenMembersLocked()
}

// All returns a snapshot of every monitored user (opted-out ones
// excluded), in no particular order.
func (h *Hub) All() []*User {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]*User, 0, h.users.len())
	for id, u := range h.users.all() {
		if !h.hiddenLocked(id) {
			out = append(out, u)
		}
	}
	return out
}

// Page returns up to limit monitored users whose ids sort after `after`
// (numerically, as snowflakes), in ascending id order.
func (h *Hub) Page(after string, limit int) []*User {
	all := h.All()
	sort.Slice(all, func(i, j int) bool { return idLess(all[i].ID, all[j].ID) })
	start := sort.Search(len(all), func(i int) bool { return idLess(after, all[i].ID) })
	if after == "" {
		start = 0
	}
	end := min(len(all), start+limit)
	return all[start:end]
}

// Record returns what Halyard remembers about a user, monitored or not.
func (h *Hub) Record(userID string) (UserRecord, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.recordOfLocked(userID)
}

// SetGitHubLogin links (or with "" unlinks) a GitHub login to the user's record.
func (h *Hub) SetGitHubLogin(userID, login string) {
	h.mu.Lock()
	r := h.records[userID]
	r.ID = userID
	r.GitHubLogin = login
	if _, monitored := h.users.get(userID); monitored && login == "" {
		delete(h.records, userID) // the snapshot holds the rest
	} else {
		h.records[userID] = r
	}
	h.dirty.add(userID)
	h.mu.Unlock()
}

// idLess orders snowflakes numerically (shorter is smaller), then bytewise.
func idLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// replace installs a new snapshot for a monitored user and publishes ev.
// Called with h.mu held for writing.
func (h *Hub) replace(u *User, typ EventType) {
	h.install(u)
	h.publishLocked(Event{Type: typ, User: u})
}

// install stores a new snapshot without publishing: for changes no client
// sees (the list of guilds). Called with h.mu held for writing.
func (h *Hub) install(u *User) {
	h.users.put(u)
}

// publishLocked fans ev out to the user's and the all-users subscribers
// without blocking. Called with h.mu held, so events of one user are
// delivered in the order their changes happened. Nothing about a user who
// opted out is published.
func (h *Hub) publishLocked(ev Event) {
	if h.hiddenLocked(ev.User.ID) {
		return
	}
	n, dropped := h.fanOut(ev)
	h.stats.observe(n, dropped)
}

// Package history records the presence history of the users who turned it
// on (`.history on`): the stretches of time each held a status and ran
// each activity, kept for a retention period. It watches the hub through
// a subscription to the opted-in users only, so everyone else costs the
// hot path nothing; it turns their changes into closed intervals in
// memory and writes them in batches from its own goroutine, so the
// gateway never waits on the database.
//
// Bursts are folded: a user's change within Resolution of their previous
// recorded change is recorded when the resolution has passed, with the
// presence the user has then. A user flapping ten times a second thus
// writes one change per Resolution, not ten per second, and a calm user's
// changes are recorded at the moment they happen.
package history

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/halyardhq/halyard/core"
)

// Defaults for Options' zero values.
const (
	// DefaultRetention is how long history is kept.
	DefaultRetention = 30 * 24 * time.Hour
	// DefaultWindow is the window the API answers when none is asked.
	DefaultWindow = 7 * 24 * time.Hour
	// DefaultResolution is the least time between two recorded changes
	// of one user.
	DefaultResolution = 10 * time.Second
	// DefaultFlushInterval is how often recorded intervals are written.
	DefaultFlushInterval = 5 * time.Second
	// DefaultSplitAfter is the longest an open interval stays only in
	// memory: it is then written as closed and continued, so a crash
	// loses at most this much of a user's history.
	DefaultSplitAfter = 10 * time.Minute
)

// Bounds of the recorder's memory and of one write.
const (
	// flushSize starts a write before the flush interval when this many
	// intervals wait.
	flushSize = 2000
	// maxPending bounds what waits for a database that does not take
	// writes; beyond it the oldest intervals are dropped (and logged).
	maxPending = 200_000
	// queueSize is the subscription's event queue.
	queueSize = 1 << 16
	// drainGap is the least time between two drains of the event queue
	// (queueSize events in drainGap is 6.5 million a second).
	drainGap = 10 * time.Millisecond
	// tickEvery is how often deferred changes and long intervals are
	// looked at.
	tickEvery = time.Second
	// pruneEvery is how often expired history is deleted (FerretDB has
	// no TTL index).
	pruneEvery = time.Hour
	// closeTimeout bounds the last write at Close.
	closeTimeout = 10 * time.Second
)

// Options configures a Recorder.
type Options struct {
	Hub *core.Hub
	// Store keeps the history; nil records nothing (history is then
	// unavailable: the database was not reachable at start).
	Store  core.HistoryStore
	Logger *slog.Logger
	// Now is the clock (tests script a day with it); time.Now when nil.
	Now           func() time.Time
	Retention     time.Duration
	Resolution    time.Duration
	FlushInterval time.Duration
	SplitAfter    time.Duration
	// Writes reports whether this node writes the user's intervals to the
	// store (cluster.go): on a cluster only the holder of the user's
	// gateway shard does; every node records them in memory. Nil: this
	// node writes every user's (a single node).
	Writes func(u *core.User) bool
	// ExternalURL and Prefix are for the bot's replies.
	ExternalURL string
	Prefix      string
}

// Recorder records the history of opted-in users and answers timelines.
type Recorder struct {
	opts Options
	log  *slog.Logger

	wake chan struct{}
	stop chan struct{} // closed by Close: the loop and loads end
	done chan struct{} // closed when the loop ended

	// writeMu serialises a write of recorded intervals with Clear and
	// Purge, so a batch taken before a deletion is not written after it.
	writeMu sync.Mutex

	mu       sync.Mutex
	running  bool // the loop runs (between Open and Close)
	sub      *core.Subscription
	users    map[string]*tracked // opted-in users
	pending  []core.HistoryInterval
	inflight []core.HistoryInterval // being written; still answered by Timeline
	dropped  int64
	written  int64
	events   []core.Event // drain buffer, reused
	// announce tells the other nodes of a cluster about an opt-in change
	// made here (SetAnnouncer); nil on a single node.
	announce func(userID, change string)
	// forgets counts clears and purges (catchUpLater).
	forgets uint64
}

// Stats are the recorder's figures for /metrics.
type Stats struct {
	Users   int   // users with history on
	Pending int   // intervals recorded, not yet written
	Written int64 // intervals written since start
	Dropped int64 // intervals dropped while the database refused writes
}

// Stats returns the recorder's figures now.
func (r *Recorder) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Stats{Users: len(r.users), Pending: len(r.pending) + len(r.inflight), Written: r.written, Dropped: r.dropped}
}

// tracked is an opted-in user's open intervals.
type tracked struct {
	present     bool // intervals are open (the user is monitored)
	status      core.Status
	statusStart time.Time
	acts        map[core.HistoryActivity]time.Time // open activity → start
	last        time.Time                          // last recorded change
	// deferred: a change waits for the resolution, and the user is not
	// followed meanwhile.
	deferred bool
	// closed are the user's closed intervals within the retention, written
	// or not: timelines are answered from them, never from the database
	// (FerretDB would read the whole collection for each).
	closed []core.HistoryInterval
	// loading is open until the stored intervals are in closed (nil
	// once they are, or without a store).
	loading chan struct{}
	// writing: this node writes the user's intervals (Options.Writes, as
	// of the last change or handover); the others are kept in memory only.
	writing bool
}

// New returns a recorder; Open starts it.
func New(opts Options) *Recorder {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if opts.Resolution <= 0 {
		opts.Resolution = DefaultResolution
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = DefaultFlushInterval
	}
	if opts.SplitAfter <= 0 {
		opts.SplitAfter = DefaultSplitAfter
	}
	if opts.Prefix == "" {
		opts.Prefix = "."
	}
	return &Recorder{opts: opts, log: opts.Logger, users: map[string]*tracked{},
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
}

// Retention returns how long history is kept.
func (r *Recorder) Retention() time.Duration { return r.opts.Retention }

// Open loads the opt-ins, follows those users on the hub and starts the
// background writer. It removes what Hub.Purge removes (AddPurgeHook).
func (r *Recorder) Open(ctx context.Context) error {
	if err := r.open(ctx); err != nil {
		return err
	}
	r.mu.Lock()
	r.running = true
	r.mu.Unlock()
	go r.loop()
	return nil
}

// open is Open without the background loop (tests drive it by hand).
func (r *Recorder) open(ctx context.Context) error {
	var ids []string
	if r.opts.Store != nil {
		if err := r.opts.Store.LoadHistoryUsers(ctx, func(id string) error {
			ids = append(ids, id)
			return nil
		}); err != nil {
			return err
		}
	}
	r.mu.Lock()
	r.sub = r.opts.Hub.SubscribeNotify(queueSize, r.notify)
	loading := make(chan struct{})
	for _, id := range ids {
		r.users[id] = r.newTracked(loading)
	}
	if len(ids) > 0 {
		go r.load("", loading)
		r.catchUpLater("")
	}
	r.sub.Add(ids...)
	now := r.now()
	for _, id := range ids {
		if u, ok := r.opts.Hub.Get(id); ok {
			r.applyLocked(id, r.users[id], u, now)
		}
	}
	r.mu.Unlock()
	r.opts.Hub.AddPurgeHook(r.Purge)
	return nil
}

// Close closes every open interval now, writes what is recorded and
// stops.
func (r *Recorder) Close() error {
	r.mu.Lock()
	running := r.running
	r.running = false
	r.mu.Unlock()
	if !running {
		return nil
	}
	close(r.stop)
	<-r.done
	r.mu.Lock()
	now := r.now()
	for id, t := range r.users {
		r.closeAllLocked(id, t, now)
	}
	r.sub.Close()
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	return r.flush(ctx)
}

// notify wakes the loop; it runs under the hub's locks, so it never
// blocks.
func (r *Recorder) notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// loop applies events as they come, deferred changes and splits every
// tick, and writes every flush interval (or sooner when much waits).
func (r *Recorder) loop() {
	defer close(r.done)
	tick := time.NewTicker(tickEvery)
	defer tick.Stop()
	lastFlush, lastPrune := time.Now(), time.Time{}
	for {
		select {
		case <-r.stop:
			return
		case <-r.wake:
			r.applyEvents()
			// Let events gather before the next drain: under a flood
			// this goroutine then wakes drainGap apart rather than once
			// per event, which cost the gateway's goroutines their core.
			time.Sleep(drainGap)
		case <-tick.C:
			r.tick()
		}
		if r.opts.Store == nil {
			continue
		}
		r.mu.Lock()
		n := len(r.pending)
		r.mu.Unlock()
		if n >= flushSize || (n > 0 && time.Since(lastFlush) >= r.opts.FlushInterval) {
			if err := r.flush(context.Background()); err != nil {
				r.log.Warn("history: writing recorded intervals failed; retrying", "intervals", n, "err", err)
			}
			lastFlush = time.Now()
		}
		if time.Since(lastPrune) >= pruneEvery {
			lastPrune = time.Now()
			cutoff := r.now().Add(-r.opts.Retention)
			r.mu.Lock()
			r.pruneLocked(cutoff)
			r.mu.Unlock()
			if _, err := r.opts.Store.PruneHistory(context.Background(), cutoff); err != nil {
				r.log.Warn("history: deleting expired history failed", "err", err)
			}
		}
	}
}

// loadRetry is how long a failed load of stored history waits to retry.
const loadRetry = 10 * time.Second

// load reads the stored history that is still within the retention (of
// userID, or of every opted-in user when "") into the users it belongs
// to whose loading is done, and closes done. It retries until it
// succeeds or the recorder stops; meanwhile timelines wait.
func (r *Recorder) load(userID string, done chan struct{}) {
	for {
		found := map[string][]core.HistoryInterval{}
		cutoff := r.now().Add(-r.opts.Retention)
		err := r.opts.Store.LoadHistory(context.Background(), cutoff, userID, func(iv core.HistoryInterval) error {
			found[iv.UserID] = append(found[iv.UserID], iv)
			return nil
		})
		if err == nil {
			r.mu.Lock()
			for id, t := range r.users {
				if t.loading == done {
					t.closed = mergeLoaded(found[id], t.closed)
					t.loading = nil
				}
			}
			r.mu.Unlock()
			close(done)
			return
		}
		r.log.Warn("history: loading the stored history failed; retrying", "user", userID, "err", err)
		select {
		case <-time.After(loadRetry):
		case <-r.stop:
			return
		}
	}
}

// mergeLoaded puts the stored intervals before those in memory, leaving
// out those memory holds already (closed since the load began, or loaded
// before: a cluster node reloads a user's history after a restore).
// Overlapping ones that remain are merged by timelines.
func mergeLoaded(stored, held []core.HistoryInterval) []core.HistoryInterval {
	if len(held) == 0 {
		return stored
	}
	keys := make(map[historyKey]bool, len(held))
	for _, iv := range held {
		keys[keyOf(iv)] = true
	}
	out := make([]core.HistoryInterval, 0, len(stored)+len(held))
	for _, iv := range stored {
		if !keys[keyOf(iv)] {
			out = append(out, iv)
		}
	}
	return append(out, held...)
}

// prune forgets the closed intervals that ended before cutoff.
func (r *Recorder) pruneLocked(cutoff time.Time) {
	for _, t := range r.users {
		kept := t.closed[:0]
		for _, iv := range t.closed {
			if iv.End.After(cutoff) {
				kept = append(kept, iv)
			}
		}
		clear(t.closed[len(kept):])
		t.closed = kept
	}
}

// flush writes the recorded intervals; on failure they wait for the next
// flush.
func (r *Recorder) flush(ctx context.Context) error {
	if r.opts.Store == nil {
		return nil
	}
	r.writeMu.Lock()
	defer r.writeMu.Unlock()
	r.mu.Lock()
	batch := r.pending
	r.pending = nil
	r.inflight = batch
	r.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	err := r.opts.Store.AppendHistory(ctx, batch)
	r.mu.Lock()
	r.inflight = nil
	if err == nil {
		r.written += int64(len(batch))
	} else {
		// Batches of it already written are written again on the retry:
		// a timeline merges the duplicates (finish), so they cost space
		// until they expire, never a wrong answer.
		r.pending = append(batch, r.pending...)
		if over := len(r.pending) - maxPending; over > 0 {
			r.pending = r.pending[over:]
			r.dropped += int64(over)
		}
	}
	r.mu.Unlock()
	return err
}

// Flush writes what is recorded now (tests, and Close).
func (r *Recorder) Flush(ctx context.Context) error { return r.flush(ctx) }

// now is the clock to the millisecond, the precision the store keeps, so
// an interval read back meets the one that continues it.
func (r *Recorder) now() time.Time { return r.opts.Now().UTC().Truncate(time.Millisecond) }

package storage

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/halyardhq/halyard/core"
)

// unreachableError is Open's error when the database did not answer at
// all (as opposed to a bad URI or a refused write concern).
type unreachableError struct{ msg string }

func (e *unreachableError) Error() string { return e.msg }

// IsUnreachable reports whether Open failed only because the database did
// not answer, so that trying again later may succeed.
func IsUnreachable(err error) bool {
	var u *unreachableError
	return errors.As(err, &u)
}

// errNotReached is what a Deferred store answers before its database has
// been reached and loaded; core maps it to EUNAVAILABLE (503-class).
var errNotReached = errors.New("storage: the database has not been reached since start")

// Deferred is a store whose database was unreachable when Halyard started.
// Halyard serves presence meanwhile: until the database answers, loads
// yield nothing and every write fails as unavailable. A background loop
// keeps opening the database; once it opens, the onOpen callback loads
// what it must (tokens, KV, user records) through this store, and only
// after that do writes go through, so no write can replace a stored KV map
// that was never loaded.
type Deferred struct {
	log *slog.Logger
	cfg Config

	mu      sync.RWMutex
	store   *Store // nil until opened
	loaded  bool   // onOpen succeeded: writes go through
	stop    chan struct{}
	done    chan struct{} // closed when the Start loop ends
	once    sync.Once
	started atomic.Bool
}

// NewDeferred returns a store for cfg's database that refuses writes
// until Start's background loop has opened and loaded it.
func NewDeferred(cfg Config) *Deferred {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Deferred{log: cfg.Logger, cfg: cfg, stop: make(chan struct{}), done: make(chan struct{})}
}

// Start opens the database in the background, every retry until it
// succeeds or Close is called. onOpen runs once the database opened, with
// loads already passing through; when it returns nil writes go through,
// else the store is closed and opening starts again. Call Start once.
func (d *Deferred) Start(retry time.Duration, onOpen func(ctx context.Context) error) {
	if d.started.Swap(true) {
		return // the first loop owns done
	}
	go d.run(d.cfg, retry, onOpen)
}

func (d *Deferred) run(cfg Config, retry time.Duration, onOpen func(ctx context.Context) error) {
	defer close(d.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-d.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		s, err := Open(ctx, cfg)
		if err == nil {
			d.mu.Lock()
			d.store = s
			d.mu.Unlock()
			if err = onOpen(ctx); err == nil {
				d.mu.Lock()
				d.loaded = true
				d.mu.Unlock()
				d.log.Info("database reached: KV, tokens and user records loaded, writes enabled")
				return
			}
			d.mu.Lock()
			d.store = nil
			d.mu.Unlock()
			_ = s.Close()
		}
		d.log.Warn("database still unreachable: presence is served, KV and token writes answer 503", "err", err, "retry_in", retry)
		select {
		case <-d.stop:
			return
		case <-time.After(retry):
		}
	}
}

// opened returns the store once opened (loads pass), and whether writes
// may go through.
func (d *Deferred) opened() (*Store, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.store, d.loaded
}

// writer returns the store for a write, or errNotReached.
func (d *Deferred) writer() (*Store, error) {
	s, loaded := d.opened()
	if s == nil || !loaded {
		return nil, errNotReached
	}
	return s, nil
}

// Ready reports whether the database was reached and loaded.
func (d *Deferred) Ready() bool {
	_, loaded := d.opened()
	return loaded
}

// Store returns the opened store, or nil before the database was reached.
func (d *Deferred) Store() *Store {
	s, _ := d.opened()
	return s
}

// LoadKV loads through the opened store; before that it yields nothing.
func (d *Deferred) LoadKV(ctx context.Context, fn func(string, core.KV) error) error {
	if s, _ := d.opened(); s != nil {
		return s.LoadKV(ctx, fn)
	}
	return nil
}

// SaveKV fails as unavailable until the database was reached and loaded.
func (d *Deferred) SaveKV(ctx context.Context, userID string, kv core.KV) error {
	s, err := d.writer()
	if err != nil {
		return err
	}
	return s.SaveKV(ctx, userID, kv)
}

// LoadTokenHashes loads through the opened store; before that it yields
// nothing.
func (d *Deferred) LoadTokenHashes(ctx context.Context, fn func(string, []byte) error) error {
	if s, _ := d.opened(); s != nil {
		return s.LoadTokenHashes(ctx, fn)
	}
	return nil
}

// SaveTokenHash fails as unavailable until the database was reached and
// loaded.
func (d *Deferred) SaveTokenHash(ctx context.Context, userID string, hash []byte) error {
	s, err := d.writer()
	if err != nil {
		return err
	}
	return s.SaveTokenHash(ctx, userID, hash)
}

// DeleteTokenHash fails as unavailable until the database was reached and
// loaded.
func (d *Deferred) DeleteTokenHash(ctx context.Context, userID string) error {
	s, err := d.writer()
	if err != nil {
		return err
	}
	return s.DeleteTokenHash(ctx, userID)
}

// LoadUsers loads through the opened store; before that it yields nothing.
func (d *Deferred) LoadUsers(ctx context.Context, fn func(core.UserRecord) error) error {
	if s, _ := d.opened(); s != nil {
		return s.LoadUsers(ctx, fn)
	}
	return nil
}

// SaveUsers fails until the database was reached and loaded; the hub keeps
// the records and writes them on a later flush.
func (d *Deferred) SaveUsers(ctx context.Context, recs []core.UserRecord) error {
	s, err := d.writer()
	if err != nil {
		return err
	}
	return s.SaveUsers(ctx, recs)
}

// InsertUsers is SaveUsers for records the hub never saw stored
// (Store.InsertUsers).
func (d *Deferred) InsertUsers(ctx context.Context, recs []core.UserRecord) error {
	s, err := d.writer()
	if err != nil {
		return err
	}
	return s.InsertUsers(ctx, recs)
}

// DeleteUser fails as unavailable until the database was reached and
// loaded.
func (d *Deferred) DeleteUser(ctx context.Context, userID string) error {
	s, err := d.writer()
	if err != nil {
		return err
	}
	return s.DeleteUser(ctx, userID)
}

// LoadOptOuts loads through the opened store; before that it yields
// nothing.
func (d *Deferred) LoadOptOuts(ctx context.Context, fn func(string, time.Time) error) error {
	if s, _ := d.opened(); s != nil {
		return s.LoadOptOuts(ctx, fn)
	}
	return nil
}

// SaveOptOut fails as unavailable until the database was reached and
// loaded.
func (d *Deferred) SaveOptOut(ctx context.Context, userID string, since time.Time) error {
	s, err := d.writer()
	if err != nil {
		return err
	}
	return s.SaveOptOut(ctx, userID, since)
}

// DeleteOptOut fails as unavailable until the database was reached and
// loaded.
func (d *Deferred) DeleteOptOut(ctx context.Context, userID string) error {
	s, err := d.writer()
	if err != nil {
		return err
	}
	return s.DeleteOptOut(ctx, userID)
}

// Ping fails until the database was reached and loaded.
func (d *Deferred) Ping(ctx context.Context) error {
	s, err := d.writer()
	if err != nil {
		return err
	}
	return s.Ping(ctx)
}

// ProbeWrite fails until the database was reached and loaded, then probes
// the write path (Store.ProbeWrite).
func (d *Deferred) ProbeWrite(ctx context.Context) error {
	s, err := d.writer()
	if err != nil {
		return err
	}
	return s.ProbeWrite(ctx)
}

// Close stops opening and closes the store if it was opened.
func (d *Deferred) Close() error {
	d.once.Do(func() { close(d.stop) })
	if d.started.Load() {
		<-d.done
	}
	if s := d.Store(); s != nil {
		return s.Close()
	}
	return nil
}

var _ core.Store = (*Deferred)(nil)

package main

import (
	"context"
	"fmt"
	"time"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/storage"
)

// deferredRetry is how often Halyard tries again to reach a database that
// was unreachable at start.
const deferredRetry = 5 * time.Second

// openStore opens the database and loads tokens, KV maps and user records
// into m.Tokens and m.Hub. When an external MongoDB (MONGODB_URI) does not
// answer, Halyard still starts: it serves presence, answers KV and token
// writes with each dialect's 503 error, and keeps trying the database in
// the background; once reached, what it stores is loaded and writes go
// through (issue 7: "a MongoDB URI that points nowhere").
func (m *Main) openStore(ctx context.Context, secret []byte) error {
	cfg := &m.Config
	scfg := storage.Config{
		URI: cfg.MongoURI, Database: cfg.MongoName, DataDir: cfg.DataDir, Logger: m.Logger.With("component", "storage"),
		HistoryRetention: cfg.History.HistoryRetention,
	}
	var store core.Store
	s, err := storage.Open(ctx, scfg)
	switch {
	case err == nil:
		m.Store, store = s, s
	case cfg.MongoURI != "" && storage.IsUnreachable(err):
		m.Logger.Warn("starting without the database: presence is served, KV and token writes answer 503 until it is reached", "err", err)
		m.deferred = storage.NewDeferred(scfg)
		store = m.deferred
	default:
		return err
	}

	if m.Tokens, err = core.NewTokens(secret, store); err != nil {
		return err
	}
	m.Hub = core.NewHub(core.HubOptions{Store: store, Logger: m.Logger.With("component", "hub"),
		VersionedKV: m.Config.Cluster.Enabled()}) // several nodes write one store
	if m.deferred != nil {
		m.Tokens.Defer()
		if err := m.Hub.Open(ctx); err != nil { // loads nothing yet
			return err
		}
		m.deferred.Start(deferredRetry, func(ctx context.Context) error {
			if err := m.Tokens.Load(ctx); err != nil {
				return fmt.Errorf("loading API tokens: %v", err)
			}
			if err := m.Hub.LoadStored(ctx); err != nil {
				return fmt.Errorf("loading KV and user records: %v", err)
			}
			return nil
		})
		return nil
	}
	if err := m.Tokens.Load(ctx); err != nil {
		return fmt.Errorf("loading API tokens: %v", err)
	}
	if err := m.Hub.Open(ctx); err != nil {
		return fmt.Errorf("loading KV and user records: %v", err)
	}
	return nil
}

// storeHealth is what readiness asks of the store.
type storeHealth interface {
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// ProbeWrite reports whether it takes a durable write now (a ping
	// alone passed while the embedded store was jammed, issue 12).
	ProbeWrite(ctx context.Context) error
}

// storeHealth returns whichever store Halyard runs on; nil before one is
// open.
func (m *Main) storeHealth() storeHealth {
	switch {
	case m.Store != nil:
		return m.Store
	case m.deferred != nil:
		return m.deferred
	}
	return nil
}

// Package storage keeps Halyard's durable state (KV maps, token hashes,
// user records and opt-outs) in MongoDB through the official driver. With no URI it
// starts an embedded MongoDB-compatible server (FerretDB on SQLite) in
// process, so one code path serves both.
package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/halyardhq/halyard/core"
)

// Defaults for Config's zero values.
const (
	// DefaultDatabase is the database name when Config.Database is empty.
	DefaultDatabase = "halyard"
	// DefaultConnectTimeout bounds Open's first contact with the database.
	DefaultConnectTimeout = 10 * time.Second
	// DefaultOpTimeout bounds every later database operation.
	DefaultOpTimeout = 5 * time.Second
)

// How the driver finds the server again after an outage: an operation
// waits at most serverSelectionTimeout for a server (less when its own
// timeout is shorter), and the driver checks a lost server every
// heartbeatInterval, reconnecting on its own.
const (
	serverSelectionTimeout = 5 * time.Second
	heartbeatInterval      = 2 * time.Second
)

// writeConcernProbeUserID is the _id the write concern probe deletes; no
// Discord user id looks like it.
const writeConcernProbeUserID = "\x00halyard-write-concern-probe"

// Config says which database to use.
type Config struct {
	// URI is a MongoDB connection string (MONGODB_URI). Empty starts the
	// embedded server under DataDir.
	URI string
	// Database is the database name; default DefaultDatabase.
	Database string
	// DataDir holds the embedded server's files: SQLite files in
	// DataDir/db and the socket DataDir/ferretdb.sock (loopback TCP when
	// that path is too long for a unix socket). Required when URI is empty.
	DataDir string
	// Logger receives the store's logs; default slog.Default().
	Logger *slog.Logger
	// ConnectTimeout bounds Open's first contact with the database;
	// default DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// OpTimeout bounds every later operation (one batch of a load), so an
	// outage turns into an error instead of a hang; default
	// DefaultOpTimeout.
	OpTimeout time.Duration
	// EmbeddedAddr serves the embedded database on this TCP address
	// (host:port) instead of the unix socket, for other processes to
	// share (halyard store); EmbeddedURI is then their MONGODB_URI.
	EmbeddedAddr string
	// HistoryRetention is how long presence history is kept: the TTL of
	// MongoDB's index on the history's end times (0: no TTL index).
	HistoryRetention time.Duration
}

// Store is Halyard's MongoDB-backed core.Store.
type Store struct {
	client   *mongo.Client
	users    *mongo.Collection
	kv       *mongo.Collection
	tokens   *mongo.Collection
	kvClaims *mongo.Collection // versioned KV writes of a cluster (kv_versions.go)
	health   *mongo.Collection // the write probe's one document
	optOuts  *mongo.Collection // users who opted out (optouts.go)
	// history holds presence history intervals, historyUsers the opt-ins
	// (history.go).
	history      *mongo.Collection
	historyUsers *mongo.Collection
	// ferretDB: the server is FerretDB (embedded or not), which has no
	// TTL indexes.
	ferretDB  bool
	uri       string // redacted
	embedded  *embeddedServer
	log       *slog.Logger
	opTimeout time.Duration
	// usersBatch is SaveUsers' batch size (saveUsersBatch, or
	// ferretWriteBatch against FerretDB; tests lower it).
	usersBatch int

	// probeTurn admits one write probe at a time; probeOK is when the
	// last one succeeded (guarded by probeTurn).
	probeTurn chan struct{}
	probeOK   time.Time

	// claimsInUse is set once this process wrote or read versioned KV
	// (a cluster node): unversioned KV writes then clear the user's
	// claims. A single node never pays for them.
	claimsInUse atomic.Bool
	// claimWindow is the sweep's window of KV claims (kv_versions.go);
	// tests make it small.
	claimWindow int64

	closeOnce sync.Once
	closeErr  error
}

var _ core.Store = (*Store)(nil)

// Open connects to the database (starting the embedded one when cfg.URI is
// empty), checks that it answers, picks the strongest write concern it
// accepts and creates the indexes. An unparseable URI or a database that
// does not answer within cfg.ConnectTimeout fails with a one-line error
// that never shows the URI's password.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Database == "" {
		cfg.Database = DefaultDatabase
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.OpTimeout <= 0 {
		cfg.OpTimeout = DefaultOpTimeout
	}
	s := &Store{log: cfg.Logger, opTimeout: cfg.OpTimeout, usersBatch: saveUsersBatch, probeTurn: make(chan struct{}, 1),
		claimWindow: claimWindow}

	uri := cfg.URI
	if uri == "" {
		if cfg.DataDir == "" {
			return nil, errors.New("storage: a data dir is required for the embedded database (or set a MongoDB URI)")
		}
		e, err := newEmbeddedServer(cfg.DataDir, ferretLogger(cfg.Logger))
		if err != nil {
			return nil, err
		}
		if cfg.EmbeddedAddr != "" {
			e.socket, e.tcpAddr = "", cfg.EmbeddedAddr
		}
		if err := e.start(); err != nil {
			return nil, err
		}
		s.embedded = e
		uri = e.uri()
	}
	s.uri = redactURI(uri)

	if err := s.connect(ctx, cfg, uri); err != nil {
		s.embedded.stop()
		return nil, err
	}
	return s, nil
}

// connect sets up the client, the collections and the indexes.
func (s *Store) connect(ctx context.Context, cfg Config, uri string) error {
	// The embedded server is FerretDB: bounded from the first command.
	client, err := s.dial(cfg, uri, s.embedded != nil)
	if err != nil {
		return err
	}
	disconnect := func() {
		dctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = s.client.Disconnect(dctx)
	}
	fail := func(err error) error {
		disconnect()
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	if err := client.Ping(pctx, readpref.Primary()); err != nil {
		return fail(&unreachableError{fmt.Sprintf("storage: cannot reach MongoDB at %s: %s", s.uri, cleanReason(connectReason(err), uri))})
	}
	if s.embedded == nil {
		ferret, err := servesFerretDB(pctx, client)
		if err != nil {
			s.log.Warn("storage: buildInfo failed; assuming a MongoDB server", "err", cleanReason(err, uri))
		}
		if ferret {
			s.log.Info("storage: the server is FerretDB; at most a few commands at once and small write batches",
				"max_commands", ferretMaxCommands, "write_batch", ferretWriteBatch)
			disconnect()
			if client, err = s.dial(cfg, uri, true); err != nil {
				return err
			}
		}
	}

	wc, err := s.pickWriteConcern(ctx, client.Database(cfg.Database))
	if err != nil {
		return fail(fmt.Errorf("storage: MongoDB at %s: %s", s.uri, cleanReason(err, uri)))
	}
	db := client.Database(cfg.Database, options.Database().SetWriteConcern(wc))
	s.users = db.Collection("users")
	s.kv = db.Collection("kv")
	s.tokens = db.Collection("tokens")
	s.kvClaims = db.Collection("kv_claims")
	s.health = db.Collection("health")
	s.optOuts = db.Collection("optouts")
	s.history = db.Collection("history")
	s.historyUsers = db.Collection("history_users")
	if err := s.createIndexes(ctx); err != nil {
		return fail(fmt.Errorf("storage: creating indexes at %s: %s", s.uri, cleanReason(err, uri)))
	}
	if err := s.createHistoryIndexes(ctx, cfg.HistoryRetention); err != nil {
		return fail(fmt.Errorf("storage: creating the history indexes at %s: %s", s.uri, cleanReason(err, uri)))
	}
	if err := s.indexEmbeddedIDs(ctx, db, s.users, s.kv, s.tokens, s.kvClaims, s.optOuts, s.historyUsers, s.history); err != nil {
		return fail(fmt.Errorf("storage: embedded database: %s", cleanReason(err, uri)))
	}
	s.log.Info("storage ready", "uri", s.uri, "database", cfg.Database, "embedded", s.Embedded())
	return nil
}

// dial creates the client (without contacting the server). Against
// FerretDB it bounds the connections and the write batches
// (ferretdb_limits.go).
func (s *Store) dial(cfg Config, uri string, ferretDB bool) (*mongo.Client, error) {
	// Our defaults first: settings in the URI override them.
	opts := options.Client().
		SetAppName("halyard").
		SetConnectTimeout(cfg.ConnectTimeout).
		SetServerSelectionTimeout(serverSelectionTimeout).
		SetHeartbeatInterval(heartbeatInterval)
	s.usersBatch = saveUsersBatch
	s.ferretDB = ferretDB
	if ferretDB {
		opts.SetMaxPoolSize(ferretMaxCommands)
		s.usersBatch = ferretWriteBatch
	}
	opts.ApplyURI(uri)
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("storage: invalid MongoDB URI %s: %s", s.uri, cleanReason(err, uri))
	}
	s.client = client
	return client, nil
}

// pickWriteConcern returns the strongest write concern the server accepts:
// majority with journal, else {w:1, j:true}, else the server's default. It
// probes with a delete that matches nothing.
func (s *Store) pickWriteConcern(ctx context.Context, db *mongo.Database) (*writeconcern.WriteConcern, error) {
	journal := true
	candidates := []struct {
		name string
		wc   *writeconcern.WriteConcern
	}{
		{"{w: majority, j: true}", &writeconcern.WriteConcern{W: "majority", Journal: &journal}},
		{"{w: 1, j: true}", &writeconcern.WriteConcern{W: 1, Journal: &journal}},
		{"the server's default", nil},
	}
	var lastErr error
	for _, c := range candidates {
		cctx, cancel := s.opContext(ctx)
		coll := db.Collection("users", options.Collection().SetWriteConcern(c.wc))
		_, err := coll.DeleteOne(cctx, bson.D{{Key: "_id", Value: writeConcernProbeUserID}})
		cancel()
		if err == nil {
			s.log.Info("storage write concern", "write_concern", c.name)
			return c.wc, nil
		}
		var se mongo.ServerError
		if !errors.As(err, &se) {
			return nil, err // not a refusal: the server is gone
		}
		s.log.Warn("storage: the server refuses a write concern", "write_concern", c.name, "err", err)
		lastErr = err
	}
	return nil, lastErr
}

// createIndexes creates the indexes the queries rely on (idempotent).
func (s *Store) createIndexes(ctx context.Context) error {
	cctx, cancel := s.opContext(ctx)
	defer cancel()
	if _, err := s.users.Indexes().CreateOne(cctx, mongo.IndexModel{
		Keys:    bson.D{{Key: "github_login", Value: 1}},
		Options: options.Index().SetName("github_login"),
	}); err != nil {
		return err
	}
	_, err := s.tokens.Indexes().CreateOne(cctx, mongo.IndexModel{
		Keys:    bson.D{{Key: "hash", Value: 1}},
		Options: options.Index().SetName("hash_unique").SetUnique(true),
	})
	return err
}

// opContext bounds one operation, so an outage fails it instead of
// blocking.
func (s *Store) opContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.opTimeout)
}

// Ping reports whether the database answers within the operation timeout.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	if err := s.client.Ping(ctx, readpref.Primary()); err != nil {
		return fmt.Errorf("storage: ping %s: %w", s.uri, err)
	}
	return nil
}

// Close disconnects and, for the embedded database, stops the server and
// waits until its files are closed. Later calls return the first result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), s.opTimeout)
		defer cancel()
		if err := s.client.Disconnect(ctx); err != nil {
			s.closeErr = fmt.Errorf("storage: disconnect: %w", err)
		}
		s.embedded.stop()
	})
	return s.closeErr
}

// URI returns the database's connection string with any password
// redacted, for logs.
func (s *Store) URI() string { return s.uri }

// Embedded reports whether the store runs the embedded database.
func (s *Store) Embedded() bool { return s.embedded != nil }

// EmbeddedURI is the MongoDB URI other processes on this machine reach
// the embedded database at ("mongodb://127.0.0.1:PORT/" when it listens on
// every interface); empty without an embedded database.
func (s *Store) EmbeddedURI() string {
	if s.embedded == nil {
		return ""
	}
	return s.embedded.reachableURI()
}

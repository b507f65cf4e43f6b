// Package lanternmongo imports a Lantern deployment's MongoDB data into
// Halyard's store (docs/compat/lantern.md §8): every storage document of
// `keyvaluestorages` (the KV map and the API token) and every `users`
// document's last-seen time, so users keep their KV, their Lantern tokens
// keep working, and "last seen" survives the move.
//
// Tokens are stored encrypted in Lantern (AES-256-GCM with
// KV_TOKEN_ENCRYPTION_SECRET); each is decrypted once here and only
// Halyard's keyed hash of it is stored. The import makes Halyard match
// Lantern for everything found there and never deletes anything: pairs
// Halyard holds that Lantern does not are kept, a pair present in both
// takes Lantern's value, and an imported token replaces the user's Halyard
// token (as the Lanyard import does). Pairs that break Halyard's store-wide
// rules (more than 512 pairs, …) are skipped and counted by reason. Running
// it twice changes nothing the second time. Run it while Halyard is
// stopped: a running server keeps KV and tokens in memory and would neither
// see the import nor keep it.
package lanternmongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/migrate/report"
)

// Lantern's collection names (mongoose's lower-cased plurals).
const (
	storageCollection = "keyvaluestorages"
	usersCollection   = "users"
)

// Store is what the import writes to: Halyard's KV maps and user records.
type Store interface {
	core.KVStore
	core.UserStore
}

// Options configures an import.
type Options struct {
	// Source is Lantern's database (MONGODB_NAME); the import only reads.
	Source *mongo.Database
	// Secret is Lantern's KV_TOKEN_ENCRYPTION_SECRET, hex-decoded (32 bytes).
	Secret []byte
	// Store is Halyard's store; written directly, not through the hub, so
	// no server needs to run.
	Store Store
	// Tokens is Halyard's token service over its token store, already
	// loaded, keyed with the server's secret.
	Tokens *core.Tokens
	// DryRun reads and checks everything and writes nothing.
	DryRun bool
	// Progress is told how far the import is; nil for none.
	Progress report.Progress
}

// storageDoc is a Lantern keyvaluestorages document; kv keeps its order.
type storageDoc struct {
	UserID string `bson:"userId"`
	Token  *struct {
		IV            string `bson:"iv"`
		EncryptedText string `bson:"encryptedText"`
		Tag           string `bson:"tag"`
	} `bson:"token"`
	KV bson.D `bson:"kv"`
}

// userDoc is a Lantern users document. The ObjectID's time is when
// Lantern started to track the member: Halyard's "monitoring since".
type userDoc struct {
	OID        bson.ObjectID `bson:"_id"`
	ID         string        `bson:"id"`
	LastSeenAt *time.Time    `bson:"lastSeenAt"`
}

// Run imports everything and returns what it did. It stops at the first
// error from either database (what was written before stays written; a
// second run completes it).
func Run(ctx context.Context, opts Options) (*Summary, error) {
	if opts.Source == nil || opts.Store == nil || opts.Tokens == nil {
		return nil, errors.New("lanternmongo: Source, Store and Tokens are required")
	}
	if len(opts.Secret) != 32 {
		return nil, fmt.Errorf("lanternmongo: the Lantern secret must be 32 bytes (64 hex characters), got %d bytes", len(opts.Secret))
	}
	if opts.Progress == nil {
		opts.Progress = report.None
	}
	im := &importer{opts: opts, sum: newSummary(opts.DryRun)}
	if err := im.loadHalyard(ctx); err != nil {
		return nil, err
	}
	nStorage, err := opts.Source.Collection(storageCollection).CountDocuments(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("reading Lantern's %s: %w", storageCollection, err)
	}
	nUsers, err := opts.Source.Collection(usersCollection).CountDocuments(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("reading Lantern's %s: %w", usersCollection, err)
	}
	opts.Progress.Start(int(nStorage + nUsers))
	defer opts.Progress.Finish()
	if err := im.importStorage(ctx); err != nil {
		return im.sum, err
	}
	if err := im.importUsers(ctx); err != nil {
		return im.sum, err
	}
	return im.sum, nil
}

// importer is one run's state: Halyard's current KV and records, loaded
// once, so each user is compared and written at most once.
type importer struct {
	opts    Options
	sum     *Summary
	kv      map[string]core.KV
	records map[string]core.UserRecord
}

func (im *importer) loadHalyard(ctx context.Context) error {
	im.kv = map[string]core.KV{}
	im.records = map[string]core.UserRecord{}
	if err := im.opts.Store.LoadKV(ctx, func(id string, kv core.KV) error { im.kv[id] = kv; return nil }); err != nil {
		return fmt.Errorf("reading Halyard's KV: %w", err)
	}
	if err := im.opts.Store.LoadUsers(ctx, func(r core.UserRecord) error { im.records[r.ID] = r; return nil }); err != nil {
		return fmt.Errorf("reading Halyard's user records: %w", err)
	}
	return nil
}

// each decodes every document of a Lantern collection into a new T and
// calls fn, counting progress.
func each[T any](ctx context.Context, im *importer, coll string, fn func(*T) error) error {
	cur, err := im.opts.Source.Collection(coll).Find(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("reading Lantern's %s: %w", coll, err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var doc T
		if err := cur.Decode(&doc); err != nil {
			im.sum.skip(coll, "undecodable document")
		} else if err := fn(&doc); err != nil {
			return err
		}
		im.opts.Progress.Add(1)
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("reading Lantern's %s: %w", coll, err)
	}
	return nil
}

// importStorage copies every storage document's KV and token.
func (im *importer) importStorage(ctx context.Context) error {
	return each(ctx, im, storageCollection, func(d *storageDoc) error {
		im.sum.StorageDocs++
		if !isSnowflake(d.UserID) {
			im.sum.skip(storageCollection, "user id is not a Discord id")
			return nil
		}
		if err := im.importKV(ctx, d.UserID, d.KV); err != nil {
			return err
		}
		return im.importToken(ctx, d)
	})
}

// importUsers copies every users document's times into Halyard's records:
// the later last-seen time and the earlier monitoring start win, so a
// second run changes nothing.
func (im *importer) importUsers(ctx context.Context) error {
	var batch []core.UserRecord
	flush := func() error {
		if len(batch) == 0 || im.opts.DryRun {
			batch = nil
			return nil
		}
		if err := im.opts.Store.SaveUsers(ctx, batch); err != nil {
			return fmt.Errorf("writing Halyard's user records: %w", err)
		}
		batch = nil
		return nil
	}
	err := each(ctx, im, usersCollection, func(d *userDoc) error {
		im.sum.UserDocs++
		if !isSnowflake(d.ID) {
			im.sum.skip(usersCollection, "user id is not a Discord id")
			return nil
		}
		r, ok := im.records[d.ID]
		next := r
		next.ID = d.ID
		if since := d.OID.Timestamp(); !d.OID.IsZero() && (next.MonitoringSince.IsZero() || since.Before(next.MonitoringSince)) {
			next.MonitoringSince = since.UTC()
		}
		if d.LastSeenAt != nil && d.LastSeenAt.After(next.LastSeen) {
			next.LastSeen = d.LastSeenAt.UTC().Truncate(time.Millisecond)
		}
		if ok && sameRecord(r, next) {
			im.sum.RecordsUnchanged++
			return nil
		}
		im.records[d.ID] = next
		im.sum.RecordsWritten++
		batch = append(batch, next)
		if len(batch) >= 500 {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

func sameRecord(a, b core.UserRecord) bool {
	return a.ID == b.ID && a.MonitoringSince.Equal(b.MonitoringSince) && a.LastSeen.Equal(b.LastSeen)
}

// isSnowflake reports whether s looks like a Discord id.
func isSnowflake(s string) bool {
	if len(s) < 15 || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

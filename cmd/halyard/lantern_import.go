package main

import (
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"

	"github.com/halyardhq/halyard/migrate/lanternmongo"
	"github.com/halyardhq/halyard/migrate/report"
)

const lanternImportUsage = `usage: halyard import lantern-mongo --uri URI --secret HEX [--db NAME] [--dry-run] [--config FILE] [--data-dir DIR]

Copies a Lantern deployment's storage (KV pairs and API tokens) and users'
last-seen times from its MongoDB into Halyard's database (the one the server
uses: MONGODB_URI, or the embedded one in DATA_DIR; tokens are hashed with
TOKEN_SECRET or DATA_DIR/token_secret). URI is Lantern's MONGODB_URI; NAME
its MONGODB_NAME (default: the URI's database); HEX its
KV_TOKEN_ENCRYPTION_SECRET (default: that environment variable). Stop
Halyard first; running the import again changes nothing.
`

// runImportLanternMongo runs `halyard import lantern-mongo`; args follow
// the word "lantern-mongo".
func runImportLanternMongo(ctx context.Context, args []string, environ map[string]string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("halyard import lantern-mongo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, lanternImportUsage) }
	uri := fs.String("uri", "", "Lantern's MongoDB connection string")
	db := fs.String("db", "", "Lantern's database name (default: the URI's)")
	secretHex := fs.String("secret", environ["KV_TOKEN_ENCRYPTION_SECRET"], "Lantern's KV_TOKEN_ENCRYPTION_SECRET (64 hex characters)")
	dryRun := fs.Bool("dry-run", false, "read and check everything, write nothing")
	configPath := fs.String("config", "", "path to config.toml (default ./config.toml when present)")
	dataDir := fs.String("data-dir", "", "Halyard's data directory (default ./data)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "halyard import: %s\n", oneLine(err))
		return code
	}
	if fs.NArg() > 0 {
		return fail(2, fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	secret, err := hex.DecodeString(*secretHex)
	if err != nil || len(secret) != 32 {
		return fail(2, fmt.Errorf("--secret must be Lantern's KV_TOKEN_ENCRYPTION_SECRET: 64 hex characters"))
	}
	if *uri == "" {
		return fail(2, fmt.Errorf("--uri is required: Lantern's MongoDB connection string"))
	}
	if *db == "" {
		*db = uriDatabase(*uri)
	}
	if *db == "" {
		return fail(2, fmt.Errorf("--db is required: the URI names no database"))
	}
	cfg, err := importConfig(*configPath, *dataDir, environ)
	if err != nil {
		return fail(2, err)
	}
	sum, err := importLanternMongo(ctx, cfg, *uri, *db, secret, *dryRun, stderr)
	return importResult(stdout, stderr, sum, err)
}

// importLanternMongo connects to Lantern's database, opens Halyard's store
// and token service as the server does, and runs the import.
func importLanternMongo(ctx context.Context, cfg Config, uri, db string, secret []byte, dryRun bool, stderr io.Writer) (*lanternmongo.Summary, error) {
	// Lantern first: an unreachable one should not leave a fresh data
	// directory behind.
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(10 * time.Second))
	if err != nil {
		return nil, fmt.Errorf("the Lantern MongoDB URI %s: %v", redactedURI(uri), err)
	}
	defer client.Disconnect(context.Background())
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := client.Ping(pctx, readpref.Primary()); err != nil {
		return nil, fmt.Errorf("cannot reach Lantern's MongoDB at %s: %v", redactedURI(uri), err)
	}
	if cfg.Storage.MongoURI == uri && cfg.Storage.MongoName == db {
		return nil, fmt.Errorf("the Lantern database %q is Halyard's own: import from a separate database", db)
	}
	store, tokens, err := openImportTarget(ctx, cfg, dryRun, stderr)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	return lanternmongo.Run(ctx, lanternmongo.Options{Source: client.Database(db), Secret: secret, Store: store,
		Tokens: tokens, DryRun: dryRun, Progress: report.NewFor(stderr, "Lantern documents")})
}

// uriDatabase is the database named in a MongoDB URI's path, or "".
func uriDatabase(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Path, "/")
}

// redactedURI hides a URI's password for messages.
func redactedURI(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return "<unparseable URI>"
	}
	return u.Redacted()
}

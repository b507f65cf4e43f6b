package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/migrate/lanyardredis"
	"github.com/halyardhq/halyard/migrate/report"
	"github.com/halyardhq/halyard/storage"
)

const importUsage = `usage: halyard import lanyard-redis --redis ADDR [--dry-run] [--config FILE] [--data-dir DIR]

Copies a Lanyard deployment's KV and API keys from its Redis into Halyard's
database (the one the server uses: MONGODB_URI, or the embedded one in
DATA_DIR; keys are hashed with TOKEN_SECRET or DATA_DIR/token_secret).
ADDR is host:port or a redis:// URL (default: Lanyard's REDIS_DSN,
REDIS_URI, REDIS_URL or REDIS_HOST). Stop Halyard first; running the
import again changes nothing.
`

// runImport runs `halyard import …`; args follow the word "import".
func runImport(ctx context.Context, args []string, environ map[string]string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "lantern-mongo" {
		return runImportLanternMongo(ctx, args[1:], environ, stdout, stderr)
	}
	if len(args) == 0 || args[0] != "lanyard-redis" {
		fmt.Fprint(stderr, importUsage+"\n"+lanternImportUsage)
		return 2
	}
	fs := flag.NewFlagSet("halyard import lanyard-redis", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, importUsage) }
	addr := fs.String("redis", "", "Lanyard's Redis: host:port or redis://…")
	dryRun := fs.Bool("dry-run", false, "read and check everything, write nothing")
	configPath := fs.String("config", "", "path to config.toml (default ./config.toml when present)")
	dataDir := fs.String("data-dir", "", "Halyard's data directory (default ./data)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "halyard import: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	cfg, err := importConfig(*configPath, *dataDir, environ)
	if err != nil {
		fmt.Fprintf(stderr, "halyard import: %s\n", oneLine(err))
		return 2
	}
	if *addr == "" {
		*addr = lanyardRedisEnv(environ)
	}
	redisOpts, err := redisOptions(*addr)
	if err != nil {
		fmt.Fprintf(stderr, "halyard import: %s\n", oneLine(err))
		return 2
	}

	sum, err := importLanyardRedis(ctx, cfg, redisOpts, *dryRun, stderr)
	return importResult(stdout, stderr, sum, err)
}

// importResult prints an import's summary on stdout (a script may keep
// it) and its error on stderr, for both importers, and returns the exit
// code: 1 when the import failed, even after writing part of it.
func importResult[T any, S interface {
	*T
	fmt.Stringer
}](stdout, stderr io.Writer, sum S, err error) int {
	if sum != nil {
		fmt.Fprintln(stdout, sum)
	}
	if err != nil {
		fmt.Fprintf(stderr, "halyard import: %s\n", oneLine(err))
		return 1
	}
	return 0
}

// importLanyardRedis opens Halyard's store and the token service as the
// server does and runs the import.
func importLanyardRedis(ctx context.Context, cfg Config, redisOpts *redis.Options, dryRun bool, stderr io.Writer) (*lanyardredis.Summary, error) {
	// Redis first: an unreachable one should not leave a fresh data
	// directory behind.
	rdb := redis.NewClient(redisOpts)
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return nil, fmt.Errorf("cannot reach Redis at %s: %v", redisOpts.Addr, err)
	}
	store, tokens, err := openImportTarget(ctx, cfg, dryRun, stderr)
	if err != nil {
		return nil, err
	}
	defer store.Close()

	return lanyardredis.Run(ctx, lanyardredis.Options{Redis: rdb, Store: store, Tokens: tokens, DryRun: dryRun,
		Progress: report.NewFor(stderr, "Redis keys")})
}

// openImportTarget opens Halyard's own store and token service the way the
// server does, for an import to write into. The caller closes the store.
func openImportTarget(ctx context.Context, cfg Config, dryRun bool, stderr io.Writer) (*storage.Store, *core.Tokens, error) {
	if err := os.MkdirAll(cfg.Storage.DataDir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("data directory %s: %v", cfg.Storage.DataDir, err)
	}
	secret, err := importTokenSecret(cfg, dryRun)
	if err != nil {
		return nil, nil, err
	}
	openCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	store, err := storage.Open(openCtx, storage.Config{URI: cfg.Storage.MongoURI, Database: cfg.Storage.MongoName, DataDir: cfg.Storage.DataDir,
		Logger: newLogger(stderr, "warn", "text").With("component", "storage")})
	if err != nil {
		if cfg.Storage.MongoURI == "" {
			return nil, nil, fmt.Errorf("opening Halyard's embedded database in %s (stop Halyard before importing): %v", cfg.Storage.DataDir, err)
		}
		return nil, nil, fmt.Errorf("opening Halyard's database: %v", err)
	}
	tokens, err := core.NewTokens(secret, store)
	if err == nil {
		err = tokens.Load(openCtx)
	}
	if err != nil {
		store.Close()
		return nil, nil, fmt.Errorf("loading API tokens: %v", err)
	}
	return store, tokens, nil
}

// importConfig reads the settings the import shares with the server
// (database, data directory, token secret) the way the server does:
// defaults, config.toml, environment, flags. The bot's settings are not
// needed, so BOT_TOKEN may be unset.
func importConfig(configPath, dataDir string, environ map[string]string) (Config, error) {
	cfg := DefaultConfig()
	if err := loadConfigSources(&cfg, configPath, environ); err != nil {
		return cfg, err
	}
	if dataDir != "" {
		cfg.Storage.DataDir = dataDir
	}
	return cfg, cfg.Storage.Validate()
}

// importTokenSecret is the server's token secret. A dry run does not
// create one: it hashes with a throwaway secret instead.
func importTokenSecret(cfg Config, dryRun bool) ([]byte, error) {
	if dryRun && cfg.Storage.TokenSecret == "" {
		if _, err := os.Stat(filepath.Join(cfg.Storage.DataDir, "token_secret")); errors.Is(err, os.ErrNotExist) {
			return []byte(randomHex(32)), nil
		}
	}
	return loadTokenSecret(cfg.Storage.TokenSecret, cfg.Storage.DataDir)
}

// lanyardRedisEnv is the Redis URL Lanyard itself would use
// (docs/compat/lanyard.md §7): REDIS_DSN, REDIS_URI, REDIS_URL, then REDIS_HOST.
func lanyardRedisEnv(environ map[string]string) string {
	for _, name := range []string{"REDIS_DSN", "REDIS_URI", "REDIS_URL"} {
		if v := environ[name]; v != "" {
			return v
		}
	}
	if h := environ["REDIS_HOST"]; h != "" {
		return "redis://" + h + ":6379"
	}
	return ""
}

// redisOptions parses ADDR: a redis://, rediss:// or unix:// URL, or
// host:port.
func redisOptions(addr string) (*redis.Options, error) {
	if addr == "" {
		return nil, errors.New("--redis is required: host:port or redis://… of Lanyard's Redis")
	}
	if strings.Contains(addr, "://") {
		opts, err := redis.ParseURL(addr)
		if err != nil {
			return nil, fmt.Errorf("--redis: %v", err)
		}
		return opts, nil
	}
	return &redis.Options{Addr: addr}, nil
}

package lanyardredis

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/internal/redistest"
	"github.com/halyardhq/halyard/storage"
)

// Keys as Lanyard stores them: current lnyd_ keys and legacy 32-hex ones.
const (
	key1001   = "lnyd_3f9a0c1e7b2d4a6f8e0c1b2a3d4e5f60"
	key1002   = "0123456789abcdef0123456789abcdef" // legacy
	key1003   = "lnyd_00000000000000000000000000001003"
	stale1001 = "lnyd_99999999999999999999999999999999"
	orphan    = "lnyd_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" // api_key only, owner 1005
)

// seedLanyard writes a Lanyard Redis with good data and every kind of bad
// data an import must survive.
func seedLanyard(t *testing.T, rdb *redis.Client) {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(rdb.HSet(ctx, "lanyard_kv:1001", map[string]any{
		"location": "Los Angeles", "emoji": "🎉", "empty": "", "under_score": "1",
		"bad-key": "x", "not_utf8": "\xff\xfe", "too_long": strings.Repeat("x", 30001),
	}).Err())
	many := map[string]any{}
	for i := range 600 {
		many[fmt.Sprintf("k%03d", i)] = "v"
	}
	must(rdb.HSet(ctx, "lanyard_kv:1002", many).Err())
	must(rdb.HSet(ctx, "lanyard_kv:1003", map[string]any{"shared": "from lanyard", "extra": "y"}).Err())
	must(rdb.HSet(ctx, "lanyard_kv:not_an_id", map[string]any{"a": "b"}).Err())
	must(rdb.Set(ctx, "lanyard_kv:1004", "a string, not a hash", 0).Err())

	for user, key := range map[string]string{"1001": key1001, "1002": key1002, "1003": key1003, "1006": "not a key", "1007": key1001} {
		must(rdb.Set(ctx, "user_api_key:"+user, key, 0).Err())
	}
	for key, owner := range map[string]string{key1001: "1001", key1002: "1002", key1003: "1003", stale1001: "1001", orphan: "1005"} {
		must(rdb.Set(ctx, "api_key:"+key, owner, 0).Err())
	}
	// Keys Lanyard never writes are left alone.
	must(rdb.Set(ctx, "unrelated", "x", 0).Err())
}

type fixture struct {
	store  *storage.Store
	tokens *core.Tokens
	secret []byte
}

func openHalyard(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	store, err := storage.Open(ctx, storage.Config{DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	secret := bytes.Repeat([]byte("s"), 32)
	tokens, err := core.NewTokens(secret, store)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{store: store, tokens: tokens, secret: secret}
}

// reload returns a fresh token service loaded from the store, as a
// restarted server would have.
func (f *fixture) reload(t *testing.T) *core.Tokens {
	t.Helper()
	tokens, _ := core.NewTokens(f.secret, f.store)
	if err := tokens.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return tokens
}

func (f *fixture) kv(t *testing.T) map[string]core.KV {
	t.Helper()
	out := map[string]core.KV{}
	if err := f.store.LoadKV(context.Background(), func(u string, kv core.KV) error { out[u] = kv; return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestImport(t *testing.T) {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: redistest.Start(t)})
	defer rdb.Close()
	seedLanyard(t, rdb)

	f := openHalyard(t)
	// Halyard already holds data for 1003: a pair Lanyard lacks, a pair
	// Lanyard has too, and a token of its own.
	if err := f.store.SaveKV(ctx, "1003", core.KVOf("halyard_only", "kept", "shared", "from halyard")); err != nil {
		t.Fatal(err)
	}
	halyardKey, err := f.tokens.Issue(ctx, "1003")
	if err != nil {
		t.Fatal(err)
	}
	before := f.kv(t)

	run := func(dryRun bool) *Summary {
		t.Helper()
		tokens := f.reload(t)
		sum, err := Run(ctx, Options{Redis: rdb, Store: f.store, Tokens: tokens, DryRun: dryRun})
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}

	// A dry run reports what the import will do and writes nothing.
	dry := run(true)
	if fmt.Sprint(f.kv(t)) != fmt.Sprint(before) {
		t.Fatal("the dry run wrote KV")
	}
	if tokens := f.reload(t); tokens.HasToken("1001") || !tokens.IsToken("1003", halyardKey) {
		t.Fatal("the dry run wrote tokens")
	}
	if !strings.HasPrefix(dry.String(), "dry run, nothing written: would import") {
		t.Fatalf("dry run summary: %s", dry)
	}

	first := run(false)
	t.Logf("first run: %s", first)
	checks := []struct {
		name      string
		got, want int
	}{
		{"KV users", first.KVUsers, 3},
		{"KV users written", first.KVUsersWritten, 3},
		{"pairs written", first.PairsWritten, 4 + 512 + 2},
		{"tokens imported", first.TokensImported, 4},
		{"tokens replaced", first.TokensReplaced, 1},
		{"skipped bad key", first.SkippedPairs["key must be alphanumeric (a-zA-Z0-9_)"], 1},
		{"skipped invalid UTF-8", first.SkippedPairs["value must be valid UTF-8"], 1},
		{"skipped long value", first.SkippedPairs["value must be 30000 characters or less"], 1},
		{"skipped over 512", first.SkippedPairs["user already has 512 pairs"], 600 - 512},
		{"skipped bad token", first.SkippedTokens["not a Lanyard key format"], 1},
		{"skipped shared token", first.SkippedTokens["same key as another user"], 1},
		{"skipped stale api_key", first.SkippedKeys["stale api_key (not the owner's user_api_key)"], 1},
		{"skipped bad id", first.SkippedKeys["no user id in the key name"], 1},
		{"skipped wrong type", first.SkippedKeys["not a hash"], 1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.name, c.got, c.want)
		}
	}
	if dry.String() != strings.Replace(first.String(), "imported", "dry run, nothing written: would import", 1) {
		t.Errorf("dry run and import differ:\n%s\n%s", dry, first)
	}

	kv := f.kv(t)
	if got := fmt.Sprint(kv["1001"]); got != fmt.Sprint(core.KVOf("emoji", "🎉", "empty", "", "location", "Los Angeles", "under_score", "1")) {
		t.Errorf("1001: %s", got)
	}
	if kv["1002"].Len() != 512 || kv["1002"].Value("k000") != "v" || kv["1002"].Value("k511") != "v" {
		t.Errorf("1002 has %d pairs", kv["1002"].Len())
	}
	if got := fmt.Sprint(kv["1003"]); got != fmt.Sprint(core.KVOf("halyard_only", "kept", "shared", "from lanyard", "extra", "y")) {
		t.Errorf("1003: %s", got)
	}

	tokens := f.reload(t)
	for key, owner := range map[string]string{key1001: "1001", key1002: "1002", key1003: "1003", orphan: "1005"} {
		if u, err := tokens.Verify(key); err != nil || u != owner {
			t.Errorf("key of %s: %q %v", owner, u, err)
		}
	}
	for _, key := range []string{stale1001, halyardKey, "not a key"} {
		if u, err := tokens.Verify(key); err == nil {
			t.Errorf("%q works for %s", key, u)
		}
	}
	if tokens.HasToken("1006") || tokens.HasToken("1007") {
		t.Error("a skipped key was stored")
	}
	assertNoPlaintext(t, f.store.URI(), key1001, key1002, key1003, orphan)

	// Running again changes nothing.
	second := run(false)
	t.Logf("second run: %s", second)
	if second.Changed() || second.PairsUnchanged != first.PairsWritten || second.TokensUnchanged != first.TokensImported {
		t.Fatalf("second run changed something: %s", second)
	}
	if fmt.Sprint(f.kv(t)) != fmt.Sprint(kv) {
		t.Fatal("second run changed the KV")
	}
}

// assertNoPlaintext dumps the tokens collection and checks no key appears
// in it, as text or as bytes.
func assertNoPlaintext(t *testing.T, uri string, keys ...string) {
	t.Helper()
	ctx := context.Background()
	cl, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Disconnect(ctx)
	cur, err := cl.Database(storage.DefaultDatabase).Collection("tokens").Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var docs []bson.Raw
	if err := cur.All(ctx, &docs); err != nil || len(docs) == 0 {
		t.Fatalf("tokens dump: %d documents, %v", len(docs), err)
	}
	for _, d := range docs {
		for _, k := range keys {
			hexPart := strings.TrimPrefix(k, core.TokenPrefix)
			raw, _ := hex.DecodeString(hexPart)
			for _, needle := range [][]byte{[]byte(k), []byte(hexPart), raw} {
				if bytes.Contains(d, needle) {
					t.Fatalf("the tokens collection holds %q: %s", k, d)
				}
			}
		}
	}
}

func TestImportRedisDown(t *testing.T) {
	f := openHalyard(t)
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	defer rdb.Close()
	_, err := Run(context.Background(), Options{Redis: rdb, Store: f.store, Tokens: f.tokens})
	if err == nil || !strings.Contains(err.Error(), "cannot reach Redis") {
		t.Fatalf("err = %v", err)
	}
}

package lanternmongo

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/storage"
)

// The test vector of docs/compat/lantern.md §5.2.
const (
	vectorSecret    = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	vectorIV        = "820fc11c7b4e5191cb25ac2b6e3ee4e9"
	vectorEncrypted = "9aeb17506f0d90bae9d8b9ae006c6e5af97f113704bd5ee6bfb856977c57688cba468b61d47ac50c92e5051cf5473db92f8063df946c244045d462732b27048ae5da869e"
	vectorTag       = "8c72794a38cbf083706c039e57f3e97c"
	vectorToken     = "MTExMTExMTExMTExMTExMTExOjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVm"
	vectorUser      = "111111111111111111"
)

func secret(t *testing.T) []byte {
	b, err := hex.DecodeString(vectorSecret)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecryptTokenVector(t *testing.T) {
	got, err := DecryptToken(secret(t), vectorIV, vectorEncrypted, vectorTag)
	if err != nil || got != vectorToken {
		t.Fatalf("got %q, %v", got, err)
	}
	wrong := bytes.Repeat([]byte{1}, 32)
	if _, err := DecryptToken(wrong, vectorIV, vectorEncrypted, vectorTag); err == nil {
		t.Fatal("a wrong secret must not decrypt")
	}
	if _, err := DecryptToken(secret(t), "zz", vectorEncrypted, vectorTag); err == nil {
		t.Fatal("bad hex must fail")
	}
}

// env is Halyard's embedded store with a Lantern database beside it.
type env struct {
	store  *storage.Store
	source *mongo.Database
	tokens *core.Tokens
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := storage.Open(context.Background(), storage.Config{DataDir: t.TempDir(), OpTimeout: 10 * time.Second,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	client, err := mongo.Connect(options.Client().ApplyURI(st.URI()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Disconnect(context.Background()) })
	e := &env{store: st, source: client.Database("lantern")}
	e.tokens = e.loadTokens(t)
	return e
}

// loadTokens returns a fresh token service over the store, as the server
// would load it at start.
func (e *env) loadTokens(t *testing.T) *core.Tokens {
	t.Helper()
	tok, err := core.NewTokens(bytes.Repeat([]byte("h"), 32), e.store)
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return tok
}

func (e *env) insert(t *testing.T, coll string, docs ...any) {
	t.Helper()
	if _, err := e.source.Collection(coll).InsertMany(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
}

func (e *env) run(t *testing.T, dryRun bool) *Summary {
	t.Helper()
	sum, err := Run(context.Background(), Options{Source: e.source, Secret: secret(t), Store: e.store, Tokens: e.tokens, DryRun: dryRun})
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func (e *env) kv(t *testing.T) map[string]core.KV {
	t.Helper()
	out := map[string]core.KV{}
	if err := e.store.LoadKV(context.Background(), func(id string, kv core.KV) error { out[id] = kv; return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func (e *env) records(t *testing.T) map[string]core.UserRecord {
	t.Helper()
	out := map[string]core.UserRecord{}
	if err := e.store.LoadUsers(context.Background(), func(r core.UserRecord) error { out[r.ID] = r; return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestImport(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded database")
	}
	e := newEnv(t)
	ctx := context.Background()
	const (
		userB = "222222222222222222"
		userC = "333333333333333333"
	)
	lastSeen := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	oid := bson.NewObjectIDFromTimestamp(time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC))
	token := bson.D{{Key: "iv", Value: vectorIV}, {Key: "encryptedText", Value: vectorEncrypted}, {Key: "tag", Value: vectorTag}}
	many := bson.D{}
	for i := range 520 {
		many = append(many, bson.E{Key: fmt.Sprintf("k%03d", i), Value: "v"})
	}
	e.insert(t, storageCollection,
		bson.D{{Key: "userId", Value: vectorUser}, {Key: "token", Value: token},
			{Key: "kv", Value: bson.D{{Key: "color", Value: "red"}, {Key: "empty", Value: ""}, {Key: "n", Value: 5}}},
			{Key: "createdAt", Value: time.Now()}, {Key: "updatedAt", Value: time.Now()}},
		// No kv at all, and a token that does not decrypt.
		bson.D{{Key: "userId", Value: userB}, {Key: "token", Value: bson.D{{Key: "iv", Value: vectorIV}, {Key: "encryptedText", Value: "00" + vectorEncrypted[2:]}, {Key: "tag", Value: vectorTag}}}},
		bson.D{{Key: "userId", Value: userC}, {Key: "kv", Value: many}},
		bson.D{{Key: "userId", Value: "not-an-id"}},
	)
	e.insert(t, usersCollection,
		bson.D{{Key: "_id", Value: oid}, {Key: "id", Value: vectorUser}, {Key: "lastSeenAt", Value: lastSeen}},
		bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "id", Value: userB}, {Key: "lastSeenAt", Value: nil}},
	)
	// Halyard already holds a pair Lantern has not, and one Lantern overrides.
	if err := e.store.SaveKV(ctx, vectorUser, core.KVOf("mine", "kept", "color", "blue")); err != nil {
		t.Fatal(err)
	}

	dry := e.run(t, true)
	if dry.TokensImported != 1 || e.kv(t)[vectorUser].Len() != 2 || e.loadTokens(t).HasToken(vectorUser) {
		t.Fatalf("dry run wrote or miscounted: %+v", dry)
	}

	var out bytes.Buffer
	sum := e.run(t, false)
	out.WriteString(sum.String())
	t.Log("\n" + out.String())
	if sum.StorageDocs != 4 || sum.UserDocs != 2 || sum.TokensImported != 1 || sum.TokensPresent != 0 ||
		sum.KVUsersWritten != 2 || sum.Pairs != 2+512 || sum.RecordsWritten != 2 {
		t.Fatalf("summary %+v", sum)
	}
	if sum.SkippedPairs["over the 512-pair limit"] != 8 || sum.SkippedPairs["value is not a string"] != 1 ||
		sum.Skipped["keyvaluestorages: token does not decrypt with this secret"] != 1 ||
		sum.Skipped["keyvaluestorages: user id is not a Discord id"] != 1 {
		t.Fatalf("skipped %v %v", sum.Skipped, sum.SkippedPairs)
	}
	for _, want := range []string{"1 imported (0 replacing another Halyard token)", "8 × over the 512-pair limit"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("summary text lacks %q", want)
		}
	}

	// docs/compat/lantern.md §8: the Lantern token authorises its user after a restart, and
	// the store holds only its hash.
	if owner, err := e.loadTokens(t).Verify(vectorToken); err != nil || owner != vectorUser {
		t.Fatalf("imported token: %q %v", owner, err)
	}
	kv := e.kv(t)
	if want := (core.KVOf("mine", "kept", "color", "red", "empty", "")); fmt.Sprint(kv[vectorUser]) != fmt.Sprint(want) {
		t.Fatalf("KV %v", kv[vectorUser])
	}
	if kv[userC].Len() != 512 || kv[userC].Value("k511") != "v" || kv[userC].Value("k512") != "" {
		t.Fatalf("user C has %d pairs", kv[userC].Len())
	}
	recs := e.records(t)
	if r := recs[vectorUser]; !r.LastSeen.Equal(lastSeen) || !r.MonitoringSince.Equal(oid.Timestamp()) {
		t.Fatalf("record %+v", r)
	}
	if r, ok := recs[userB]; !ok || !r.LastSeen.IsZero() {
		t.Fatalf("record B %+v", r)
	}

	// Idempotent: a second run changes nothing.
	e.tokens = e.loadTokens(t)
	again := e.run(t, false)
	if again.TokensImported != 0 || again.TokensPresent != 1 || again.KVUsersWritten != 0 || again.RecordsWritten != 0 || again.RecordsUnchanged != 2 {
		t.Fatalf("second run %+v", again)
	}
	if fmt.Sprint(e.kv(t)) != fmt.Sprint(kv) {
		t.Fatal("second run changed the KV")
	}
}

func TestImportRejectsBadSecret(t *testing.T) {
	_, err := Run(context.Background(), Options{Source: &mongo.Database{}, Secret: []byte("short"), Store: nil, Tokens: nil})
	if err == nil {
		t.Fatal("want an error")
	}
}

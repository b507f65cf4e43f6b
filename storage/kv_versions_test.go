package storage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/halyardhq/halyard/core"
)

// TestSaveKVVersionConcurrentWritersLoseNothing: writers on separate
// connections (as separate nodes are) add one key each per write to one
// user, each reading, changing and compare-and-setting, retrying on a
// conflict. Every write's key is in the final map and the version counts
// every write once: no two writers won on the same version.
func TestSaveKVVersionConcurrentWritersLoseNothing(t *testing.T) {
	user := uid(t, 1)
	const writers, writes = 3, 40
	smallClaimWindow(t)
	stores := make([]*Store, writers)
	for i := range stores {
		stores[i] = secondClient(t)
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := stores[w]
			for j := range writes {
				for {
					kv, ver, err := st.LoadUserKV(t.Context(), user)
					if err != nil {
						errs <- err
						return
					}
					next := kv.Clone()
					next.Set(fmt.Sprintf("w%d-%d", w, j), "x")
					if _, err := st.SaveKVVersion(t.Context(), user, next, ver); err == nil {
						break
					} else if !errors.Is(err, core.ErrKVVersionConflict) {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	kv, ver, err := shared.LoadUserKV(t.Context(), user)
	if err != nil {
		t.Fatal(err)
	}
	if ver != writers*writes || kv.Len() != writers*writes {
		t.Fatalf("version %d and %d pairs after %d writes", ver, kv.Len(), writers*writes)
	}
	// Old claims were swept meanwhile: what is kept starts at the
	// floor of the last sweep.
	w := shared.claimWindow
	lastSweep := ver / w * w
	claims, err := shared.kvClaims.CountDocuments(t.Context(), bson.D{{Key: "user", Value: user}})
	if err != nil {
		t.Fatal(err)
	}
	if want := ver - (lastSweep - w) + 1; claims != want {
		t.Fatalf("%d claims kept after %d concurrent writes, want %d", claims, ver, want)
	}
}

// TestSaveKVVersionRules: the first write (no document, or one written
// without a version) is version 1; a stale version conflicts and leaves
// the map alone; an emptied map keeps its version, so a writer still
// holding version 0 cannot write over it.
func TestSaveKVVersionRules(t *testing.T) {
	ctx := t.Context()
	user, legacy := uid(t, 1), uid(t, 2)
	one := core.KV{}
	one.Set("a", "1")
	if v, err := shared.SaveKVVersion(ctx, user, one, 0); err != nil || v != 1 {
		t.Fatalf("first write: %d %v", v, err)
	}
	if _, err := shared.SaveKVVersion(ctx, user, core.KV{}, 0); !errors.Is(err, core.ErrKVVersionConflict) {
		t.Fatalf("stale version 0: %v", err)
	}
	if v, err := shared.SaveKVVersion(ctx, user, core.KV{}, 1); err != nil || v != 2 {
		t.Fatalf("emptying: %d %v", v, err)
	}
	if _, err := shared.SaveKVVersion(ctx, user, one, 0); !errors.Is(err, core.ErrKVVersionConflict) {
		t.Fatalf("version 0 over an emptied map: %v", err)
	}
	kv, v, err := shared.LoadUserKV(ctx, user)
	if err != nil || v != 2 || kv.Len() != 0 {
		t.Fatalf("after emptying: %v %d %v", kv, v, err)
	}
	if err := shared.SaveKV(ctx, legacy, one); err != nil { // written as before versions
		t.Fatal(err)
	}
	if v, err := shared.SaveKVVersion(ctx, legacy, core.KV{}, 0); err != nil || v != 1 {
		t.Fatalf("versioned write over an unversioned map: %d %v", v, err)
	}
}

// secondClient returns a store with its own client on the shared
// embedded server, as another node would have.
func secondClient(t *testing.T) *Store {
	t.Helper()
	client, err := mongo.Connect(options.Client().ApplyURI(shared.uri))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Disconnect(context.Background()) })
	db := client.Database(shared.kv.Database().Name())
	return &Store{client: client, kv: db.Collection(shared.kv.Name()), kvClaims: db.Collection(shared.kvClaims.Name()),
		log: shared.log, opTimeout: shared.opTimeout, claimWindow: shared.claimWindow}
}

// smallClaimWindow makes the shared store sweep KV claims every 32
// versions for the test (sweeps in fewer writes) and returns that.
func smallClaimWindow(t *testing.T) int64 {
	old := shared.claimWindow
	shared.claimWindow = 32
	t.Cleanup(func() { shared.claimWindow = old })
	return shared.claimWindow
}

// TestKVClaimsSwept: many writes to one user keep a bounded number of
// claims (the last claimWindow to 2·claimWindow versions), the
// map and version stay right, and a stale writer whose version's claim
// was swept cannot win it again: it conflicts and the map is unchanged.
func TestKVClaimsSwept(t *testing.T) {
	ctx := t.Context()
	user := uid(t, 1)
	w := smallClaimWindow(t)
	writes := 5*w + 7
	var ver int64
	for j := range writes {
		kv, v, err := shared.LoadUserKV(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		kv = kv.Clone()
		kv.Set(fmt.Sprintf("k%d", j%10), fmt.Sprint(j))
		if ver, err = shared.SaveKVVersion(ctx, user, kv, v); err != nil {
			t.Fatal(err)
		}
	}
	if ver != writes {
		t.Fatalf("version %d after %d writes", ver, writes)
	}
	claims, err := shared.kvClaims.CountDocuments(ctx, bson.D{{Key: "user", Value: user}})
	if err != nil {
		t.Fatal(err)
	}
	// The last sweep was at version 5·S and removed everything below 4·S.
	if want := writes - 4*w + 1; claims != want {
		t.Fatalf("%d claims kept after %d writes, want %d", claims, writes, want)
	}

	// A writer that read version 3 long ago: claim 4 was swept, so its
	// insert succeeds, but the write must not count as won.
	stale := core.KV{}
	stale.Set("stale", "1")
	if _, err := shared.SaveKVVersion(ctx, user, stale, 3); !errors.Is(err, core.ErrKVVersionConflict) {
		t.Fatalf("stale write of a swept version: %v", err)
	}
	kv, v, err := shared.LoadUserKV(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	if v != writes || kv.Len() != 10 {
		t.Fatalf("after the stale write: version %d, map %v", v, kv)
	}
	if _, ok := kv.Get("stale"); ok {
		t.Fatal("the stale write is in the map")
	}
	if got, _ := kv.Get(fmt.Sprintf("k%d", (writes-1)%10)); got != fmt.Sprint(writes-1) {
		t.Fatalf("last write lost: %v", kv)
	}
	// A stale writer of a version still kept conflicts as before.
	if _, err := shared.SaveKVVersion(ctx, user, stale, writes-3); !errors.Is(err, core.ErrKVVersionConflict) {
		t.Fatalf("stale write of a kept version: %v", err)
	}
	if n, _ := shared.kvClaims.CountDocuments(ctx, bson.D{{Key: "user", Value: user}}); n != claims {
		t.Fatalf("the stale writes left claims: %d, was %d", n, claims)
	}
}

package lanternmongo

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/halyardhq/halyard/core"
)

// TestImportKeepsSourceOrder: Lantern renders storage in insertion order,
// so the importer stores a user's pairs in the order of the source
// document, and a pair new to a user already in Halyard goes after theirs.
func TestImportKeepsSourceOrder(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded database")
	}
	e := newEnv(t)
	const fresh = "444444444444444444"
	e.insert(t, storageCollection,
		bson.D{{Key: "userId", Value: fresh}, {Key: "kv", Value: bson.D{
			{Key: "zeta", Value: "1"}, {Key: "alpha", Value: "2"}, {Key: "mid", Value: "3"}}}},
		bson.D{{Key: "userId", Value: vectorUser}, {Key: "kv", Value: bson.D{
			{Key: "b", Value: "new"}, {Key: "mine", Value: "lantern"}}}},
	)
	if err := e.store.SaveKV(t.Context(), vectorUser, core.KVOf("mine", "kept", "a", "x")); err != nil {
		t.Fatal(err)
	}
	e.run(t, false)
	kv := e.kv(t)
	if want := core.KVOf("zeta", "1", "alpha", "2", "mid", "3"); !kv[fresh].Equal(want) {
		t.Errorf("new user: %v, want %v", kv[fresh], want)
	}
	if want := core.KVOf("mine", "lantern", "a", "x", "b", "new"); !kv[vectorUser].Equal(want) {
		t.Errorf("merged user: %v, want %v", kv[vectorUser], want)
	}
}

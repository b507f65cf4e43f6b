package storage

import (
	"fmt"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// TestEmbeddedIDLookupsUseIndex checks that the embedded server answers a
// lookup by _id, the filter of every SaveKV, SaveTokenHash and SaveUsers,
// from an index rather than by scanning the collection: FerretDB's own
// query plan names our index on the pushed-down expression.
func TestEmbeddedIDLookupsUseIndex(t *testing.T) {
	s := openTemp(t, Config{})
	for _, coll := range []*mongo.Collection{s.kv, s.tokens, s.users} {
		t.Run(coll.Name(), func(t *testing.T) {
			filter := bson.D{{Key: "_id", Value: "1234567890"}}
			if err := coll.FindOne(t.Context(), filter).Err(); err != mongo.ErrNoDocuments {
				t.Fatalf("FindOne: %v", err)
			}
			var res struct {
				QueryPlanner struct {
					Plan []string `bson:"Plan"`
				} `bson:"queryPlanner"`
				FilterPushdown bool `bson:"filterPushdown"`
			}
			cmd := bson.D{{Key: "explain", Value: bson.D{{Key: "find", Value: coll.Name()}, {Key: "filter", Value: filter}}}}
			if err := coll.Database().RunCommand(t.Context(), cmd).Decode(&res); err != nil {
				t.Fatal(err)
			}
			plan := strings.Join(res.QueryPlanner.Plan, "; ")
			t.Logf("filterPushdown=%v plan: %s", res.FilterPushdown, plan)
			if !res.FilterPushdown {
				t.Error("FerretDB no longer pushes {_id: <string>} down to SQLite")
			}
			if !strings.Contains(plan, "USING INDEX") || !strings.Contains(plan, idPathIndexSuffix) {
				t.Errorf("the lookup by _id does not use %s%s: %s", "<table>", idPathIndexSuffix, plan)
			}
		})
	}
}

// TestEmbeddedIDIndexSurvivesRestart reopens a data dir: the index is
// found, not created twice, and writes by _id still hit the right document.
func TestEmbeddedIDIndexSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	for round := range 2 {
		s, err := Open(t.Context(), Config{DataDir: dir, Logger: testLogger()})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for i := range 5 {
			if err := s.SaveKV(t.Context(), fmt.Sprint(i), map[string]string{"round": fmt.Sprint(round)}); err != nil {
				t.Fatal(err)
			}
		}
		got := loadKV(t, s)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if len(got) != 5 {
			t.Fatalf("round %d: %d users, want 5", round, len(got))
		}
		for u, kv := range got {
			if kv["round"] != fmt.Sprint(round) || len(kv) != 1 {
				t.Errorf("round %d: user %s has %v", round, u, kv)
			}
		}
	}
}

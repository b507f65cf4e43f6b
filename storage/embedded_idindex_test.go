package storage

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/halyardhq/halyard/core"
)

// TestEmbeddedIDLookupsUseIndex checks that the embedded server answers a
// lookup by _id, the filter of every SaveKV, SaveTokenHash and SaveUsers,
// from an index rather than by scanning the collection: FerretDB's own
// query plan names our index on the pushed-down expression.
func TestEmbeddedIDLookupsUseIndex(t *testing.T) {
	s := openTemp(t, Config{})
	for _, coll := range []*mongo.Collection{s.kv, s.tokens, s.users} {
		t.Run(coll.Name(), func(t *testing.T) { assertIDLookupIndexed(t, coll) })
	}
}

// assertIDLookupIndexed checks FerretDB's query plan for a find by _id on
// coll: pushed down, and answered from our index.
func assertIDLookupIndexed(t *testing.T, coll *mongo.Collection) {
	t.Helper()
	filter := bson.D{{Key: "_id", Value: "1234567890"}}
	// A real query first: it refreshes the connection's schema, which
	// an explain alone does not.
	if err := coll.FindOne(t.Context(), filter).Err(); err != nil && err != mongo.ErrNoDocuments {
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
	t.Logf("%s: filterPushdown=%v plan: %s", coll.Name(), res.FilterPushdown, plan)
	if !res.FilterPushdown {
		t.Error("FerretDB no longer pushes {_id: <string>} down to SQLite")
	}
	if !strings.Contains(plan, "USING INDEX") || !strings.Contains(plan, idPathIndexSuffix) {
		t.Errorf("the lookup by _id does not use <table>%s: %s", idPathIndexSuffix, plan)
	}
}

// TestEmbeddedIDIndexAddedToOldDataDir opens a data dir written before the
// index existed (dropped here behind FerretDB's back): Open adds it, and
// the documents are all there.
func TestEmbeddedIDIndexAddedToOldDataDir(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(t.Context(), Config{DataDir: dir, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if err := s.SaveKV(t.Context(), fmt.Sprint(i), core.KVOf("n", fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "db", DefaultDatabase+".sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	var dropped int
	rows, err := db.Query(`SELECT name FROM sqlite_schema WHERE type = 'index' AND name LIKE ?`, "%"+idPathIndexSuffix)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	rows.Close()
	for _, n := range names {
		if _, err := db.Exec(`DROP INDEX ` + quoteSQLiteIdent(n)); err != nil {
			t.Fatal(err)
		}
		dropped++
	}
	db.Close()
	if dropped != 7 {
		t.Fatalf("dropped %d indexes, want 7 (kv, kv_claims, optouts, tokens, users, history_users, history)", dropped)
	}

	s = openTemp(t, Config{DataDir: dir})
	assertIDLookupIndexed(t, s.kv)
	got := loadKV(t, s)
	if len(got) != 50 || got["7"].Value("n") != "7" {
		t.Errorf("after reindexing: %d users, user 7 %v", len(got), got["7"])
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
			if err := s.SaveKV(t.Context(), fmt.Sprint(i), core.KVOf("round", fmt.Sprint(round))); err != nil {
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
			if kv.Value("round") != fmt.Sprint(round) || kv.Len() != 1 {
				t.Errorf("round %d: user %s has %v", round, u, kv)
			}
		}
	}
}

package storage

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
)

func TestUsersSaveAndLoad(t *testing.T) {
	ctx := t.Context()
	defer func(n int) { shared.usersBatch = n }(shared.usersBatch)
	shared.usersBatch = 20 // the embedded server commits each record
	base := time.UnixMilli(1_700_000_000_000).UTC()
	recs := make([]core.UserRecord, 0, 2*shared.usersBatch+10) // three batches
	for i := range cap(recs) {
		recs = append(recs, core.UserRecord{
			ID:              uid(t, i),
			Username:        "user" + uid(t, i),
			MonitoringSince: base.Add(time.Duration(i) * time.Millisecond),
			LastSeen:        base.Add(time.Hour),
		})
	}
	recs[0].GitHubLogin = "octocat"
	recs[1] = core.UserRecord{ID: uid(t, 1)} // only an id
	if err := shared.SaveUsers(ctx, recs); err != nil {
		t.Fatal(err)
	}
	got := loadUsers(t, shared)
	for _, r := range recs {
		if !sameRecord(got[r.ID], r) {
			t.Fatalf("loaded %+v, want %+v", got[r.ID], r)
		}
	}

	// A save replaces the whole record; sub-millisecond time is dropped.
	upd := core.UserRecord{ID: recs[0].ID, Username: "renamed", MonitoringSince: base, LastSeen: base.Add(2*time.Hour + 123456)}
	if err := shared.SaveUsers(ctx, []core.UserRecord{upd}); err != nil {
		t.Fatal(err)
	}
	want := upd
	want.LastSeen = want.LastSeen.Truncate(time.Millisecond)
	if got := loadUsers(t, shared)[upd.ID]; !sameRecord(got, want) {
		t.Errorf("after update %+v, want %+v", got, want)
	}
	if err := shared.SaveUsers(ctx, nil); err != nil {
		t.Errorf("saving no records: %v", err)
	}
}

// TestInsertUsers inserts records in more than one command, some of
// which the store already holds: those are replaced, not refused or kept
// stale, and nothing else is touched.
func TestInsertUsers(t *testing.T) {
	ctx := t.Context()
	base := time.UnixMilli(1_700_000_000_000).UTC()
	rec := func(i int, name string) core.UserRecord {
		return core.UserRecord{ID: uid(t, 5000+i), Username: name, MonitoringSince: base, LastSeen: base.Add(time.Duration(i) * time.Second)}
	}
	old := []core.UserRecord{rec(3, "old3"), rec(insertUsersBatch+7, "old-late"), rec(2*insertUsersBatch+50, "untouched")}
	old[0].GitHubLogin = "octocat"
	if err := shared.SaveUsers(ctx, old); err != nil {
		t.Fatal(err)
	}
	recs := make([]core.UserRecord, 0, insertUsersBatch+20) // two commands
	for i := range cap(recs) {
		recs = append(recs, rec(i, fmt.Sprint("new", i)))
	}
	if err := shared.InsertUsers(ctx, recs); err != nil {
		t.Fatal(err)
	}
	got := loadUsers(t, shared)
	for _, r := range recs {
		if !sameRecord(got[r.ID], r) {
			t.Fatalf("after insert %+v, want %+v", got[r.ID], r)
		}
	}
	if !sameRecord(got[old[2].ID], old[2]) {
		t.Errorf("a record not in the insert is %+v, want %+v", got[old[2].ID], old[2])
	}
	if err := shared.InsertUsers(ctx, nil); err != nil {
		t.Errorf("inserting no records: %v", err)
	}
}

func TestUsersGitHubLoginIndex(t *testing.T) {
	cur, err := shared.users.Indexes().List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var idx []struct {
		Name string         `bson:"name"`
		Key  map[string]any `bson:"key"`
	}
	if err := cur.All(t.Context(), &idx); err != nil {
		t.Fatal(err)
	}
	for _, i := range idx {
		if _, ok := i.Key["github_login"]; ok {
			return
		}
	}
	t.Errorf("no github_login index in %+v", idx)
}

// BenchmarkSaveNewUsers writes 10 000 records the store does not hold,
// as after a fresh start: SaveUsers' replaces against InsertUsers'
// inserts, on the embedded server with its FerretDB batch bound.
func BenchmarkSaveNewUsers(b *testing.B) {
	const n = 10_000
	base := time.UnixMilli(1_700_000_000_000).UTC()
	for _, way := range []string{"replace", "insert"} {
		b.Run(way, func(b *testing.B) {
			s, err := Open(b.Context(), Config{DataDir: b.TempDir(), Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			round := 0
			for b.Loop() {
				recs := make([]core.UserRecord, n)
				for i := range recs {
					id := scaleUserID(round*n + i)
					recs[i] = core.UserRecord{ID: id, Username: "user" + id, MonitoringSince: base, LastSeen: base}
				}
				round++
				save := s.SaveUsers
				if way == "insert" {
					save = s.InsertUsers
				}
				if err := save(b.Context(), recs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/record")
		})
	}
}

package storage

import (
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

package storage

import (
	"errors"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
)

// TestDeleteUser: the record is gone from the collection (a fresh load does
// not see it), the neighbours stay, and deleting an absent record succeeds.
func TestDeleteUser(t *testing.T) {
	ctx := t.Context()
	at := time.UnixMilli(1_700_000_000_000).UTC()
	gone, kept := uid(t, 1), uid(t, 2)
	recs := []core.UserRecord{
		{ID: gone, Username: "gone", MonitoringSince: at, LastSeen: at, GitHubLogin: "octocat"},
		{ID: kept, Username: "kept", MonitoringSince: at},
	}
	if err := shared.SaveUsers(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if err := shared.DeleteUser(ctx, gone); err != nil {
		t.Fatal(err)
	}
	got := loadUsers(t, shared)
	if r, ok := got[gone]; ok {
		t.Errorf("deleted record still loads: %+v", r)
	}
	if !sameRecord(got[kept], recs[1]) {
		t.Errorf("neighbour %+v, want %+v", got[kept], recs[1])
	}
	n, err := shared.users.CountDocuments(ctx, map[string]string{"_id": gone})
	if err != nil || n != 0 {
		t.Errorf("documents with the deleted id: %d, %v", n, err)
	}
	if err := shared.DeleteUser(ctx, gone); err != nil {
		t.Errorf("deleting an absent record: %v", err)
	}
}

// TestDeferredDeleteUserBeforeOpen: before the database was reached a
// purge cannot be honoured, so it fails as unreachable (503 to the admin)
// rather than pretending the record is gone.
func TestDeferredDeleteUserBeforeOpen(t *testing.T) {
	d := NewDeferred(Config{})
	defer d.Close()
	if err := d.DeleteUser(t.Context(), "1"); !errors.Is(err, errNotReached) {
		t.Fatalf("DeleteUser before open: %v, want the unreachable error", err)
	}
}

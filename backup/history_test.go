package backup_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/halyardhq/halyard/backup"
	"github.com/halyardhq/halyard/core"
)

// TestHistoryRoundTrip: history users and intervals (statuses, and
// activities with and without an application) come back as written,
// after the opt-outs, times to the millisecond; the header declares the
// section only when the backup holds history.
func TestHistoryRoundTrip(t *testing.T) {
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 8_900_000, time.UTC)
	ivs := []core.HistoryInterval{
		{UserID: "7", Status: core.StatusDND, Start: t0, End: t0.Add(time.Hour)},
		{UserID: "7", Activity: core.HistoryActivity{Name: "Factorio", Type: 0, ApplicationID: "1234567890"}, Start: t0, End: t0.Add(90 * time.Minute)},
		{UserID: "8", Activity: core.HistoryActivity{Name: "Spotify", Type: 2}, Start: t0.Add(time.Minute), End: t0.Add(2 * time.Minute)},
	}
	h := backup.NewHeader("test", time.Now(), "", backup.Counts{OptOuts: 1, HistoryUsers: 2, History: len(ivs)})
	if h.Sections[backup.SectionHistory] != 1 {
		t.Fatalf("sections %v", h.Sections)
	}
	if h := backup.NewHeader("test", time.Now(), "", backup.Counts{Users: 1}); h.Sections[backup.SectionHistory] != 0 {
		t.Fatalf("a backup without history declares it: %v", h.Sections)
	}
	var buf bytes.Buffer
	w, err := backup.NewWriter(&buf, h)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.OptOut(core.OptOut{UserID: "1", Since: t0}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"7", "8"} {
		if err := w.HistoryUser(id); err != nil {
			t.Fatal(err)
		}
	}
	for _, iv := range ivs {
		if err := w.Interval(iv); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	items, err := readAll(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 6 || items[0].Kind != backup.KindOptOut {
		t.Fatalf("items %+v", items)
	}
	for i, id := range []string{"7", "8"} {
		if it := items[1+i]; it.Kind != backup.KindHistoryUser || it.HistoryUser != id {
			t.Errorf("history user %d: %+v", i, it)
		}
	}
	for i, want := range ivs {
		want.Start, want.End = want.Start.Truncate(time.Millisecond), want.End.Truncate(time.Millisecond)
		got := items[3+i]
		if got.Kind != backup.KindInterval || got.Interval.UserID != want.UserID || got.Interval.Status != want.Status ||
			got.Interval.Activity != want.Activity || !got.Interval.Start.Equal(want.Start) || !got.Interval.End.Equal(want.End) {
			t.Errorf("interval %d: %+v, want %+v", i, got.Interval, want)
		}
	}
}

// TestHistoryRefused: every bad history line is refused with a message
// saying what is wrong.
func TestHistoryRefused(t *testing.T) {
	const hh = `{"halyard_backup":1,"sections":{"history":1},"counts":`
	const times = `"start":"2026-01-02T03:04:05Z","end":"2026-01-02T04:04:05Z"`
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"bad history user id", lines(t, hh+`{"history_users":1}}`, `{"t":"history_user","id":"x1"}`), "not a user id"},
		{"negative count", lines(t, hh+`{"history":-1}}`), "not possible"},
		{"interval without times", lines(t, hh+`{"history":1}}`, `{"t":"interval","id":"1","status":"online"}`), "needs start and end"},
		{"interval without end", lines(t, hh+`{"history":1}}`, `{"t":"interval","id":"1","status":"online","start":"2026-01-02T03:04:05Z"}`), "needs start and end"},
		{"end before start", lines(t, hh+`{"history":1}}`, `{"t":"interval","id":"1","status":"online","start":"2026-01-02T03:04:05Z","end":"2026-01-02T03:04:04Z"}`), "end must be after"},
		{"empty interval", lines(t, hh+`{"history":1}}`, `{"t":"interval","id":"1","status":"online","start":"2026-01-02T03:04:05Z","end":"2026-01-02T03:04:05Z"}`), "end must be after"},
		{"bad time", lines(t, hh+`{"history":1}}`, `{"t":"interval","id":"1","status":"online","start":"yesterday","end":"2026-01-02T03:04:05Z"}`), "not a backup line"},
		{"bad status", lines(t, hh+`{"history":1}}`, `{"t":"interval","id":"1","status":"away",`+times+`}`), "not a status"},
		{"status and activity", lines(t, hh+`{"history":1}}`, `{"t":"interval","id":"1","status":"online","name":"x","type":0,`+times+`}`), "not both"},
		{"neither", lines(t, hh+`{"history":1}}`, `{"t":"interval","id":"1",`+times+`}`), "needs a status or an activity"},
		{"empty name", lines(t, hh+`{"history":1}}`, `{"t":"interval","id":"1","name":"","type":0,`+times+`}`), "name is 1 to"},
		{"no type", lines(t, hh+`{"history":1}}`, `{"t":"interval","id":"1","name":"x",`+times+`}`), "type is 0 to 5"},
		{"type out of range", lines(t, hh+`{"history":1}}`, `{"t":"interval","id":"1","name":"x","type":6,`+times+`}`), "type is 0 to 5"},
		{"negative type", lines(t, hh+`{"history":1}}`, `{"t":"interval","id":"1","name":"x","type":-1,`+times+`}`), "type is 0 to 5"},
		{"bad application id", lines(t, hh+`{"history":1}}`, `{"t":"interval","id":"1","name":"x","type":0,"application_id":"app",`+times+`}`), "not an application id"},
		{"bad interval user id", lines(t, hh+`{"history":1}}`, `{"t":"interval","id":"","status":"online",`+times+`}`), "not a user id"},
		{"user after intervals", lines(t, hh+`{"history":1,"history_users":1}}`, `{"t":"interval","id":"1","status":"online",`+times+`}`,
			`{"t":"history_user","id":"1"}`), "after the next section"},
		{"history before opt-outs", lines(t, hh+`{"optouts":1,"history_users":1}}`, `{"t":"history_user","id":"1"}`,
			`{"t":"optout","id":"1","since":"2026-01-02T03:04:05Z"}`), "after the next section"},
		{"intervals over the count", lines(t, hh+`{"history":1}}`, `{"t":"interval","id":"1","status":"online",`+times+`}`,
			`{"t":"interval","id":"1","status":"idle",`+times+`}`), "incomplete"},
		{"history users under the count", lines(t, hh+`{"history_users":2}}`, `{"t":"history_user","id":"1"}`), "incomplete"},
	}
	for _, tt := range tests {
		_, err := readAll(tt.file)
		var fe *backup.FormatError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want a FormatError containing %q", tt.name, err, tt.want)
		}
	}
}

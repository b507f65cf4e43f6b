package core

import (
	"context"
	"time"
)

// Presence history (opt-in, private by default): the stretches of time a
// user held each status and ran each activity. The recorder lives in
// package history; these are the types it, the store and the renderings
// share.

// HistoryActivity names an activity in the history: intervals of the same
// name, type and application are one activity.
type HistoryActivity struct {
	Name          string
	Type          int
	ApplicationID string // "" when Discord sent none
}

// HistoryInterval is one stretch of one user's history: a status held
// (Status set) or an activity run (Status empty, Activity set), from Start
// to End. End is zero while the stretch is still going on.
type HistoryInterval struct {
	UserID   string
	Status   Status
	Activity HistoryActivity
	Start    time.Time
	End      time.Time
}

// IsStatus reports whether the interval is a status rather than an
// activity.
func (iv HistoryInterval) IsStatus() bool { return iv.Status != "" }

// ActivityTotal is how long one activity (by name and type) ran within a
// timeline's window.
type ActivityTotal struct {
	Name     string
	Type     int
	Duration time.Duration
}

// Timeline is one user's history between From and To: intervals clipped
// to the window in start order, ongoing ones with a zero End, and the
// total time per activity, longest first.
type Timeline struct {
	UserID     string
	From, To   time.Time
	Status     []HistoryInterval
	Activities []HistoryInterval
	Totals     []ActivityTotal
}

// HistoryStore persists presence history and who opted in to it.
type HistoryStore interface {
	// LoadHistoryUsers calls fn for every user who turned history on.
	LoadHistoryUsers(ctx context.Context, fn func(userID string) error) error
	// SetHistoryUser durably records that the user turned history on (or
	// off).
	SetHistoryUser(ctx context.Context, userID string, on bool) error
	// AppendHistory stores closed intervals (End set).
	AppendHistory(ctx context.Context, ivs []HistoryInterval) error
	// LoadHistory calls fn for every stored interval that ended after
	// cutoff, of userID only unless it is "". It may take long (a full
	// scan on FerretDB): the recorder loads once, then answers from memory.
	LoadHistory(ctx context.Context, cutoff time.Time, userID string, fn func(HistoryInterval) error) error
	// DeleteHistory removes every stored interval of the user and returns
	// how many it removed.
	DeleteHistory(ctx context.Context, userID string) (int64, error)
	// PruneHistory removes the intervals that ended before cutoff.
	PruneHistory(ctx context.Context, cutoff time.Time) (int64, error)
}

// EHISTORYDISABLED: the user has not turned presence history on.
const EHISTORYDISABLED = "history_disabled"

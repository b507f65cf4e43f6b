package history

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/halyardhq/halyard/core"
)

// Timeline returns the user's history within [from, to]: by default the
// last DefaultWindow up to now; from is moved up to the retention's start.
// A user who has not turned history on is EHISTORYDISABLED; from not
// before to is EINVALID. It is answered from memory: the database is
// read once, when the recorder opens (or the user turns history on). On a
// cluster every node answers from its own memory, recorded from the same
// changes (cluster.go).
func (r *Recorder) Timeline(ctx context.Context, userID string, from, to *time.Time) (core.Timeline, error) {
	now := r.now()
	tl := core.Timeline{UserID: userID, To: now}
	if to != nil {
		tl.To = *to
	}
	tl.From = tl.To.Add(-DefaultWindow)
	if from != nil {
		tl.From = *from
	}
	if !tl.From.Before(tl.To) {
		return core.Timeline{}, core.Errorf(core.EINVALID, "from must be before to")
	}
	if oldest := now.Add(-r.opts.Retention).Truncate(time.Millisecond); tl.From.Before(oldest) {
		tl.From = oldest
		if tl.To.Before(oldest) {
			tl.From = tl.To
		}
	}

	var ivs []core.HistoryInterval
	for ivs == nil {
		r.mu.Lock()
		t, on := r.users[userID]
		if !on {
			r.mu.Unlock()
			return core.Timeline{}, core.Errorf(core.EHISTORYDISABLED, "this user has not turned presence history on")
		}
		if wait := t.loading; wait != nil {
			r.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
			case <-time.After(loadWait):
			}
			return core.Timeline{}, core.Errorf(core.EUNAVAILABLE, "the stored history is still being loaded, try again later")
		}
		ivs = []core.HistoryInterval{}
		for _, iv := range t.closed {
			if iv.End.After(tl.From) && !iv.Start.After(tl.To) {
				ivs = append(ivs, iv)
			}
		}
		if t.present {
			ivs = append(ivs, core.HistoryInterval{UserID: userID, Status: t.status, Start: t.statusStart})
			for a, start := range t.acts {
				ivs = append(ivs, core.HistoryInterval{UserID: userID, Activity: a, Start: start})
			}
		}
		r.mu.Unlock()
	}
	return finish(tl, ivs, now), nil
}

// loadWait is how long a timeline waits for the stored history to be
// loaded (after a start, or a user turning history on again).
const loadWait = 10 * time.Second

// finish merges the intervals of each status and activity that touch or
// overlap (a split interval, or one read while it was being written, is
// one again), clips them to the window and totals the activities.
func finish(tl core.Timeline, ivs []core.HistoryInterval, now time.Time) core.Timeline {
	tl.Status, tl.Activities, tl.Totals = []core.HistoryInterval{}, []core.HistoryInterval{}, []core.ActivityTotal{}
	// Sort by key, then start, so that one pass merges each key's run.
	slices.SortFunc(ivs, func(a, b core.HistoryInterval) int {
		return cmp.Or(cmp.Compare(a.Status, b.Status), cmp.Compare(a.Activity.Name, b.Activity.Name),
			cmp.Compare(a.Activity.Type, b.Activity.Type), cmp.Compare(a.Activity.ApplicationID, b.Activity.ApplicationID),
			a.Start.Compare(b.Start))
	})
	var merged []core.HistoryInterval
	for _, iv := range ivs {
		if n := len(merged); n > 0 {
			last := &merged[n-1]
			if last.Status == iv.Status && last.Activity == iv.Activity && (last.End.IsZero() || !iv.Start.After(last.End)) {
				if last.End.IsZero() || iv.End.IsZero() {
					last.End = time.Time{}
				} else if iv.End.After(last.End) {
					last.End = iv.End
				}
				continue
			}
		}
		merged = append(merged, iv)
	}

	totals := map[[2]any]time.Duration{}
	for _, iv := range merged {
		end := iv.End
		if end.IsZero() {
			end = now
		}
		// An interval that starts at the window's end is left out, unless
		// it is ongoing and the window reaches now: it has just begun.
		ongoing := iv.End.IsZero() && !tl.To.Before(now)
		if !end.After(tl.From) && !ongoing || iv.Start.After(tl.To) || iv.Start.Equal(tl.To) && !ongoing {
			continue
		}
		if iv.Start.Before(tl.From) {
			iv.Start = tl.From
		}
		if iv.End.IsZero() && tl.To.Before(now) || !iv.End.IsZero() && iv.End.After(tl.To) {
			iv.End = tl.To // ongoing beyond the window: it ends with it
		}
		if iv.IsStatus() {
			tl.Status = append(tl.Status, iv)
			continue
		}
		tl.Activities = append(tl.Activities, iv)
		stop := iv.End
		if stop.IsZero() {
			stop = now
			if tl.To.Before(now) {
				stop = tl.To
			}
		}
		if stop.After(iv.Start) {
			totals[[2]any{iv.Activity.Name, iv.Activity.Type}] += stop.Sub(iv.Start)
		}
	}
	byStart := func(a, b core.HistoryInterval) int {
		return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.Activity.Name, b.Activity.Name))
	}
	slices.SortFunc(tl.Status, byStart)
	slices.SortFunc(tl.Activities, byStart)
	for k, d := range totals {
		tl.Totals = append(tl.Totals, core.ActivityTotal{Name: k[0].(string), Type: k[1].(int), Duration: d})
	}
	slices.SortFunc(tl.Totals, func(a, b core.ActivityTotal) int {
		return cmp.Or(cmp.Compare(b.Duration, a.Duration), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Type, b.Type))
	})
	return tl
}

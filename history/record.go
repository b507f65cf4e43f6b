package history

import (
	"time"

	"github.com/halyardhq/halyard/core"
)

// How the hub's events become intervals: applied as they come, folded
// while a user changes faster than the resolution, split when open long.

// applyEvents takes the subscription's events and records their changes.
func (r *Recorder) applyEvents() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.applyEventsLocked()
}

// applyEventsLocked is applyEvents with r.mu held.
func (r *Recorder) applyEventsLocked() {
	r.events = r.sub.Drain(r.events[:0])
	now := r.now()
	for _, ev := range r.events {
		t := r.users[ev.User.ID]
		if t == nil || ev.Type == core.KVUpdated {
			continue
		}
		switch {
		case ev.Type == core.MemberLeft:
			r.closeAllLocked(ev.User.ID, t, now)
		case t.deferred:
			// Queued before we stopped following the user: the tick takes
			// their presence as it is then.
		case t.present && now.Sub(t.last) < r.opts.Resolution:
			// Stop following the user until the resolution has passed:
			// a flapping user then costs the hub's publishing nothing,
			// and the tick reads their presence as it is then.
			t.deferred = true
			r.sub.Remove(ev.User.ID)
		default:
			r.applyLocked(ev.User.ID, t, ev.User, now)
		}
	}
	clear(r.events)
	if r.sub.Overflowed() {
		// The hub dropped us (we fell more than queueSize events behind):
		// follow again and take every user's presence as it is now.
		r.log.Warn("history: the event queue overflowed; taking every opted-in user's current presence")
		r.sub = r.opts.Hub.SubscribeNotify(queueSize, r.notify)
		for id, t := range r.users {
			r.sub.Add(id)
			t.deferred = true
		}
	}
}

// tick records deferred changes whose resolution has passed and writes
// out intervals open for longer than SplitAfter.
func (r *Recorder) tick() {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	for id, t := range r.users {
		if t.deferred && now.Sub(t.last) >= r.opts.Resolution {
			t.deferred = false
			r.sub.Add(id) // follow again before reading: no change falls in between
			if u, ok := r.opts.Hub.Get(id); ok {
				r.applyLocked(id, t, u, now)
			} else {
				r.closeAllLocked(id, t, now)
			}
		}
		if !t.present {
			continue
		}
		if now.Sub(t.statusStart) >= r.opts.SplitAfter {
			r.closeLocked(core.HistoryInterval{UserID: id, Status: t.status, Start: t.statusStart, End: now})
			t.statusStart = now
		}
		for a, start := range t.acts {
			if now.Sub(start) >= r.opts.SplitAfter {
				r.closeLocked(core.HistoryInterval{UserID: id, Activity: a, Start: start, End: now})
				t.acts[a] = now
			}
		}
	}
}

// applyLocked records the difference between t's open intervals and u's
// presence at now.
func (r *Recorder) applyLocked(id string, t *tracked, u *core.User, now time.Time) {
	status := u.Status()
	acts := activitiesOf(u)
	if w := r.writes(u); !t.present {
		t.writing = w
	} else if w != t.writing {
		r.handoverLocked(id, t, now, w)
	}
	if !t.present {
		t.present, t.status, t.statusStart, t.last = true, status, now, now
		t.acts = make(map[core.HistoryActivity]time.Time, len(acts))
		for _, a := range acts {
			t.acts[a] = now
		}
		return
	}
	changed := false
	if status != t.status {
		r.closeLocked(core.HistoryInterval{UserID: id, Status: t.status, Start: t.statusStart, End: now})
		t.status, t.statusStart, changed = status, now, true
	}
	for a, start := range t.acts {
		if !containsActivity(acts, a) {
			r.closeLocked(core.HistoryInterval{UserID: id, Activity: a, Start: start, End: now})
			delete(t.acts, a)
			changed = true
		}
	}
	for _, a := range acts {
		if _, open := t.acts[a]; !open {
			t.acts[a] = now
			changed = true
		}
	}
	if changed {
		t.last = now
	}
}

// closeAllLocked closes every open interval of the user at now.
func (r *Recorder) closeAllLocked(id string, t *tracked, now time.Time) {
	if !t.present {
		return
	}
	r.closeLocked(core.HistoryInterval{UserID: id, Status: t.status, Start: t.statusStart, End: now})
	for a, start := range t.acts {
		r.closeLocked(core.HistoryInterval{UserID: id, Activity: a, Start: start, End: now})
	}
	t.present, t.acts, t.deferred = false, nil, false
}

// closeLocked queues a closed interval for writing, unless another node
// writes the user's, and keeps it in memory; empty ones are left out.
func (r *Recorder) closeLocked(iv core.HistoryInterval) {
	if !iv.End.After(iv.Start) {
		return
	}
	if t := r.users[iv.UserID]; t != nil && !t.writing {
		t.keep(iv) // another node writes it (cluster.go)
		return
	}
	if len(r.pending) >= maxPending {
		r.pending = r.pending[1:]
		r.dropped++
		if r.dropped == 1 || r.dropped%10_000 == 0 {
			r.log.Warn("history: the database is not taking writes; dropping the oldest intervals", "dropped", r.dropped)
		}
	}
	r.pending = append(r.pending, iv)
	if t := r.users[iv.UserID]; t != nil {
		t.keep(iv)
	}
}

// keep adds a closed interval to the user's memory.
func (t *tracked) keep(iv core.HistoryInterval) {
	// A split interval continues its last piece: one entry in memory (the
	// database gets the pieces, read back as one).
	for i := len(t.closed) - 1; i >= 0 && i >= len(t.closed)-8; i-- {
		if last := &t.closed[i]; last.Status == iv.Status && last.Activity == iv.Activity && last.End.Equal(iv.Start) {
			last.End = iv.End
			return
		}
	}
	t.closed = append(t.closed, iv)
}

// activitiesOf returns the user's activities as history keys, once each.
// Custom statuses (type 4) are left out: they are a line of text people
// leave set for days, not something they spend time on.
func activitiesOf(u *core.User) []core.HistoryActivity {
	var out []core.HistoryActivity
	for _, a := range u.Activities() {
		if a.Type == 4 || a.Name == "" {
			continue
		}
		k := core.HistoryActivity{Name: a.Name, Type: a.Type, ApplicationID: a.ApplicationID}
		if !containsActivity(out, k) {
			out = append(out, k)
		}
	}
	return out
}

func containsActivity(list []core.HistoryActivity, a core.HistoryActivity) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

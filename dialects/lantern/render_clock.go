package lantern

import (
	"bytes"
	"encoding/binary"
	"time"

	"github.com/halyardhq/halyard/core"
)

// clockString formats a duration in milliseconds as Lantern's "mm:ss"
// (docs/compat/lantern.md §3.4): whole seconds truncated toward zero, hours dropped; negatives are
// "00:00" (§9 #6). Always five bytes, a slice of clockTable: every read of
// a user listening to Spotify formats two.
func clockString(ms int64) string {
	s := ms / 1000
	if s <= 0 {
		return "00:00"
	}
	k := s % 3600 // (minutes % 60) * 60 + seconds
	return clockTable[k*5 : k*5+5]
}

// clockTable is "00:0000:01…59:59", every clock value in order.
var clockTable = func() string {
	b := make([]byte, 0, 3600*5)
	for m := range 60 {
		for sec := range 60 {
			b = append(b, byte('0'+m/10), byte('0'+m%10), ':', byte('0'+sec/10), byte('0'+sec%10))
		}
	}
	return string(b)
}()

// spotifyClock returns current_human_readable and end_human_readable of a
// Spotify activity at now: a missing start or end counts as now.
func spotifyClock(a *core.Activity, now time.Time) (current, end string) {
	return clockAt(a.Start, a.End, now)
}

// clockAt is spotifyClock of an activity with the given start and end
// timestamps (Unix milliseconds, 0 when absent).
func clockAt(start, stop int64, now time.Time) (current, end string) {
	n := now.UnixMilli()
	if start == 0 {
		start = n
	}
	if stop == 0 {
		stop = n
	}
	return clockString(n - start), clockString(stop - start)
}

// The Spotify clock fields of a rendered user. Each appears at most once, and
// only as structure: inside a JSON string every '"' is escaped.
var (
	currentClockKey = []byte(`"current_human_readable":"`)
	endClockKey     = []byte(`"end_human_readable":"`)
)

// spotifyStamps are the timestamps (Unix ms, 0 when absent) of a user's
// Spotify activity, all the clock needs: read once per snapshot
// (Dialect.stamps), not from the activities on every request, which
// are kept packed and decoded on each read.
type spotifyStamps struct{ start, end int64 }

// ticking reports whether the clock moves with time: a Spotify activity
// with at least one timestamp (else both clocks read "00:00").
func (st spotifyStamps) ticking() bool { return st.start != 0 || st.end != 0 }

// stampsOf reads u's Spotify timestamps from its activities (zero without
// a Spotify activity).
func stampsOf(u *core.User) spotifyStamps {
	if a := spotifyActivity(u); a != nil {
		return spotifyStamps{a.Start, a.End}
	}
	return spotifyStamps{}
}

// renderStamps is the renderer behind Dialect.stamps: u's Spotify
// timestamps as 16 bytes, nil when the clock does not tick.
func renderStamps(u *core.User) []byte {
	st := stampsOf(u)
	if !st.ticking() {
		return nil
	}
	b := binary.LittleEndian.AppendUint64(make([]byte, 0, 16), uint64(st.start))
	return binary.LittleEndian.AppendUint64(b, uint64(st.end))
}

// stamps returns u's Spotify timestamps, cached per snapshot by the hub.
func (d *Dialect) stamps(u *core.User) spotifyStamps {
	b := d.opts.Hub.Render(d.spotify, u)
	if len(b) != 16 {
		return spotifyStamps{}
	}
	return spotifyStamps{int64(binary.LittleEndian.Uint64(b)), int64(binary.LittleEndian.Uint64(b[8:]))}
}

// refreshClock returns rendered with the Spotify clock values of now, the
// cached bytes themselves when they need no change.
func refreshClock(rendered []byte, st spotifyStamps, now time.Time) []byte {
	i, j, cur, end, ok := clockEdits(rendered, st, now)
	if !ok {
		return rendered
	}
	return patchClock(make([]byte, 0, len(rendered)), rendered, i, j, cur, end)
}

// appendClocked appends rendered with the Spotify clock values of now to
// dst, without a copy of its own.
func appendClocked(dst, rendered []byte, st spotifyStamps, now time.Time) []byte {
	i, j, cur, end, ok := clockEdits(rendered, st, now)
	if !ok {
		return append(dst, rendered...)
	}
	return patchClock(dst, rendered, i, j, cur, end)
}

// patchClock appends rendered to dst with the clock values at i and j
// (clockEdits) replaced by cur and end.
func patchClock(dst, rendered []byte, i, j int, cur, end string) []byte {
	base := len(dst)
	dst = append(dst, rendered...)
	copy(dst[base+i:base+i+5], cur)
	copy(dst[base+j:base+j+5], end)
	return dst
}

// clockEdits finds where rendered's two clock values start (i, j) and what
// they must read at now; ok is false when nothing needs to change.
func clockEdits(rendered []byte, st spotifyStamps, now time.Time) (i, j int, cur, end string, ok bool) {
	if !st.ticking() {
		return 0, 0, "", "", false // both clocks are "00:00" at any time
	}
	cur, end = clockAt(st.start, st.end, now)
	i = bytes.Index(rendered, currentClockKey)
	if i < 0 {
		return 0, 0, "", "", false
	}
	i += len(currentClockKey)
	// The renderer writes end right after current ("mm:ss","end…): look
	// there first, and search only if it is not.
	if k := i + 5 + len(`",`); k <= len(rendered) && bytes.HasPrefix(rendered[k:], endClockKey) {
		j = k
	} else if j = bytes.Index(rendered, endClockKey); j < 0 {
		return 0, 0, "", "", false
	}
	j += len(endClockKey)
	if string(rendered[i:i+5]) == cur && string(rendered[j:j+5]) == end {
		return 0, 0, "", "", false
	}
	return i, j, cur, end, true
}

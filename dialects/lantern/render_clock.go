package lantern

import (
	"bytes"
	"time"

	"github.com/halyardhq/halyard/core"
)

// clockString formats a duration in milliseconds as Lantern's "mm:ss"
// (§3.4): whole seconds truncated toward zero, hours dropped; negatives are
// "00:00" (§12 #6). Always five bytes.
func clockString(ms int64) string {
	s := ms / 1000
	if s <= 0 {
		return "00:00"
	}
	m, sec := (s/60)%60, s%60
	return string([]byte{byte('0' + m/10), byte('0' + m%10), ':', byte('0' + sec/10), byte('0' + sec%10)})
}

// spotifyClock returns current_human_readable and end_human_readable of a
// Spotify activity at now: a missing start or end counts as now.
func spotifyClock(a *core.Activity, now time.Time) (current, end string) {
	n := now.UnixMilli()
	start, stop := a.Start, a.End
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

// refreshClock returns rendered with the Spotify clock values of now, the
// cached bytes themselves when they need no change.
func refreshClock(rendered []byte, u *core.User, now time.Time) []byte {
	a := spotifyActivity(u)
	if a == nil || (a.Start == 0 && a.End == 0) {
		return rendered // both clocks are "00:00" at any time
	}
	cur, end := spotifyClock(a, now)
	i := bytes.Index(rendered, currentClockKey)
	j := bytes.Index(rendered, endClockKey)
	if i < 0 || j < 0 {
		return rendered
	}
	i += len(currentClockKey)
	j += len(endClockKey)
	if string(rendered[i:i+5]) == cur && string(rendered[j:j+5]) == end {
		return rendered
	}
	out := bytes.Clone(rendered)
	copy(out[i:i+5], cur)
	copy(out[j:j+5], end)
	return out
}

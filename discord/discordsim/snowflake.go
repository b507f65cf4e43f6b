package discordsim

import (
	"strconv"
	"time"
)

// discordEpochMs is 2015-01-01T00:00:00Z in Unix milliseconds.
const discordEpochMs = 1420070400000

// makeSnowflake builds a snowflake from a Unix-ms timestamp and the low 22 bits.
func makeSnowflake(unixMs int64, low uint64) uint64 {
	return uint64(unixMs-discordEpochMs)<<22 | low&0x3FFFFF
}

// snowflakeTime is the creation time encoded in a snowflake.
func snowflakeTime(id uint64) time.Time {
	return time.UnixMilli(int64(id>>22) + discordEpochMs)
}

// idMinter mints fresh, strictly increasing snowflakes for objects created
// at run time (messages, channels, interactions). Guarded by Sim.mu.
type idMinter struct {
	lastMs int64
	inc    uint64
}

func (m *idMinter) next() uint64 {
	ms := time.Now().UnixMilli()
	if ms <= m.lastMs {
		m.inc++
		if m.inc > 0xFFF {
			m.lastMs++
			m.inc = 0
		}
		ms = m.lastMs
	} else {
		m.lastMs, m.inc = ms, 0
	}
	return makeSnowflake(ms, 1<<17|m.inc)
}

func parseID(s string) (uint64, bool) {
	v, err := strconv.ParseUint(s, 10, 64)
	return v, err == nil && v != 0
}

func fmtID(id uint64) string { return strconv.FormatUint(id, 10) }

// mix64 is splitmix64's finaliser: a cheap, well-spread hash.
func mix64(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ x>>30) * 0xBF58476D1CE4E5B9
	x = (x ^ x>>27) * 0x94D049BB133111EB
	return x ^ x>>31
}

// discordTimeLayout is how Discord writes times: RFC 3339 in UTC with
// microseconds and +00:00.
const discordTimeLayout = "2006-01-02T15:04:05.000000+00:00"

// discordTime formats t the way Discord does (discordTimeLayout),
// without parsing the layout on every call: a million members' join
// dates go through it for every member list.
func discordTime(t time.Time) string {
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return t.Format(discordTimeLayout)
	}
	h, mi, s := t.Clock()
	var b [32]byte
	put := func(at, v, digits int) {
		for k := at + digits - 1; k >= at; k-- {
			b[k] = byte('0' + v%10)
			v /= 10
		}
	}
	put(0, y, 4)
	put(5, int(mo), 2)
	put(8, d, 2)
	put(11, h, 2)
	put(14, mi, 2)
	put(17, s, 2)
	put(20, t.Nanosecond()/1000, 6)
	b[4], b[7], b[10], b[13], b[16], b[19] = '-', '-', 'T', ':', ':', '.'
	copy(b[26:], "+00:00")
	return string(b[:])
}

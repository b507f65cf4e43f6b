package lantern

import (
	"testing"
	"time"
)

// TestUserSpotifyClockMoves: a single user's answer shows the Spotify
// clock of the time of reading, patched into the cached rendering: it is
// the rendering at that time, byte for byte, on every read.
func TestUserSpotifyClockMoves(t *testing.T) {
	s := newTestServer(t, nil)
	s.member(aliceJSON, alicePresence(t))
	u, _ := s.hub.Get(idA)
	for _, later := range []time.Duration{0, time.Second, 61 * time.Second, 61 * time.Second, 10 * time.Minute} {
		now := testNow.Add(later)
		s.setDialectNow(now)
		for range 2 {
			r := s.do("GET", "/api/v1/users/"+idA, "")
			expectJSON(t, "alice at +"+later.String(), r.body, string(RenderUser(u, now)))
		}
	}
}

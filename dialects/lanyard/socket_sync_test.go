package lanyard

import (
	"bytes"
	"testing"
	"time"
)

// TestSocketWaitsForFirstSync: right after a restart clients reconnect and
// subscribe before the gateway has loaded the members; the op 2 is held
// until the first sync, so the user is in INIT_STATE and later updates
// arrive (clients/README.md, use-lanyard's reconnect).
func TestSocketWaitsForFirstSync(t *testing.T) {
	for _, path := range socketPaths {
		t.Run(path, func(t *testing.T) {
			e := newSocketEnvOn(t, SocketOptions{}, false)
			c := e.connect(t, path)
			c.send(`{"op":2,"d":{"subscribe_to_id":"10"}}`)
			time.Sleep(50 * time.Millisecond) // the op 2 is read and waiting
			e.join("10")
			e.hub.MarkSynced()
			f := c.expect("INIT_STATE")
			u, _ := e.hub.Get("10")
			sameJSONValue(t, f.D, e.d.Presence(u))
			e.setStatus("10", "dnd")
			if f := c.expect("PRESENCE_UPDATE"); !containsStatus(f.D, "dnd") {
				t.Fatalf("update after sync: %s", f.D)
			}
		})
	}
}

func containsStatus(d []byte, status string) bool {
	return bytes.Contains(d, []byte(`"discord_status":"`+status+`"`))
}

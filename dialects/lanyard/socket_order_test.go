package lanyard

import (
	"bytes"
	"testing"

	"github.com/halyardhq/halyard/core"
)

// TestSocketKeyOrder: Lanyard frames keep Lanyard's key order (d, op, t)
// byte for byte on /lanyard/socket and, for a Lanyard client, on the
// shared /socket — whose Hello alone is Lantern-ordered, as both dialects'
// clients accept it (TestSocketHello).
func TestSocketKeyOrder(t *testing.T) {
	e := newSocketEnv(t, SocketOptions{})
	e.join("10")
	for _, path := range []string{"/lanyard/socket", "/socket", "/socket?compression=zlib_json"} {
		t.Run(path, func(t *testing.T) {
			c := e.connect(t, path)
			c.send(`{"op":2,"d":{"subscribe_to_id":"10"}}`)
			checkLanyardOrder(t, c.readFrame(), "INIT_STATE")
			e.setStatus("10", core.StatusOnline)
			checkLanyardOrder(t, c.readFrame(), "PRESENCE_UPDATE")
			e.setStatus("10", core.StatusIdle)
			checkLanyardOrder(t, c.readFrame(), "PRESENCE_UPDATE")
		})
	}
}

func checkLanyardOrder(t *testing.T, frame []byte, name string) {
	t.Helper()
	if !bytes.HasPrefix(frame, []byte(`{"d":`)) || !bytes.HasSuffix(frame, []byte(`,"op":0,"t":"`+name+`"}`)) {
		t.Fatalf("%s frame not in Lanyard's order: %s", name, frame)
	}
}

package discordsim

import (
	"errors"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestInvalidSessionResumableAllowsIdentifyOnSameSocket(t *testing.T) {
	s := newSim(t, Config{Members: 5})
	c := dial(t, s)
	readFrame(t, c)
	identify(t, c, s, allIntents)
	readUntil(t, c, "GUILD_CREATE")
	s.SendInvalidSession(true)
	if f := readFrame(t, c); f.Op != 9 || string(f.D) != "true" {
		t.Fatalf("got op %d %s", f.Op, f.D)
	}
	identify(t, c, s, allIntents)
	if f := readFrame(t, c); f.t() != "READY" || *f.S != 1 {
		t.Fatalf("re-identify: %s %v", f.t(), f.S)
	}
	s.SendReconnect()
	if f := readUntil(t, c, ""); f.Op != 7 {
		t.Fatalf("want op 7, got %d", f.Op)
	}
	s.CloseConnections(4000)
	expectClose(t, c, 4000)
	if st := s.Stats(); st.Identifies != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestClientRateLimit(t *testing.T) {
	s := newSim(t, Config{Members: 5})
	c := dial(t, s)
	readFrame(t, c)
	identify(t, c, s, allIntents)
	readUntil(t, c, "GUILD_CREATE")
	// Every frame up to the limit must go through; past it the simulator
	// closes, and a write may then meet the closed connection before the
	// close frame is read (which happened in CI), so the loop stops there.
	for i := range sendLimit + 5 {
		err := c.WriteJSON(map[string]any{"op": 3, "d": map[string]any{"since": 0, "activities": []any{}, "status": "online", "afk": false}})
		if err != nil {
			if i < sendLimit {
				t.Fatalf("frame %d of %d refused before the limit: %v", i+1, sendLimit, err)
			}
			break
		}
	}
	expectClose(t, c, 4008)
}

func TestReconnectDropsClientThatStays(t *testing.T) {
	s := newSim(t, Config{Members: 5, HeartbeatInterval: time.Minute})
	c, sessionID := startSession(t, s)
	gc := readUntil(t, c, "GUILD_CREATE")
	s.SendReconnect()
	if f := readUntil(t, c, ""); f.Op != 7 {
		t.Fatalf("want op 7, got %d", f.Op)
	}
	// The client ignores op 7: the simulator drops the socket, with no
	// close frame (gorilla reports 1006),
	// after reconnectGrace.
	_ = c.SetReadDeadline(time.Now().Add(reconnectGrace + 10*time.Second))
	_, _, err := c.ReadMessage()
	var ce *websocket.CloseError
	if err == nil || !errors.As(err, &ce) || ce.Code != websocket.CloseAbnormalClosure {
		t.Fatalf("want the connection dropped without a close frame, got %v", err)
	}
	// The session is still resumable.
	c2 := dial(t, s)
	readFrame(t, c2)
	send(t, c2, map[string]any{"op": 6, "d": map[string]any{"token": "Bot " + s.Token(), "session_id": sessionID, "seq": *gc.S}})
	if f := readFrame(t, c2); f.t() != "RESUMED" {
		t.Fatalf("resume after an ignored op 7: %s op %d", f.t(), f.Op)
	}
}

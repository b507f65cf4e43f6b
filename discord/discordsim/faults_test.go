package discordsim

import (
	"testing"
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
	for range 125 {
		send(t, c, map[string]any{"op": 3, "d": map[string]any{"since": 0, "activities": []any{}, "status": "online", "afk": false}})
	}
	expectClose(t, c, 4008)
}

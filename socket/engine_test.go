package socket

import (
	"bytes"
	"compress/zlib"
	"io"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// streamMember stands in for a transport that is not a WebSocket (an SSE
// stream): it ends on its own goroutine some time after GoingAway.
type streamMember struct {
	lease *Lease
	told  atomic.Int32
	after time.Duration
}

func (m *streamMember) GoingAway() {
	m.told.Add(1)
	go func() {
		time.Sleep(m.after)
		m.lease.Done("stream_end")
	}()
}

// TestEngineCloseWaitsForEveryGroup: Close tells every member of every
// group to go, returns only once each is done, counts their closes, and
// turns later members away.
func TestEngineCloseWaitsForEveryGroup(t *testing.T) {
	eng := NewEngine()
	var members []*streamMember
	for _, name := range []string{"sse", "cluster"} {
		g := eng.Group(name)
		for range 3 {
			m := &streamMember{lease: g.NewLease(), after: 50 * time.Millisecond}
			if !m.lease.Join(m) {
				t.Fatal("join refused before Close")
			}
			members = append(members, m)
		}
		if st := g.Stats(); st.Open != 3 || st.Opened != 3 {
			t.Fatalf("%s before Close: %+v", name, st)
		}
	}
	start := time.Now()
	eng.Close()
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Fatalf("Close returned after %v, before the members were done", d)
	}
	for _, m := range members {
		if m.told.Load() != 1 {
			t.Fatalf("GoingAway called %d times", m.told.Load())
		}
	}
	for _, name := range []string{"sse", "cluster"} {
		g := eng.Group(name)
		if st := g.Stats(); st.Open != 0 || st.Closes["stream_end"] != 3 {
			t.Fatalf("%s after Close: %+v", name, st)
		}
		late := &streamMember{lease: g.NewLease()}
		if late.lease.Join(late) {
			t.Fatalf("%s: join accepted after Close", name)
		}
	}
	if g := eng.Group("new after close"); !g.IsClosing() {
		t.Fatal("a group created after Close is open")
	}
	eng.Close() // twice is fine
}

// TestEngineCloseReleasesGoroutines: an engine's pool workers and its
// poller stop with Close — nothing of it outlives the engine.
func TestEngineCloseReleasesGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	eng, _, base := newSharedSocketServer(t, time.Minute)
	var clients []*websocket.Conn
	for range 8 {
		ws := dialSocket(t, base+"/socket")
		if _, _, err := ws.ReadMessage(); err != nil { // Hello
			t.Fatal(err)
		}
		if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"op":3}`)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := ws.ReadMessage(); err != nil { // the stand-in dialect's answer
			t.Fatal(err)
		}
		clients = append(clients, ws)
	}
	for _, ws := range clients {
		ws.Close()
	}
	eng.Close()
	// The test server's own goroutines (its listener, the clients' idle
	// HTTP connections) are not the engine's; allow for them.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+1 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines before, %d after Close:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSharedHelloBytes: the shared /socket greets in Lantern's key order
// (t, op, d), byte for byte, plain and zlib_json alike.
func TestSharedHelloBytes(t *testing.T) {
	const lantern = `{"t":"HELLO","op":1,"d":{"heartbeat_interval":30000}}`
	_, _, base := newSharedSocketServer(t, 0)
	for _, query := range []string{"", "?compression=zlib_json"} {
		ws := dialSocket(t, base+"/socket"+query)
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if query != "" {
			zr, err := zlib.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			data, _ = io.ReadAll(zr)
		}
		if string(data) != lantern {
			t.Fatalf("%q Hello %s, want %s", query, data, lantern)
		}
	}
}

package socket

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
)

// fakeSocketDialect claims first messages whose op is in ops and answers
// every socket it serves with its name and the first message, then closes.
type fakeSocketDialect struct {
	name string
	ops  map[string]bool
}

func (f *fakeSocketDialect) Name() string { return f.name }

func (f *fakeSocketDialect) ClaimSocket(first Message, _ url.Values) bool {
	var m struct{ Op json.RawMessage }
	_ = json.Unmarshal(first.Data, &m)
	return f.ops[string(m.Op)]
}

func (f *fakeSocketDialect) ServeSocket(c *Handoff) {
	_ = c.Conn.WriteMessage(websocket.TextMessage, []byte(f.name+" "+string(c.First.Data)+" "+c.Query.Get("compression")))
	_ = SendClose(c.Conn, websocket.CloseNormalClosure, "")
	_ = c.Conn.Close()
}

func newSharedSocketServer(t *testing.T, idle time.Duration) (*Engine, *Shared, string) {
	// idle is set before serving: handlers read it.
	t.Helper()
	eng := NewEngine()
	ss := eng.Shared(
		&fakeSocketDialect{name: "first", ops: map[string]bool{"3": true}},
		&fakeSocketDialect{name: "second", ops: map[string]bool{"12": true}},
	)
	ss.Inactivity = idle
	e := echo.New()
	e.GET("/socket", ss.Serve)
	ts := httptest.NewServer(e)
	t.Cleanup(func() { ts.Close(); eng.Close() })
	return eng, ss, "ws" + strings.TrimPrefix(ts.URL, "http")
}

func dialSocket(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("Sec-WebSocket-Extensions") != "" {
		t.Fatal("permessage-deflate negotiated")
	}
	t.Cleanup(func() { ws.Close() })
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	return ws
}

func TestSharedSocketHello(t *testing.T) {
	_, _, base := newSharedSocketServer(t, 0)
	for _, query := range []string{"", "?compression=zlib_json", "?compression=other"} {
		t.Run(query, func(t *testing.T) {
			ws := dialSocket(t, base+"/socket"+query)
			typ, data, err := ws.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			if query == "?compression=zlib_json" {
				if typ != websocket.BinaryMessage || !bytes.HasPrefix(data, []byte{0x78, 0x9c}) {
					t.Fatalf("zlib Hello: type %d % x", typ, data[:2])
				}
				zr, err := zlib.NewReader(bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				data, _ = io.ReadAll(zr)
			} else if typ != websocket.TextMessage {
				t.Fatalf("Hello type %d", typ)
			}
			var got, want any
			_ = json.Unmarshal(data, &got)
			_ = json.Unmarshal([]byte(`{"t":"HELLO","op":1,"d":{"heartbeat_interval":30000}}`), &want)
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(want)
			if !bytes.Equal(gb, wb) {
				t.Fatalf("Hello %s", data)
			}
		})
	}
}

func TestSharedSocketDispatch(t *testing.T) {
	_, _, base := newSharedSocketServer(t, 0)
	tests := []struct {
		name, query string
		typ         int
		first, want string
	}{
		{"claimed by first", "", websocket.TextMessage, `{"op":3}`, "first"},
		{"claimed by second", "", websocket.TextMessage, `{"op":12,"d":{}}`, "second"},
		{"binary claimed by second", "", websocket.BinaryMessage, `{"op":12}`, "second"},
		{"unclaimed goes to the first", "", websocket.TextMessage, `{"op":99}`, "first"},
		{"not json goes to the first", "", websocket.TextMessage, `hello`, "first"},
		{"query reaches the dialect", "?compression=zlib_json", websocket.TextMessage, `{"op":12}`, "second"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := dialSocket(t, base+"/socket"+tt.query)
			if err := ws.WriteMessage(tt.typ, []byte(tt.first)); err != nil { // before reading Hello
				t.Fatal(err)
			}
			if _, _, err := ws.ReadMessage(); err != nil { // Hello
				t.Fatal(err)
			}
			_, data, err := ws.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want + " " + tt.first + " " + strings.TrimPrefix(tt.query, "?compression=")
			if string(data) != want {
				t.Fatalf("got %q, want %q", data, want)
			}
		})
	}
}

func expectSocketClose(t *testing.T, ws *websocket.Conn, code int) {
	t.Helper()
	for {
		_, _, err := ws.ReadMessage()
		if err == nil {
			continue // the Hello
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != code || ce.Text != "" {
			t.Fatalf("read error %v, want close %d", err, code)
		}
		return
	}
}

func TestSharedSocketBeforeFirstMessage(t *testing.T) {
	_, ss, base := newSharedSocketServer(t, 300*time.Millisecond)

	t.Run("silent client", func(t *testing.T) {
		expectSocketClose(t, dialSocket(t, base+"/socket"), websocket.CloseProtocolError)
	})
	t.Run("pings keep it open", func(t *testing.T) {
		ws := dialSocket(t, base+"/socket")
		for range 6 {
			_ = ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(time.Second))
			time.Sleep(100 * time.Millisecond)
		}
		_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"op":12}`))
		_, _, _ = ws.ReadMessage() // Hello
		if _, data, err := ws.ReadMessage(); err != nil || !strings.HasPrefix(string(data), "second") {
			t.Fatalf("after pings: %q %v", data, err)
		}
	})
	if st := ss.Stats(); st.Closes["1002"] != 1 || st.Open != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestSharedSocketOversizeFirstMessage(t *testing.T) {
	_, ss, base := newSharedSocketServer(t, time.Minute)
	ws := dialSocket(t, base+"/socket")
	_ = ws.WriteMessage(websocket.TextMessage, bytes.Repeat([]byte("x"), ReadLimit+1))
	expectSocketClose(t, ws, websocket.CloseMessageTooBig)
	// The library sends the close frame before the endpoint counts it.
	for deadline := time.Now().Add(5 * time.Second); ss.Stats().Closes["1009"] != 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v", ss.Stats())
		}
	}
}

func TestSharedSocketShutdown(t *testing.T) {
	eng, ss, base := newSharedSocketServer(t, time.Minute)
	ws := dialSocket(t, base+"/socket")
	if _, _, err := ws.ReadMessage(); err != nil { // Hello: the socket is waiting
		t.Fatal(err)
	}
	eng.Close()
	expectSocketClose(t, ws, websocket.CloseGoingAway)
	if st := ss.Stats(); st.Closes["1001"] != 1 || st.Open != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestSharedSocketNotUpgraded(t *testing.T) {
	_, ss, base := newSharedSocketServer(t, 0)
	httpURL := "http" + strings.TrimPrefix(base, "ws") + "/socket"
	for _, h := range []map[string]string{
		{},
		{"Connection": "Upgrade", "Upgrade": "websocket"}, // no key, no version
		{"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "8"},
	} {
		req, _ := http.NewRequest("GET", httpURL, nil)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || string(body) != upgradeFailedBody ||
			resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Fatalf("%v: %d %s %s", h, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	if ss.Stats().Closes["upgrade_failed"] != 3 {
		t.Fatalf("stats %+v", ss.Stats())
	}
}

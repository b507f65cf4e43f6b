package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/web/widget"
)

// scriptedSocket is one widget connection to scriptedLanyard: the client's
// messages arrive on in.
type scriptedSocket struct {
	conn *websocket.Conn
	in   chan map[string]any
}

func (s *scriptedSocket) send(t *testing.T, frame string) {
	t.Helper()
	if err := s.conn.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		t.Fatalf("sending %s: %v", frame, err)
	}
}

// next returns the client's next message that is not a heartbeat (op 3),
// counting the heartbeats it skips.
func (s *scriptedSocket) next(t *testing.T, beats *int) map[string]any {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case m, ok := <-s.in:
			if !ok {
				t.Fatal("the widget closed the socket")
			}
			if m["op"] == float64(3) {
				*beats++
				continue
			}
			return m
		case <-timeout:
			t.Fatal("no message from the widget")
		}
	}
}

// subscribedIDs reads an op 2 subscribe_to_ids message.
func subscribedIDs(t *testing.T, m map[string]any) []string {
	t.Helper()
	d, _ := m["d"].(map[string]any)
	raw, ok := d["subscribe_to_ids"].([]any)
	if m["op"] != float64(2) || !ok {
		t.Fatalf("want op 2 with subscribe_to_ids, got %v", m)
	}
	ids := make([]string, len(raw))
	for i, v := range raw {
		ids[i], _ = v.(string)
	}
	return ids
}

// scriptedLanyard serves the real /widget.js and a Lanyard /socket whose
// side of the conversation the test scripts, so the widget's protocol is
// checked message by message: a short heartbeat interval (Halyard's is
// 30 s), both INIT_STATE forms, a server-side close.
func scriptedLanyard(t *testing.T) (*httptest.Server, chan *scriptedSocket) {
	e := echo.New()
	widget.New(widget.Options{}).Register(e)
	conns := make(chan *scriptedSocket, 8)
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	e.GET("/socket", func(c echo.Context) error {
		conn, err := up.Upgrade(c.Response(), c.Request(), nil)
		if err != nil {
			return nil
		}
		s := &scriptedSocket{conn: conn, in: make(chan map[string]any, 64)}
		conns <- s
		go func() {
			defer close(s.in)
			for {
				_, data, err := conn.ReadMessage()
				if err != nil {
					return
				}
				var m map[string]any
				if json.Unmarshal(data, &m) == nil {
					s.in <- m
				}
			}
		}()
		return nil
	})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv, conns
}

func presenceJSON(id, name, status, custom string) string {
	return fmt.Sprintf(`{"discord_user":{"id":%q,"username":%q,"global_name":%q,"avatar":null,"discriminator":"0"},"discord_status":%q,
		"active_on_discord_desktop":true,"active_on_discord_mobile":false,"active_on_discord_web":false,"active_on_discord_embedded":false,"active_on_discord_vr":false,
		"listening_to_spotify":false,"spotify":null,"kv":{},"activities":[{"id":"custom","name":"Custom Status","type":4,"state":%q}]}`, id, strings.ToLower(name), name, status, custom)
}

// TestWidgetSocketProtocol drives the widget in Chromium against a scripted
// Lanyard socket: it subscribes every element's id in one op 2, heartbeats
// (op 3) at Hello's interval, reads INIT_STATE as a map (ids missing from it
// are not monitored) and as a bare presence, applies PRESENCE_UPDATE by
// user_id, re-subscribes with the full list when an element for a new id
// appears, and reconnects by itself when the server closes the socket.
func TestWidgetSocketProtocol(t *testing.T) {
	ctx := newChromium(t, 1000, 900, 4*time.Minute)
	srv, conns := scriptedLanyard(t)
	const a, b, c = "111111111111111111", "222222222222222222", "333333333333333333"
	page := widgetPage(t, srv.URL, fmt.Sprintf(`<halyard-presence id="a" user="%s"></halyard-presence><halyard-presence id="b" user="%s"></halyard-presence>`, a, b))
	if err := chromedp.Do(ctx, chromedp.Navigate(page.URL)); err != nil {
		t.Fatal(err)
	}
	var s *scriptedSocket
	select {
	case s = <-conns:
	case <-time.After(30 * time.Second):
		t.Fatal("the widget never opened a socket")
	}
	s.send(t, `{"op":1,"d":{"heartbeat_interval":150}}`)
	beats := 0
	if ids := subscribedIDs(t, s.next(t, &beats)); !slices.Equal(ids, []string{a, b}) {
		t.Fatalf("first subscribe: %v, want both elements' ids in one op 2", ids)
	}
	s.send(t, `{"op":0,"t":"INIT_STATE","d":{"`+a+`":`+presenceJSON(a, "Alice", "online", "init map")+`}}`)
	waitWidget(t, ctx, "a", "A from the INIT_STATE map", func(v widgetView) bool { return v.Name == "Alice" && v.Custom == "init map" })
	waitWidget(t, ctx, "b", "B as not monitored", func(v widgetView) bool { return strings.Contains(v.Text, "not monitored") })

	s.send(t, `{"op":0,"t":"PRESENCE_UPDATE","d":`+strings.TrimSuffix(presenceJSON(a, "Alice", "idle", "update"), "}")+`,"user_id":"`+a+`"}}`)
	waitWidget(t, ctx, "a", "A's update", func(v widgetView) bool { return v.Status == "Idle" && v.Custom == "update" })

	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(() => { const el = document.createElement("halyard-presence"); el.id = "c"; el.setAttribute("user", %q); document.body.append(el); return true; })()`, c))); err != nil {
		t.Fatal(err)
	}
	if ids := subscribedIDs(t, s.next(t, &beats)); !slices.Equal(ids, []string{a, b, c}) {
		t.Fatalf("subscribe after a new element: %v, want the full list", ids)
	}
	for beats < 3 { // heartbeats at 150 ms: three arrive long before the 30 s wait of next gives up
		select {
		case m := <-s.in:
			if m["op"] == float64(3) {
				beats++
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%d heartbeats at a 150 ms interval", beats)
		}
	}

	// The server goes away: the widget comes back on its own, says hello
	// again with every id, and takes INIT_STATE in subscribe_to_id form.
	s.conn.Close()
	select {
	case s = <-conns:
	case <-time.After(60 * time.Second):
		t.Fatal("the widget did not reconnect")
	}
	s.send(t, `{"op":1,"d":{"heartbeat_interval":30000}}`)
	if ids := subscribedIDs(t, s.next(t, &beats)); !slices.Equal(ids, []string{a, b, c}) {
		t.Fatalf("subscribe after reconnecting: %v", ids)
	}
	s.send(t, `{"op":0,"t":"INIT_STATE","d":`+presenceJSON(c, "Carol", "dnd", "single form")+`}`)
	waitWidget(t, ctx, "c", "C from a bare-presence INIT_STATE", func(v widgetView) bool { return v.Name == "Carol" && v.Status == "Do Not Disturb" })
	// Junk from the server is ignored, not fatal.
	s.send(t, `not json`)
	s.send(t, `{"op":0,"t":"PRESENCE_UPDATE","d":null}`)
	s.send(t, `{"op":0,"t":"PRESENCE_UPDATE","d":`+strings.TrimSuffix(presenceJSON(b, "Bob", "online", "after junk"), "}")+`,"user_id":"`+b+`"}}`)
	waitWidget(t, ctx, "b", "B after junk frames", func(v widgetView) bool { return v.Name == "Bob" && v.Custom == "after junk" })
	select {
	case extra := <-conns:
		t.Errorf("a third socket opened: %v", extra.conn.RemoteAddr())
	default:
	}

	// Every element removed: one op 4 per id, then the widget lets the socket go.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { document.querySelectorAll("halyard-presence").forEach(e => e.remove()); return true; })()`)); err != nil {
		t.Fatal(err)
	}
	var unsubscribed []string
	timeout := time.After(30 * time.Second)
	for open := true; open; {
		select {
		case m, ok := <-s.in:
			if !ok {
				open = false
				break
			}
			if d, _ := m["d"].(map[string]any); m["op"] == float64(4) {
				id, _ := d["unsubscribe_from_id"].(string)
				unsubscribed = append(unsubscribed, id)
			}
		case <-timeout:
			t.Fatalf("the socket stayed open with no element left (unsubscribed %v)", unsubscribed)
		}
	}
	slices.Sort(unsubscribed)
	if !slices.Equal(unsubscribed, []string{a, b, c}) {
		t.Errorf("unsubscribed %v before closing, want every id once", unsubscribed)
	}
}

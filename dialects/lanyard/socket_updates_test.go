package lanyard

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/socket"
)

// presenceOf is the REST presence object of a monitored user.
func (e *socketEnv) presenceOf(t testing.TB, id string) []byte {
	t.Helper()
	u, ok := e.hub.Get(id)
	if !ok {
		t.Fatalf("%s not monitored", id)
	}
	return e.d.Presence(u)
}

func TestSocketPresenceUpdate(t *testing.T) {
	e := newSocketEnv(t, SocketOptions{})
	e.join("10")
	tests := []struct {
		name, subscribe string
		userID          bool // d carries user_id (docs/compat/lanyard.md §5.4)
	}{
		{"single", `{"op":2,"d":{"subscribe_to_id":"10"}}`, false},
		{"ids", `{"op":2,"d":{"subscribe_to_ids":["10"]}}`, true},
		{"all", `{"op":2,"d":{"subscribe_to_all":true}}`, true},
	}
	statuses := []core.Status{core.StatusIdle, core.StatusDND, core.StatusOnline}
	for _, path := range []string{"/socket", "/lanyard/socket", "/socket?compression=zlib_json", "/lanyard/socket?compression=zlib_json"} {
		for _, tt := range tests {
			t.Run(path+"/"+tt.name, func(t *testing.T) {
				c := e.connect(t, path)
				c.send(tt.subscribe)
				c.expect("INIT_STATE")
				check := func() {
					t.Helper()
					b := c.readFrame()
					want := e.presenceOf(t, "10")
					if tt.userID {
						want = withUserID(t, want, "10")
					}
					sameJSONValue(t, b, []byte(`{"op":0,"t":"PRESENCE_UPDATE","d":`+string(want)+`}`))
				}
				for _, s := range statuses {
					e.setStatus("10", s)
					check()
				}
				// Every KV write pushes the whole presence, even one
				// that changes nothing (docs/compat/lanyard.md §3.6).
				ctx := context.Background()
				if err := e.hub.PutKV(ctx, "10", "location", "Los Angeles"); err != nil {
					t.Fatal(err)
				}
				check()
				if !strings.Contains(string(e.presenceOf(t, "10")), `"location":"Los Angeles"`) {
					t.Fatal("kv not in presence")
				}
				if err := e.hub.PatchKV(ctx, "10", core.KV{}); err != nil {
					t.Fatal(err)
				}
				check()
				if err := e.hub.DeleteKV(ctx, "10", "absent"); err != nil {
					t.Fatal(err)
				}
				check()
			})
		}
	}
}

func TestSocketSubscriptionsAccumulate(t *testing.T) {
	e := newSocketEnv(t, SocketOptions{})
	e.join("10")
	e.join("20")
	e.join("30")
	for _, path := range socketPaths {
		t.Run(path, func(t *testing.T) {
			// go-lanyard style: op 2 and a heartbeat before reading Hello.
			c := e.dial(t, path)
			c.send(`{"op":2,"d":{"subscribe_to_id":"10"}}`)
			c.send(`{"op":3}`)
			if f := c.read(); f.Op != 1 {
				t.Fatalf("first frame op %d, want Hello", f.Op)
			}
			c.expect("INIT_STATE")
			c.send(`{"op":2,"d":{"subscribe_to_ids":["20","10"]}}`)
			f := c.expect("INIT_STATE")
			if keys := objectKeys(t, f.D); len(keys) != 2 {
				t.Fatalf("second INIT_STATE %s", f.D)
			}
			for _, id := range []string{"10", "20", "10"} {
				e.setStatus(id, nextStatus(e, id))
				got := c.expect("PRESENCE_UPDATE")
				if uid := objectKeys(t, got.D)["user_id"]; string(uid) != `"`+id+`"` {
					t.Fatalf("update user_id %s, want %s", uid, id)
				}
			}
			// 30 was never asked for: a change to it is not sent, so the
			// next frame is 10's.
			e.setStatus("30", nextStatus(e, "30"))
			e.setStatus("10", nextStatus(e, "10"))
			if uid := objectKeys(t, c.expect("PRESENCE_UPDATE").D)["user_id"]; string(uid) != `"10"` {
				t.Fatalf("got update for %s", uid)
			}
		})
	}
}

// nextStatus cycles a user's status so every update is a change.
func nextStatus(e *socketEnv, id string) core.Status {
	u, _ := e.hub.Get(id)
	if u.Status() == core.StatusOnline {
		return core.StatusIdle
	}
	return core.StatusOnline
}

func TestSocketUnsubscribe(t *testing.T) {
	e := newSocketEnv(t, SocketOptions{})
	e.join("10")
	e.join("20")
	tests := []struct {
		name, subscribe, unsubscribe string
		stopped                      []string // users whose updates stop
	}{
		{"id", `{"op":2,"d":{"subscribe_to_ids":["10","20"]}}`, `{"op":4,"d":{"unsubscribe_from_id":"10"}}`, []string{"10"}},
		{"ids", `{"op":2,"d":{"subscribe_to_ids":["10","20"]}}`, `{"op":4,"d":{"unsubscribe_from_ids":["10","20","99",5]}}`, []string{"10", "20"}},
		{"all", `{"op":2,"d":{"subscribe_to_all":true}}`, `{"op":4,"d":{"unsubscribe_from_all":true}}`, []string{"10", "20"}},
		{"all drops ids too", `{"op":2,"d":{"subscribe_to_ids":["10"]}}`, `{"op":4,"d":{"unsubscribe_from_all":true}}`, []string{"10"}},
		{"id while subscribed to all", `{"op":2,"d":{"subscribe_to_all":true}}`, `{"op":4,"d":{"unsubscribe_from_id":"10"}}`, nil}, // the all list still covers it
		{"unknown id", `{"op":2,"d":{"subscribe_to_id":"10"}}`, `{"op":4,"d":{"unsubscribe_from_id":"99"}}`, nil},
		{"no d", `{"op":2,"d":{"subscribe_to_id":"10"}}`, `{"op":4}`, nil},
		{"empty d", `{"op":2,"d":{"subscribe_to_id":"10"}}`, `{"op":4,"d":{}}`, nil},
		{"d array", `{"op":2,"d":{"subscribe_to_id":"10"}}`, `{"op":4,"d":[1]}`, nil},
		{"ids not array", `{"op":2,"d":{"subscribe_to_id":"10"}}`, `{"op":4,"d":{"unsubscribe_from_ids":"10"}}`, nil},
		{"id number", `{"op":2,"d":{"subscribe_to_id":"10"}}`, `{"op":4,"d":{"unsubscribe_from_id":10}}`, nil},
		{"all false", `{"op":2,"d":{"subscribe_to_id":"10"}}`, `{"op":4,"d":{"unsubscribe_from_all":false}}`, nil},
	}
	for _, path := range socketPaths {
		for _, tt := range tests {
			t.Run(path+"/"+tt.name, func(t *testing.T) {
				c := e.connect(t, path)
				c.send(tt.subscribe)
				c.expect("INIT_STATE")
				c.send(tt.unsubscribe)
				c.sync() // op 4 sent nothing back and was applied
				stopped := map[string]bool{}
				for _, id := range tt.stopped {
					stopped[id] = true
				}
				// Change every user; only the still-followed ones arrive,
				// in order, then the sync marker.
				var want []string
				for _, id := range []string{"10", "20"} {
					e.setStatus(id, nextStatus(e, id))
					if !stopped[id] && strings.Contains(tt.subscribe, id) || !stopped[id] && strings.Contains(tt.subscribe, "all") {
						want = append(want, id)
					}
				}
				for _, id := range want {
					d := objectKeys(t, c.expect("PRESENCE_UPDATE").D)
					var u struct{ ID string }
					_ = json.Unmarshal(d["discord_user"], &u)
					if u.ID != id {
						t.Fatalf("update for %s, want %s", u.ID, id)
					}
				}
				c.sync()
			})
		}
	}
}

func TestSocketMembership(t *testing.T) {
	for _, path := range socketPaths {
		t.Run(path, func(t *testing.T) {
			e := newSocketEnv(t, SocketOptions{})
			e.join("10")
			e.join("20")
			all := e.connect(t, path)
			all.send(`{"op":2,"d":{"subscribe_to_all":true}}`)
			all.expect("INIT_STATE")
			single := e.connect(t, path)
			single.send(`{"op":2,"d":{"subscribe_to_id":"10"}}`)
			single.expect("INIT_STATE")
			ids := e.connect(t, path)
			ids.send(`{"op":2,"d":{"subscribe_to_ids":["10","20"]}}`)
			ids.expect("INIT_STATE")
			late := e.connect(t, path) // asks for 30 before it is monitored
			late.send(`{"op":2,"d":{"subscribe_to_ids":["30","20"]}}`)
			late.expect("INIT_STATE")

			// A new member reaches subscribe_to_all sockets unasked.
			e.join("30")
			f := all.expect("PRESENCE_UPDATE")
			sameJSONValue(t, f.D, withUserID(t, e.presenceOf(t, "30"), "30"))

			// Leaving sends nothing: the next frame is 20's update.
			e.hub.RemoveMember("g1", "10")
			if e.hub.IsMonitored("10") {
				t.Fatal("10 still monitored")
			}
			e.setStatus("20", nextStatus(e, "20"))
			for _, c := range []*wsClient{all, ids, late} {
				d := objectKeys(t, c.expect("PRESENCE_UPDATE").D)
				if string(d["user_id"]) != `"20"` {
					t.Fatalf("update for %s, want 20", d["user_id"])
				}
			}
			single.sync()

			// Rejoining keeps the subscriptions (docs/compat/lanyard.md §5.7); 30 was not
			// monitored when late asked, so late does not get it.
			e.join("10")
			sameJSONValue(t, single.expect("PRESENCE_UPDATE").D, e.presenceOf(t, "10"))
			sameJSONValue(t, ids.expect("PRESENCE_UPDATE").D, withUserID(t, e.presenceOf(t, "10"), "10"))
			all.expect("PRESENCE_UPDATE")
			e.setStatus("30", nextStatus(e, "30"))
			all.expect("PRESENCE_UPDATE")
			late.sync()

			// A fresh op 2 while the user is away keeps the subscription.
			e.hub.RemoveMember("g1", "10")
			single.send(`{"op":2,"d":{"subscribe_to_id":"10"}}`)
			if f := single.expect("INIT_STATE"); string(f.D) != "{}" {
				t.Fatalf("INIT_STATE for an away user: %s", f.D)
			}
			e.join("10")
			single.expect("PRESENCE_UPDATE")
			all.expect("PRESENCE_UPDATE")
			ids.expect("PRESENCE_UPDATE")
		})
	}
}

func TestSocketSlowClientDropped(t *testing.T) {
	e := newSocketEnv(t, SocketOptions{QueueSize: 4, WriteTimeout: 2e9})
	e.join("10")
	fast := e.connect(t, "/lanyard/socket")
	fast.send(`{"op":2,"d":{"subscribe_to_id":"10"}}`)
	fast.expect("INIT_STATE")
	slow := e.connect(t, "/socket")
	slow.send(`{"op":2,"d":{"subscribe_to_id":"10"}}`)
	slow.expect("INIT_STATE")
	// slow never reads again. Big activities fill the socket buffers so
	// its writer blocks and its queue overflows; fast reads each update
	// before the next is published, so it never falls behind.
	pad := strings.Repeat("x", 256<<10)
	for i := 0; e.hub.Stats().Dropped == 0; i++ {
		if i > 1000 {
			t.Fatalf("slow client never dropped: %+v", e.hub.Stats())
		}
		raw := json.RawMessage(fmt.Sprintf(`{"type":0,"name":"n%d","state":%q}`, i, pad))
		e.hub.UpdatePresence("10", &core.Presence{Status: core.StatusOnline, Activities: []core.Activity{{Raw: raw}}})
		fast.expect("PRESENCE_UPDATE")
	}
	// The slow socket is closed (within its write timeout).
	deadline := time.Now().Add(10 * time.Second)
	for e.d.SocketStats().Open > 1 {
		if time.Now().After(deadline) {
			t.Fatalf("slow socket still open: %+v", e.d.SocketStats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	st := e.d.SocketStats()
	if st.Closes["1013"]+st.Closes["1006"] != 1 {
		t.Fatalf("closes %v", st.Closes)
	}
	// The fast client is unaffected.
	e.setStatus("10", core.StatusIdle)
	fast.expect("PRESENCE_UPDATE")
	fast.sync()
}

func TestSocketStats(t *testing.T) {
	e := newSocketEnv(t, SocketOptions{})
	e.join("10")
	for _, path := range []string{"/socket", "/lanyard/socket?compression=zlib_json"} {
		c := e.connect(t, path)
		c.send(`{"op":2,"d":{"subscribe_to_ids":["10"]}}`)
		c.expect("INIT_STATE")
		c.send(`{"op":2,"d":{"subscribe_to_all":true}}`)
		c.expect("INIT_STATE")
		c.send(`{"op":3}`)
		c.send(`{"op":7}`)
		c.expectClose(4004, "unknown_opcode")
	}
	e.d.CloseSockets() // waits until both are closed and counted
	st := e.d.SocketStats()
	want := map[string]int64{"ids/json": 1, "all/json": 1, "ids/zlib": 1, "all/zlib": 1, "single/json": 0}
	for k, n := range want {
		typ, comp, _ := strings.Cut(k, "/")
		if got := st.Inits[socket.Init{Type: typ, Compression: comp}]; got != n {
			t.Errorf("inits %s = %d, want %d", k, got, n)
		}
	}
	if st.Opened != 2 || st.Open != 0 || st.Closes["4004"] != 2 || st.MessagesIn != 8 || st.MessagesOut != 5 {
		t.Fatalf("stats %+v", st)
	}
}

package discord

import (
	"bytes"
	"context"
	stdjson "encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	ajson "github.com/diamondburned/arikawa/v3/utils/json"
	"github.com/diamondburned/arikawa/v3/utils/ws"

	"github.com/halyardhq/halyard/core"
)

// codecOpShape has the layout of arikawa's private envelope (ws.codecOp),
// which the driver only ever sees through its DecodeStream argument.
type codecOpShape struct {
	ws.Op
	Data ajson.Raw `json:"d,omitempty"`
}

// TestFrameDriverMatchesEncodingJSON: the fast envelope reader fills the
// envelope exactly as encoding/json's stream decoder does, and hands every
// frame it is unsure of to encoding/json, errors included.
func TestFrameDriverMatchesEncodingJSON(t *testing.T) {
	if !frameOpLayout(reflect.TypeFor[codecOpShape]()) {
		t.Fatal("the envelope mirror does not match its own shape")
	}
	for _, frame := range []string{
		`{"op":0,"s":42,"t":"PRESENCE_UPDATE","d":{"user":{"id":"1"},"status":"online"}}`,
		`{"t":"GUILD_CREATE","s":7,"op":0,"d":{"id":"2","members":[]}}`,
		`{"op":11,"s":null,"t":null,"d":null}`,
		`{"op":10,"d":{"heartbeat_interval":41250}}`,
		`{"op":1}`,
		` {"op" : 0 , "s":1, "t":"A\u0042C", "d" : "x" } `,
		`{"op":0,"s":1,"t":"X","d":{"a":1},"d":[2]}`,
		`{"OP":9,"d":false}`,
		`{"op":"0","d":{}}`,
		`{"op":0,"s":1.5,"d":{}}`,
		`{"op":0,"d":{"a":tru}}`,
		`{"op":0,"d":{}} trailing`,
		`[1]`,
	} {
		var got, want codecOpShape
		got.Data, want.Data = make(ajson.Raw, 0, 64), make(ajson.Raw, 0, 64)
		gotErr := frameDriver{}.DecodeStream(bytes.NewReader([]byte(frame)), &got)
		wantErr := stdjson.NewDecoder(bytes.NewReader([]byte(frame))).Decode(&want)
		if (gotErr == nil) != (wantErr == nil) {
			t.Errorf("%s: error %v, encoding/json says %v", frame, gotErr, wantErr)
			continue
		}
		if gotErr == nil && (got.Code != want.Code || got.Sequence != want.Sequence || got.Type != want.Type || string(got.Data) != string(want.Data)) {
			t.Errorf("%s:\n got %d %d %q %s\nwant %d %d %q %s", frame, got.Code, got.Sequence, got.Type, got.Data,
				want.Code, want.Sequence, want.Type, want.Data)
		}
	}
}

// TestFrameDriverRawDispatch: a dispatch Halyard decodes itself gets a
// private copy of its bytes; other targets go to encoding/json.
func TestFrameDriverRawDispatch(t *testing.T) {
	data := []byte(`{"user":{"id":"1"}}`)
	var ev rawPresenceUpdate
	if err := (frameDriver{}).Unmarshal(data, &ev); err != nil || string(ev.raw) != string(data) {
		t.Fatalf("raw dispatch: %q %v", ev.raw, err)
	}
	data[2] = 'X'
	if ev.raw[2] == 'X' {
		t.Error("the dispatch shares arikawa's buffer")
	}
	var other struct {
		A int `json:"a"`
	}
	if err := (frameDriver{}).Unmarshal([]byte(`{"a":3}`), &other); err != nil || other.A != 3 {
		t.Errorf("plain target: %+v %v", other, err)
	}
	if err := (frameDriver{}).Unmarshal([]byte(`{"a":`), &other); err == nil {
		t.Error("malformed JSON accepted for a plain target")
	}
}

// TestFrameDriverOwnedDispatch runs frames through arikawa's own codec
// (the shared decode buffer it reuses from frame to frame included): a
// large dispatch keeps the copy the driver made for it, uncopied, and
// that copy is never written by the frames after it; a member chunk
// whose "t" comes before its "d" arrives decoded, owning all it holds;
// small dispatches, a chunk whose "d" comes first and large frames of
// other types go the long way; nothing is left in handedOut.
func TestFrameDriverOwnedDispatch(t *testing.T) {
	installArikawaHooks(slog.Default())
	codec := ws.NewCodec(ws.NewOpUnmarshalers(
		func() ws.Event { return new(rawMembersChunk) },
		func() ws.Event { return new(rawPresenceUpdate) },
	))
	buf := ws.NewDecodeBuffer(1 << 14)
	chunk := func(n int) string {
		return `{"guild_id":"1","members":[{"user":{"id":"` + strconv.Itoa(n) + `","username":"` + strings.Repeat("x", 40_000) +
			`"},"nick":"n` + strconv.Itoa(n) + `"}],"presences":[{"user":{"id":"` + strconv.Itoa(n) + `"},"status":"idle"}],` +
			`"chunk_index":3,"chunk_count":9,"nonce":"halyard-` + strconv.Itoa(n) + `"}`
	}
	bigPresence := func(n int) string {
		return `{"user":{"id":"` + strconv.Itoa(n) + `"},"status":"` + strings.Repeat("y", 40_000) + `"}`
	}
	frames := []string{
		`{"op":0,"s":1,"t":"PRESENCE_UPDATE","d":` + bigPresence(1) + `}`,
		`{"op":0,"s":2,"t":"GUILD_MEMBERS_CHUNK","d":` + chunk(2) + `}`,
		`{"op":0,"s":3,"t":"PRESENCE_UPDATE","d":{"user":{"id":"3"},"status":"` + strings.Repeat("y", 20_000) + `"}}`,
		`{"op":0,"s":4,"t":"PRESENCE_UPDATE","d":` + bigPresence(4) + `}`,
		`{"op":0,"s":5,"d":` + chunk(5) + `,"t":"GUILD_MEMBERS_CHUNK"}`,
		`{"op":0,"s":6,"t":"PRESENCE_UPDATE","d":{"user":{"id":"6"}}}`,
		`{"op":0,"s":7,"t":"UNKNOWN_TO_ARIKAWA","d":` + bigPresence(7) + `}`,
		`{"op":0,"s":8,"t":"GUILD_MEMBERS_CHUNK","d":` + chunk(8) + `}`,
	}
	events := make([]ws.Event, len(frames))
	for i, f := range frames {
		out := make(chan ws.Op, 1)
		if err := codec.DecodeInto(context.Background(), strings.NewReader(f), &buf, out); err != nil {
			t.Fatal(err)
		}
		events[i] = (<-out).Data
	}
	var raws [][]byte
	for i, f := range frames {
		d := f[strings.Index(f, `"d":`)+4 : len(f)-1]
		if i == 4 {
			d = chunk(5)
		}
		switch e := events[i].(type) {
		case *rawPresenceUpdate:
			if string(e.raw) != d {
				t.Errorf("frame %d: dispatch holds %.60q…, want %.60q…", i, e.raw, d)
			}
			raws = append(raws, e.raw)
		case *rawMembersChunk:
			if (e.decoded != nil) != (i != 4) || (e.decoded == nil && string(e.raw) != d) {
				t.Errorf("frame %d: decoded %v, raw %.60q…", i, e.decoded != nil, e.raw)
			}
			raws = append(raws, e.raw)
			c, err := e.chunk()
			want := strconv.Itoa(i + 1)
			if err != nil || c.guildID != "1" || c.nonce != "halyard-"+want || c.index != 3 || c.count != 9 || len(c.list.members) != 1 {
				t.Fatalf("frame %d: chunk %+v %v", i, c, err)
			}
			m := c.list.members[0]
			if m.User.ID != want || m.Nick != "n"+want || m.Presence == nil || m.Presence.Status != core.StatusIdle || len(m.User.Username) != 40_000 {
				t.Errorf("frame %d: member %+v", i, m)
			}
		case *ws.BackgroundErrorEvent:
			if i != 6 {
				t.Errorf("frame %d: %v", i, e.Err)
			}
		default:
			t.Fatalf("frame %d: event %T", i, e)
		}
	}
	for i := range raws {
		for j := range i {
			if len(raws[i]) > 0 && unsafe.SliceData(raws[i]) == unsafe.SliceData(raws[j]) {
				t.Errorf("dispatches %d and %d share bytes", i, j)
			}
		}
	}
	// Nothing of this test's is left in handedOut (bots of other tests
	// may have entries of their own in flight).
	for _, raw := range raws {
		if _, left := handedOut.Load(unsafe.SliceData(raw)); left && len(raw) > 0 {
			t.Errorf("the copy %.40q… left in handedOut", raw)
		}
	}
	handedOut.Range(func(k, v any) bool {
		if c, ok := v.(*memberChunk); ok && c.guildID == "1" {
			t.Errorf("chunk %q left in handedOut", c.nonce)
		}
		return true
	})

	// The large presence's copy is handed out, then taken as it is.
	var op codecOpShape
	if err := (frameDriver{}).DecodeStream(strings.NewReader(frames[0]), &op); err != nil {
		t.Fatal(err)
	}
	if _, ok := handedOut.Load(unsafe.SliceData(op.Data)); !ok {
		t.Fatal("no copy of its own for a large dispatch")
	}
	var ev rawPresenceUpdate
	if err := (frameDriver{}).Unmarshal(op.Data, &ev); err != nil || unsafe.SliceData(ev.raw) != unsafe.SliceData(op.Data) {
		t.Fatalf("the dispatch copied its own copy again (%v)", err)
	}
}

// TestDecodedChunkOwnsItsMemory: a chunk read from a frame keeps nothing
// of the frame's bytes, which the driver reuses for the next frame.
func TestDecodedChunkOwnsItsMemory(t *testing.T) {
	raw := []byte(`{"guild_id":"77","nonce":"n-1","chunk_index":0,"chunk_count":1,"members":[` +
		`{"user":{"id":"5","username":"five","global_name":"Five","avatar":"ab"},"nick":"nick5","joined_at":"2021-03-01T12:00:00.000000+00:00"}],` +
		`"presences":[{"user":{"id":"5"},"status":"dnd","client_status":{"web":"dnd"},"activities":[{"name":"x","type":0}]}]}`)
	c, err := decodeChunk(raw)
	defer c.list.release()
	if err != nil || len(c.list.members) != 1 {
		t.Fatalf("%+v %v", c, err)
	}
	m := c.list.members[0]
	snap := fmt.Sprint(c.guildID, c.nonce, m.User.ID, m.User.Username, m.User.GlobalName, m.User.Avatar, m.Nick,
		string(m.User.JSON()), m.Presence.Status, m.Presence.Clients(), m.Presence.ActivityList())
	for i := range raw {
		raw[i] = 'x'
	}
	now := fmt.Sprint(c.guildID, c.nonce, m.User.ID, m.User.Username, m.User.GlobalName, m.User.Avatar, m.Nick,
		string(m.User.JSON()), m.Presence.Status, m.Presence.Clients(), m.Presence.ActivityList())
	if snap != now || !strings.Contains(snap, "nick5") || !strings.Contains(snap, "dnd") {
		t.Fatalf("the chunk aliases its payload:\n%s\n%s", snap, now)
	}
}

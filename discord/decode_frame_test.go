package discord

import (
	"bytes"
	"context"
	stdjson "encoding/json"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	ajson "github.com/diamondburned/arikawa/v3/utils/json"
	"github.com/diamondburned/arikawa/v3/utils/ws"
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
// that copy is never written by the frames after it; small dispatches
// and large frames of other types are copied as before, and nothing is
// left in handedOut.
func TestFrameDriverOwnedDispatch(t *testing.T) {
	installArikawaHooks(slog.Default())
	codec := ws.NewCodec(ws.NewOpUnmarshalers(
		func() ws.Event { return new(rawMembersChunk) },
		func() ws.Event { return new(rawPresenceUpdate) },
	))
	buf := ws.NewDecodeBuffer(1 << 14)
	big := func(n int) string {
		return `{"guild_id":"1","members":[{"user":{"id":"` + strconv.Itoa(n) + `","username":"` + strings.Repeat("x", 40_000) + `"}}]}`
	}
	frames := []string{
		`{"op":0,"s":1,"t":"GUILD_MEMBERS_CHUNK","d":` + big(1) + `}`,
		`{"op":0,"s":2,"t":"PRESENCE_UPDATE","d":{"user":{"id":"2"},"status":"` + strings.Repeat("y", 20_000) + `"}}`,
		`{"op":0,"s":3,"t":"GUILD_MEMBERS_CHUNK","d":` + big(3) + `}`,
		`{"op":0,"s":4,"t":"PRESENCE_UPDATE","d":{"user":{"id":"4"}}}`,
		`{"op":0,"s":5,"t":"UNKNOWN_TO_ARIKAWA","d":` + big(5) + `}`,
		`{"op":0,"s":6,"t":"PRESENCE_UPDATE","d":{"user":{"id":"6"}}}`,
	}
	// The large chunk's copy is handed out, then taken as it is.
	var op codecOpShape
	if err := (frameDriver{}).DecodeStream(strings.NewReader(frames[0]), &op); err != nil {
		t.Fatal(err)
	}
	if _, ok := handedOut.Load(unsafe.SliceData(op.Data)); !ok {
		t.Fatal("no copy of its own for a large chunk")
	}
	var ev rawMembersChunk
	if err := (frameDriver{}).Unmarshal(op.Data, &ev); err != nil || unsafe.SliceData(ev.raw) != unsafe.SliceData(op.Data) {
		t.Fatalf("the chunk copied its own copy again (%v)", err)
	}

	var got [][]byte
	for _, f := range frames {
		out := make(chan ws.Op, 1)
		if err := codec.DecodeInto(context.Background(), strings.NewReader(f), &buf, out); err != nil {
			t.Fatal(err)
		}
		switch e := (<-out).Data.(type) {
		case *rawMembersChunk:
			got = append(got, e.raw)
		case *rawPresenceUpdate:
			got = append(got, e.raw)
		case *ws.BackgroundErrorEvent:
			got = append(got, nil) // the unknown dispatch
		default:
			t.Fatalf("event %T", e)
		}
	}
	for i, f := range frames {
		want := f[strings.Index(f, `"d":`)+4 : len(f)-1]
		if got[i] != nil && string(got[i]) != want {
			t.Errorf("frame %d: dispatch holds %.60q…, want %.60q…", i, got[i], want)
		}
	}
	for _, i := range []int{1, 3, 5} {
		for _, j := range []int{0, 2} {
			if got[i] != nil && unsafe.SliceData(got[i]) == unsafe.SliceData(got[j]) {
				t.Errorf("frames %d and %d share bytes", i, j)
			}
		}
	}
	handedOut.Range(func(k, _ any) bool {
		t.Errorf("copy %v left in handedOut", k)
		return true
	})
}

package discord

import (
	"bytes"
	stdjson "encoding/json"
	"reflect"
	"testing"

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

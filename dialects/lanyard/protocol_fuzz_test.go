package lanyard

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// FuzzParseClientMessage feeds arbitrary client frames to the Lanyard
// socket's parser (docs/compat/lanyard.md §5.3). Properties: no panic; every close
// uses one of the documented codes; an invalid UTF-8 text frame is 1007;
// an accepted INIT or UNSUBSCRIBE came from a JSON object whose op says so,
// and its ids are valid UTF-8 strings; the shared /socket claim never
// panics either.
func FuzzParseClientMessage(f *testing.F) {
	for _, s := range []string{
		`{"op":2,"d":{"subscribe_to_ids":["94490510688792576"]}}`,
		`{"op":2,"d":{"subscribe_to_id":"94490510688792576"}}`,
		`{"op":2,"d":{"subscribe_to_all":true}}`,
		`{"op":3}`,
		`{"op":4,"d":{"unsubscribe_from_ids":["1",2,null]}}`,
		`{"op":4,"d":{"unsubscribe_from_all":true}}`,
		`{"op":9}`, `{"op":"2"}`, `{"op":2}`, `{"op":2,"d":[]}`, `[]`, `null`, ``,
		"\xff\xfe", `{"op":2,"d":{"subscribe_to_ids":"1"}}`,
		`{"op":2e0,"d":{"subscribe_to_all":true}}`,
	} {
		f.Add(websocket.TextMessage, []byte(s))
		f.Add(websocket.BinaryMessage, []byte(s))
	}
	documented := map[int]bool{websocket.CloseInvalidFramePayloadData: true,
		closeUnknownOpcode: true, closeRequiresData: true, closeInvalidData: true}
	f.Fuzz(func(t *testing.T, typ int, data []byte) {
		if typ != websocket.TextMessage {
			typ = websocket.BinaryMessage
		}
		_ = claimsFirstMessage(typ, data)
		cmd := parseClientMessage(typ, data)
		if typ == websocket.TextMessage && !utf8.Valid(data) {
			if cmd.kind != cmdClose || cmd.code != websocket.CloseInvalidFramePayloadData {
				t.Fatalf("invalid UTF-8 text frame: %+v", cmd)
			}
			return
		}
		switch cmd.kind {
		case cmdClose:
			if !documented[cmd.code] || cmd.label == "" {
				t.Fatalf("undocumented close %+v for %q", cmd, data)
			}
		case cmdInit, cmdUnsub:
			var top struct {
				Op json.RawMessage `json:"op"`
			}
			if json.Unmarshal(data, &top) != nil {
				t.Fatalf("accepted %v from non-JSON %q", cmd.kind, data)
			}
			want := "2"
			if cmd.kind == cmdUnsub {
				want = "4"
			}
			if string(top.Op) != want {
				t.Fatalf("accepted %v with op %s", cmd.kind, top.Op)
			}
			for _, id := range cmd.ids {
				if !utf8.ValidString(id) {
					t.Fatalf("id %q is not UTF-8", id)
				}
			}
		}
	})
}

package lantern

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// FuzzParseClientMessage feeds arbitrary client frames to the Lantern
// socket's parser and payload validation (docs/compat/lantern.md §6.4–§6.5).
// Properties: no panic; a message that is neither ignored nor refused has
// one of the four client opcodes; a refusal is one of §6.9's texts; an
// accepted target is either one id or a list, never both, and every id is
// a string of 3 to 19 characters.
func FuzzParseClientMessage(f *testing.F) {
	for _, s := range []string{
		`{"op":2,"d":{"user_id":"94490510688792576"}}`,
		`{"op":2,"d":{"user_ids":["94490510688792576","123"]}}`,
		`{"op":2,"d":{"user_id":"ALL"}}`,
		`{"op":4}`, `{"op":12,"d":{"user_id":"all"}}`, `{"op":14,"d":{"user_ids":[]}}`,
		`{"op":1}`, `{"op":16}`, `{"op":2.0}`, `{"op":"2"}`, `{"op":2e0}`, `{"op":-0}`,
		`{"op":2,"d":{"user_id":1}}`, `{"op":2,"d":{"user_id":"x","user_ids":["y"]}}`,
		`{"op":2,"d":null}`, `{"op":2,"d":"x"}`, `null`, `[]`, ``, "\xff", `{"op":99999999999999999999}`,
		`{"op":2,"d":{"user_ids":[` + "\"\xf0\x9f\x92\xa9\xf0\x9f\x92\xa9\"" + `]}}`,
	} {
		f.Add([]byte(s))
	}
	refusals := map[string]bool{textInvalidOpcode: true, textOpcodeNotAllowed: true}
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = claimsFirstMessage(data)
		m := parseClientMessage(data)
		switch {
		case m.ignore:
			return
		case m.disconnect != "":
			if !refusals[m.disconnect] {
				t.Fatalf("undocumented refusal %q", m.disconnect)
			}
			return
		}
		switch m.op {
		case opInit, opHeartbeat, opSubscribe, opUnsubscribe:
		default:
			t.Fatalf("accepted op %d from %q", m.op, data)
		}
		if !json.Valid(data) {
			t.Fatalf("accepted non-JSON %q", data)
		}
		tg, msg := validateTarget(m.d)
		if msg != "" {
			if tg.single || tg.ids != nil {
				t.Fatalf("refused target %q still carries ids", m.d)
			}
			return
		}
		if tg.single == (tg.ids != nil) {
			t.Fatalf("target %q: single %v and ids %v", m.d, tg.single, tg.ids)
		}
		ids := tg.ids
		if tg.single {
			ids = []string{tg.id}
		}
		for _, id := range ids {
			if n := utf8.RuneCountInString(id); n < 3 || n > 19 {
				t.Fatalf("accepted id %q of %d characters", id, n)
			}
		}
	})
}

package discord

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/halyardhq/halyard/core"
)

// Seeds shared by the gateway decoder targets: real shapes and hostile ones.
var gatewaySeeds = []string{
	`{"user":{"id":"94490510688792576"},"status":"online","client_status":{"desktop":"online"},` +
		`"activities":[{"name":"Spotify","type":2,"details":"x","timestamps":{"start":1,"end":2},"assets":{"large_image":"spotify:a"}}]}`,
	`{"user":{"id":94490510688792576},"status":"dnd","activities":[null,1,"x",{"type":"4","emoji":{"id":123,"name":"e"}}]}`,
	`{"user":{"id":"1e3"},"status":"invisible"}`, `{"user":{"id":1.5e300}}`, `{"user":{"id":-1}}`,
	`{"user":{"id":"abc\u0000"},"status":"\ud800"}`, `{"user":null}`, `{"user":{}}`, `{}`, `[]`, `null`, ``,
	`{"user":{"id":"1","username":"\"quoted\"","global_name":null,"avatar":123,"bot":"true"},"nick":"n\u00e9"}`,
	`{"guild_id":"1","user":{"id":"2","username":"` + strings.Repeat("a", 300) + `"}}`,
	`{"activities":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}`,
	`{"user":{"id":"1","id":"2","ID":"3"}}`, "{\"user\":{\"id\":\"1\",\"username\":\"\xff\xfe\"}}",
	`{"user":{"id":"18446744073709551616"}}`, `{"user":{"id":"18446744073709551615"}}`,
	`{"activities":[{"timestamps":{"start":99999999999999999999999,"end":-9223372036854775809}}]}`,
}

// FuzzDecodePresence feeds arbitrary PRESENCE_UPDATE payloads (as users
// shape them through their names and activities) to the gateway decoder.
// Properties: no panic; the status is one Halyard serves; activities come
// only from the payload's array; a plain decimal user id is read as
// written; the decoded presence encodes as JSON.
func FuzzDecodePresence(f *testing.F) {
	for _, s := range gatewaySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := decodePresenceWire(data)
		if err != nil {
			return
		}
		id := w.userID()
		p := w.presence()
		switch p.Status {
		case core.StatusOnline, core.StatusIdle, core.StatusDND, core.StatusOffline:
		default:
			t.Fatalf("status %q", p.Status)
		}
		if !json.Valid(data) {
			return // arikawa hands the decoder only valid JSON
		}
		var ref struct {
			User       map[string]json.RawMessage `json:"user"`
			Activities []json.RawMessage          `json:"activities"`
		}
		// encoding/json matches keys regardless of case; Discord's keys,
		// and so the decoder's, are exact: the reference holds only when
		// the keys are spelled as Discord spells them.
		if json.Unmarshal(data, &ref) == nil && bytes.Count(bytes.ToLower(data), []byte(`"id"`)) == 1 &&
			bytes.Count(bytes.ToLower(data), []byte(`"user"`)) == 1 && bytes.Count(bytes.ToLower(data), []byte(`"activities"`)) <= 1 &&
			bytes.Contains(data, []byte(`"user"`)) && bytes.Contains(data, []byte(`"id"`)) {
			if raw := ref.User["id"]; len(raw) > 2 && raw[0] == '"' && isDigits(raw[1:len(raw)-1]) && id != string(raw[1:len(raw)-1]) {
				t.Fatalf("user id %s read as %q", raw, id)
			}
			if len(p.ActivityList()) > len(ref.Activities) {
				t.Fatalf("%d activities from %d", len(p.ActivityList()), len(ref.Activities))
			}
		}
		if _, err := json.Marshal(p); err != nil {
			t.Fatalf("decoded presence does not encode: %v", err)
		}
	})
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// FuzzDecodeMember feeds arbitrary member objects (GUILD_MEMBER_ADD/UPDATE,
// members of GUILD_CREATE and chunks) to the decoder. Properties: no panic;
// a decoded member has a user id; the user's Raw is the user object as
// valid JSON; the decoded strings do not change when the payload's bytes
// are overwritten afterwards (the decoder keeps its own copy, since a
// chunk's buffer is reused).
func FuzzDecodeMember(f *testing.F) {
	for _, s := range gatewaySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		valid := json.Valid(data)
		buf := bytes.Clone(data)
		_, m, err := decodeMember(buf)
		if err != nil {
			return
		}
		if m.User.ID == "" {
			t.Fatal("member without a user id")
		}
		if valid && !json.Valid(m.User.JSON()) {
			t.Fatalf("user Raw %q is not JSON", m.User.JSON())
		}
		snap := []string{strings.Clone(m.User.ID), strings.Clone(m.User.Username), strings.Clone(m.User.GlobalName),
			strings.Clone(m.User.Avatar), strings.Clone(m.Nick), string(m.User.JSON())}
		for i := range buf {
			buf[i] = 'x'
		}
		now := []string{m.User.ID, m.User.Username, m.User.GlobalName, m.User.Avatar, m.Nick, string(m.User.JSON())}
		for i := range snap {
			if snap[i] != now[i] {
				t.Fatalf("decoded field %d aliases the payload: %q became %q", i, snap[i], now[i])
			}
		}
	})
}

// FuzzDecodeMembers feeds arbitrary members and presences lists (a
// GUILD_MEMBERS_CHUNK) to the decoder. Properties: no panic; every member
// returned has a user id; members plus bad entries never exceed what the
// lists hold.
func FuzzDecodeMembers(f *testing.F) {
	f.Add([]byte(`[{"user":{"id":"1"}},{"user":{}},3]`), []byte(`[{"user":{"id":"1"},"status":"idle"},null]`))
	f.Add([]byte(`null`), []byte(`{}`))
	f.Add([]byte(`[`), []byte(`]`))
	for _, s := range gatewaySeeds {
		f.Add([]byte("["+s+"]"), []byte("["+s+"]"))
	}
	f.Fuzz(func(t *testing.T, members, presences []byte) {
		ms, bad := decodeMembers(members, presences)
		for _, m := range ms {
			if m.User.ID == "" {
				t.Fatal("member without a user id")
			}
		}
		var a, b []json.RawMessage
		if json.Unmarshal(members, &a) == nil && json.Unmarshal(presences, &b) == nil && len(ms)+bad > len(a)+len(b) {
			t.Fatalf("%d members and %d bad from %d+%d entries", len(ms), bad, len(a), len(b))
		}
	})
}

// FuzzDecodeActivity feeds arbitrary activity objects to the decoder.
// Properties: no panic; an object always decodes and anything else never
// does; the decoded activity encodes as JSON.
func FuzzDecodeActivity(f *testing.F) {
	for _, s := range gatewaySeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"buttons":["a",1,null],"emoji":{"id":1,"animated":"yes"},"application_id":1.0}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, ok := core.DecodeActivity(bytes.Clone(data))
		if !json.Valid(data) {
			return
		}
		if isObject := bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("{")); ok != isObject {
			t.Fatalf("core.DecodeActivity(%q) ok=%v", data, ok)
		}
		if ok {
			if _, err := json.Marshal(a); err != nil {
				t.Fatalf("decoded activity does not encode: %v", err)
			}
		}
	})
}

// FuzzParsePrefixCommand feeds arbitrary message texts and prefixes to the
// prefix command splitter (docs/compat/lanyard.md §6.3). Properties: no panic; a
// command is recognised exactly when the text starts with the prefix; the
// name and arguments joined by single spaces give back the text after its
// first character.
func FuzzParsePrefixCommand(f *testing.F) {
	for _, s := range []string{".set key value", ".get  key", ".", "..", "", "!apikey", ".set k " + strings.Repeat("v ", 100),
		"\xff.set", "é.set", ".\u200bset", ".set\tk\nv", ".add k\x00v"} {
		f.Add(s, ".")
	}
	f.Add("é.set", "é")
	f.Add("!!set", "!!")
	f.Add("x", "")
	f.Fuzz(func(t *testing.T, content, prefix string) {
		name, args, ok := parsePrefixCommand(content, prefix)
		if ok != (prefix != "" && strings.HasPrefix(content, prefix)) {
			t.Fatalf("parsePrefixCommand(%q, %q) ok=%v", content, prefix, ok)
		}
		if !ok {
			return
		}
		_, size := utf8.DecodeRuneInString(content)
		if got := strings.Join(append([]string{name}, args...), " "); got != content[size:] {
			t.Fatalf("split %q into %q %q", content, name, args)
		}
	})
}

// FuzzFrameChunk feeds arbitrary GUILD_MEMBERS_CHUNK payloads in a frame
// to the frame driver, which reads a chunk as it validates the frame.
// Properties: no panic; the frame fails exactly when encoding/json
// refuses it; a chunk read there equals the chunk decodeChunk reads from
// the payload alone (as encoding/json delimits it).
func FuzzFrameChunk(f *testing.F) {
	f.Add([]byte(`{"guild_id":"1","members":[{"user":{"id":"2","username":"a"},"nick":"n"},3],` +
		`"presences":[{"user":{"id":"2"},"status":"idle","activities":[{"name":"x","type":0}]},{}],"chunk_index":1,"chunk_count":2,"nonce":"x"}`))
	f.Add([]byte(`{"members":null,"presences":{},"chunk_index":"1","guild_id":3}`))
	f.Add([]byte(`[1]`))
	for _, s := range gatewaySeeds {
		f.Add([]byte(`{"guild_id":"9","members":[` + s + `],"presences":[` + s + `]}`))
	}
	f.Fuzz(func(t *testing.T, d []byte) {
		frame := append(append([]byte(`{"op":0,"s":1,"t":"GUILD_MEMBERS_CHUNK","d":`), d...), '}')
		var op codecOpShape
		err := (frameDriver{}).DecodeStream(bytes.NewReader(frame), &op)
		var want codecOpShape
		if wantErr := json.NewDecoder(bytes.NewReader(frame)).Decode(&want); (err == nil) != (wantErr == nil) {
			t.Fatalf("error %v, encoding/json says %v", err, wantErr)
		}
		if err != nil {
			return
		}
		var ev rawMembersChunk
		if err := (frameDriver{}).Unmarshal(op.Data, &ev); err != nil {
			t.Fatal(err)
		}
		got, gotErr := ev.chunk()
		defer got.list.release()
		ref, refErr := decodeChunk(bytes.Clone(want.Data)) // the payload encoding/json found
		defer ref.list.release()
		if (gotErr == nil) != (refErr == nil) || summary(got) != summary(ref) {
			t.Fatalf("frame read %s (%v), payload alone %s (%v)", summary(got), gotErr, summary(ref), refErr)
		}
	})
}

// summary renders what a chunk holds.
func summary(c memberChunk) string {
	s := fmt.Sprint(c.guildID, c.nonce, c.index, c.count, c.list.bad())
	for _, m := range c.list.members {
		s += fmt.Sprint(" ", m.User.ID, m.Nick, string(m.User.JSON()), m.Presence.Clients(), len(m.Presence.ActivityList()))
		if m.Presence != nil {
			s += string(m.Presence.Status)
		}
	}
	return s
}

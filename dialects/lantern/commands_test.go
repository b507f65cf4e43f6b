package lantern

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/halyardhq/halyard/core"
)

// slash runs /storage <sub> as user id with the given options.
func slash(d *Dialect, id, sub string, inDM bool, opts ...string) core.Message {
	o := map[string]string{}
	for i := 0; i+1 < len(opts); i += 2 {
		o[opts[i]] = opts[i+1]
	}
	cmd := d.Commands()[0]
	r := cmd.Handler(context.Background(), core.CommandRequest{UserID: id, Slash: true, SubCommand: sub,
		Options: o, InDM: inDM, Monitored: d.opts.Hub.IsMonitored(id)})
	if len(r.Messages) != 1 {
		panic("one message expected")
	}
	return r.Messages[0]
}

var tokenInReply = regexp.MustCompile("```\n(lnyd_[0-9a-f]{32})\n```")

// TestStorageCommands covers docs/compat/lantern.md §7.2 as Halyard answers it.
func TestStorageCommands(t *testing.T) {
	s := newTestServer(t, nil)
	s.simpleMember(idA)
	d := s.dialect

	if cmd := d.Commands()[0]; cmd.Name != "storage" || !cmd.Slash || cmd.Dialect != "lantern" || len(cmd.Options) != 6 {
		t.Fatalf("command %+v", cmd)
	}
	steps := []struct {
		name, sub string
		opts      []string
		want      string // substring of the reply
		ephemeral bool
	}{
		{"data before a storage", "create data", []string{"key", "k", "value", "v"}, replyNoStorage, true},
		{"list before a storage", "list", nil, replyNoStorage, true},
		{"get token explains hashing", "get token", nil, "stores only a hash", true},
	}
	for _, st := range steps {
		m := slash(d, idA, st.sub, false, st.opts...)
		if !strings.Contains(m.Content, st.want) || m.Ephemeral != st.ephemeral {
			t.Fatalf("%s: %+v", st.name, m)
		}
	}

	// Token creation shows the token once, ephemeral, and it works on REST.
	m := slash(d, idA, "create token", true)
	match := tokenInReply.FindStringSubmatch(m.Content)
	if match == nil || !m.Ephemeral || !strings.Contains(m.Content, "only this once") {
		t.Fatalf("create token: %+v", m)
	}
	first := match[1]
	m = slash(d, idA, "create token", false)
	second := tokenInReply.FindStringSubmatch(m.Content)[1]
	if s.tokens.IsToken(idA, first) || !s.tokens.IsToken(idA, second) {
		t.Fatal("re-creating the token must revoke the old one")
	}
	put := func(tok string) int {
		return s.do("PUT", storageA+"/rest", `{"value":"x"}`, "Authorization", tok, "Content-Type", jsonType).status
	}
	if put(first) != 401 || put(second) != 200 {
		t.Fatal("REST does not follow the rotated token")
	}

	steps = []struct {
		name, sub string
		opts      []string
		want      string
		ephemeral bool
	}{
		{"create data", "create data", []string{"key", "color", "value", "red `x`"}, "New key-value pair added to your storage: `color` -> `red ˋxˋ`", true},
		{"create data in DM is public", "create data", []string{"key", "size", "value", "10"}, "`size` -> `10`", false},
		{"invalid key", "create data", []string{"key", "a-b", "value", "v"}, replyInvalidPair, true},
		{"invalid value", "create data", []string{"key", "a", "value", strings.Repeat("🔥", 15001)}, replyInvalidPair, true},
		{"get data", "get data", []string{"key", "color"}, "Data for the key `color`: `red ˋxˋ`", true},
		{"get missing", "get data", []string{"key", "nope"}, "Could not find the data for the key `nope`.", true},
		{"update creates", "update data", []string{"key", "fresh", "value", "1"}, "Data for the key `fresh` updated to `1`.", true},
		{"list in insertion order", "list", nil, "\"rest\": \"x\",\n  \"color\": \"red ˋxˋ\",\n  \"size\": \"10\",\n  \"fresh\": \"1\"\n}", true},
		{"delete missing still says deleted", "delete data", []string{"key", "nope"}, "Data for the key `nope` deleted.", true},
		{"delete", "delete data", []string{"key", "fresh"}, "Data for the key `fresh` deleted.", true},
		{"reset asks first", "reset", nil, "confirm:True", true},
		{"reset", "reset", []string{"confirm", "true"}, "3 key-value pairs deleted", true},
		{"list after reset", "list", nil, replyEmpty, true},
	}
	for _, st := range steps {
		inDM := strings.Contains(st.name, "in DM")
		m := slash(d, idA, st.sub, inDM, st.opts...)
		if !strings.Contains(m.Content, st.want) || m.Ephemeral != st.ephemeral {
			t.Fatalf("%s: %+v", st.name, m)
		}
	}
	if s.hub.KV(idA).Len() != 0 || !s.tokens.HasToken(idA) {
		t.Fatal("reset must delete every pair and keep the token")
	}

	// A user in no watched guild.
	if m := slash(d, idU, "create token", false); m.Content != core.NotInWatchedGuild || s.tokens.HasToken(idU) {
		t.Fatalf("unmonitored: %+v", m)
	}
}

// TestStorageListCut: a long listing is cut and points at the REST route.
func TestStorageListCut(t *testing.T) {
	s := newTestServer(t, nil)
	s.simpleMember(idA)
	kv := core.KV{}
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		kv.Set(k, strings.Repeat(k, 600))
	}
	if err := s.hub.PatchKV(context.Background(), idA, kv); err != nil {
		t.Fatal(err)
	}
	m := slash(s.dialect, idA, "list", false)
	if len(m.Content) > 2000 || !strings.Contains(m.Content, "…and 3 more. See them all at http://halyard.test/api/v1/users/"+idA+"/storage") {
		t.Fatalf("%d chars: %s", len(m.Content), m.Content)
	}
}

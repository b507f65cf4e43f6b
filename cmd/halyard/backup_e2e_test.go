package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// backupSecret is the token secret both nodes of the round trip share, as
// an operator restoring onto a new machine keeps TOKEN_SECRET.
const backupSecret = "backup-e2e-token-secret-0123456789abcdef"

// startBackupDemo runs the production wiring in demo mode with a fixed
// token secret and harmy's rate limit off, closed when the test ends.
func startBackupDemo(t *testing.T, dataDir string, users int) *Main {
	t.Helper()
	m := startDemoIn(t, dataDir, users, map[string]string{"TOKEN_SECRET": backupSecret,
		"HARMY_RATE_PER_SECOND": "0", "HARMY_RATE_PER_MINUTE": "0"})
	t.Cleanup(func() { m.Close() })
	return m
}

// runCLI runs a halyard subcommand as main does, with the admin token.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errs bytes.Buffer
	code = run(args, map[string]string{"ADMIN_TOKEN": "test-admin-token"}, &out, &errs)
	return code, out.String(), errs.String()
}

// dialectBodies is what every dialect answers about a set of users.
type dialectBodies map[string]string

// dialectBodiesOf reads the Lanyard, Lantern (user and storage) and harmy
// bodies of users; harmy is asked with the user's token, which it needs
// to show KV.
func dialectBodiesOf(c client, users []string, tokens map[string]string) dialectBodies {
	c.t.Helper()
	out := dialectBodies{}
	for _, id := range users {
		for _, path := range []string{"/v1/users/" + id, "/api/v1/users/" + id, "/api/v1/users/" + id + "/storage"} {
			code, b := c.do("GET", path, "", nil)
			out[path] = fmt.Sprintf("%d %s", code, b)
		}
		code, b := harmyGet(c, "/user/"+id, tokens[id])
		out["harmy /user/"+id] = fmt.Sprintf("%d %s", code, b)
	}
	return out
}

// diff names the first body that differs.
func (d dialectBodies) diff(o dialectBodies) string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if d[k] != o[k] {
			return fmt.Sprintf("%s:\n  want %.400s\n  got  %.400s", k, d[k], o[k])
		}
	}
	if len(d) != len(o) {
		return "different sets of bodies"
	}
	return ""
}

// lanyardWatch is a Lanyard socket subscribed to one user.
func lanyardWatch(t *testing.T, base, user string) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/socket", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	var hello struct{ Op int }
	if err := ws.ReadJSON(&hello); err != nil || hello.Op != 1 {
		t.Fatalf("hello: %+v %v", hello, err)
	}
	if err := ws.WriteJSON(map[string]any{"op": 2, "d": map[string]any{"subscribe_to_id": user}}); err != nil {
		t.Fatal(err)
	}
	var init struct{ T string }
	if err := ws.ReadJSON(&init); err != nil || init.T != "INIT_STATE" {
		t.Fatalf("init: %+v %v", init, err)
	}
	return ws
}

// nextKV reads the socket's next PRESENCE_UPDATE and returns its kv.
func nextKV(t *testing.T, ws *websocket.Conn) map[string]string {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var msg struct {
			T string
			D struct{ KV map[string]string }
		}
		if err := ws.ReadJSON(&msg); err != nil {
			t.Fatalf("socket: %v", err)
		}
		if msg.T == "PRESENCE_UPDATE" {
			return msg.D.KV
		}
	}
}

// TestBackupRestoreRoundTrip: KV written through the dialects (several
// users, ordered keys, unicode) and issued tokens are backed up with
// `halyard backup`; the KV is deleted and the tokens revoked through the
// node's own API; `halyard restore --dry-run` writes nothing; `halyard
// restore` brings back the same Lanyard, Lantern and harmy bodies at once
// (pushed to a Lanyard socket as a KV write is), the old tokens write
// again, and a second restore changes nothing. A truncated or corrupted
// file is refused. Then a new node on an empty data directory restored
// from the same file serves the same KV and takes the same tokens.
func TestBackupRestoreRoundTrip(t *testing.T) {
	const members = 300
	a := startBackupDemo(t, t.TempDir(), members)
	c := client{t, a.URL()}
	all := a.Sim.MemberIDs(a.Sim.GuildIDs()[0])
	users := all[:6]
	for _, id := range users {
		eventually(t, "user monitored", func() bool { return a.Hub.IsMonitored(id) })
	}

	tokens := map[string]string{}
	for i, id := range users {
		tokens[id] = issueToken(c, id)
		// Keys out of sorted order: Lantern renders insertion order.
		pairs := fmt.Sprintf(`{"zulu":"%d","alpha":"Grüße, 世界 🚀","mike":"\"quoted\" <b>&amp;</b>","":"empty key"}`, i)
		if code, b := c.doType("PATCH", "/v1/users/"+id+"/kv", tokens[id], "application/json", pairs); code != http.StatusNoContent {
			t.Fatalf("PATCH %s: %d %s", id, code, b)
		}
	}
	// One key written through Lantern, one deleted through Lanyard.
	if code, b := c.doType("PUT", "/api/v1/users/"+users[0]+"/storage/lantern", "Bearer "+tokens[users[0]],
		"application/json", `{"value":"from Lantern"}`); code != 200 {
		t.Fatalf("lantern PUT: %d %s", code, b)
	}
	if code, b := c.do("DELETE", "/v1/users/"+users[1]+"/kv/mike", tokens[users[1]], nil); code != http.StatusNoContent {
		t.Fatalf("lanyard DELETE: %d %s", code, b)
	}
	before := dialectBodiesOf(c, users, tokens)

	file := filepath.Join(t.TempDir(), "halyard.jsonl.gz")
	code, out, errs := runCLI(t, "backup", "--url", c.base, "--out", file)
	if code != 0 || !strings.Contains(out, "24 KV pairs of 6 users, 6 tokens") {
		t.Fatalf("backup: %d %q %q", code, out, errs)
	}

	// Wipe through the node's own API: every user's storage cleared
	// (Lantern), every token revoked.
	ws := lanyardWatch(t, c.base, users[2])
	for _, id := range users {
		if code, b := c.do("DELETE", "/api/v1/users/"+id+"/storage", "Bearer "+tokens[id], nil); code/100 != 2 {
			t.Fatalf("wipe %s: %d %s", id, code, b)
		}
		if code, _ := c.do("DELETE", "/admin/v1/users/"+id+"/token", e2eAdmin, nil); code != http.StatusNoContent {
			t.Fatal("revoke failed")
		}
	}
	if kv := nextKV(t, ws); len(kv) != 0 {
		t.Fatalf("socket after the wipe: %v", kv)
	}
	wiped := dialectBodiesOf(c, users, tokens)
	if wiped.diff(before) == "" {
		t.Fatal("the wipe changed nothing")
	}

	// A dry run reports and writes nothing.
	code, out, errs = runCLI(t, "restore", "--url", c.base, file, "--dry-run")
	if code != 0 || !strings.Contains(out, "dry run, nothing written") || !strings.Contains(out, "KV: 6 users changed") ||
		!strings.Contains(out, "tokens: 6 changed") {
		t.Fatalf("dry run: %d %q %q", code, out, errs)
	}
	if d := wiped.diff(dialectBodiesOf(c, users, tokens)); d != "" {
		t.Fatalf("the dry run changed a body: %s", d)
	}

	// A truncated or corrupted file is refused before anything is sent.
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	corrupt := bytes.Clone(raw)
	corrupt[len(corrupt)/2] ^= 0x55
	for name, bad := range map[string][]byte{"truncated": raw[:len(raw)*2/3], "corrupted": corrupt} {
		path := filepath.Join(t.TempDir(), name+".jsonl.gz")
		if err := os.WriteFile(path, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, errs := runCLI(t, "restore", "--url", c.base, path)
		if code != 1 || !strings.Contains(errs, "nothing was restored") {
			t.Fatalf("%s file: %d %q %q", name, code, out, errs)
		}
	}
	if d := wiped.diff(dialectBodiesOf(c, users, tokens)); d != "" {
		t.Fatalf("a refused file changed a body: %s", d)
	}

	code, out, errs = runCLI(t, "restore", "--url", c.base, file)
	if code != 0 || !strings.Contains(out, "restored "+file) || !strings.Contains(out, "KV: 6 users changed") {
		t.Fatalf("restore: %d %q %q", code, out, errs)
	}
	if !strings.Contains(errs, "backup items") {
		t.Errorf("no progress shown: %q", errs)
	}
	// Served at once, no restart: every dialect answers as before the wipe.
	if d := before.diff(dialectBodiesOf(c, users, tokens)); d != "" {
		t.Fatalf("after the restore: %s", d)
	}
	if kv := nextKV(t, ws); kv["zulu"] != "2" || kv["alpha"] != "Grüße, 世界 🚀" {
		t.Fatalf("socket after restore: %v", kv)
	}

	code, out, errs = runCLI(t, "restore", "--url", c.base, file)
	if code != 0 || !strings.Contains(out, "KV: 0 users changed, 6 unchanged") || !strings.Contains(out, "tokens: 0 changed, 6 unchanged") ||
		!strings.Contains(out, "user records: 0 changed") {
		t.Fatalf("second restore: %d %q %q", code, out, errs)
	}
	if d := before.diff(dialectBodiesOf(c, users, tokens)); d != "" {
		t.Fatalf("after the second restore: %s", d)
	}
	for _, id := range users {
		if code, b := c.do("PUT", "/v1/users/"+id+"/kv/after", tokens[id], []byte("restore")); code != http.StatusNoContent {
			t.Fatalf("old token of %s after restore: %d %s", id, code, b)
		}
	}

	// A new node on an empty data directory, the same secret.
	b := startBackupDemo(t, t.TempDir(), members)
	cb := client{t, b.URL()}
	if !slices.Equal(b.Sim.MemberIDs(b.Sim.GuildIDs()[0]), all) {
		t.Fatal("the demo populations differ")
	}
	for _, id := range users {
		eventually(t, "user monitored", func() bool { return b.Hub.IsMonitored(id) })
	}
	code, out, errs = runCLI(t, "restore", "--url", cb.base, file)
	if code != 0 || !strings.Contains(out, "KV: 6 users changed") || !strings.Contains(out, "tokens: 6 changed") {
		t.Fatalf("restore into a new node: %d %q %q", code, out, errs)
	}
	for _, id := range users {
		for _, path := range []string{"/api/v1/users/" + id + "/storage"} {
			_, got := cb.do("GET", path, "", nil)
			if want := before[path]; "200 "+string(got) != want {
				t.Fatalf("new node %s: %s, want %s", path, got, want)
			}
		}
		var lanyard struct {
			Data struct{ KV json.RawMessage } `json:"data"`
		}
		var want struct {
			Data struct{ KV json.RawMessage } `json:"data"`
		}
		_, got := cb.do("GET", "/v1/users/"+id, "", nil)
		if json.Unmarshal(got, &lanyard) != nil || json.Unmarshal([]byte(strings.TrimPrefix(before["/v1/users/"+id], "200 ")), &want) != nil ||
			!bytes.Equal(lanyard.Data.KV, want.Data.KV) {
			t.Fatalf("new node's Lanyard kv of %s: %s, want %s", id, lanyard.Data.KV, want.Data.KV)
		}
		if code, b := cb.do("PUT", "/v1/users/"+id+"/kv/after", tokens[id], []byte("restore")); code != http.StatusNoContent {
			t.Fatalf("old token of %s on the new node: %d %s", id, code, b)
		}
	}
	// Every record of the file was applied or found equal (the new node's
	// own sync already knows these members as the backup does: the same
	// join times, later sightings).
	var changed, unchanged int
	if _, err := fmt.Sscanf(out[strings.Index(out, "user records: "):], "user records: %d changed, %d unchanged", &changed, &unchanged); err != nil ||
		changed+unchanged != members+1 {
		t.Fatalf("records on the new node: %q (%v)", out, err)
	}
}

package main

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/halyardhq/halyard/storage"
)

// The Lantern dialect end to end: simulator → bot → hub → Lantern REST,
// the /storage slash command through the simulator's interactions, and a
// Lantern MongoDB imported with `halyard import lantern-mongo` whose token
// then works on the server.

// lanternSlash runs /storage <group> <sub> as user in guild and returns the
// reply's content and flags.
func lanternSlash(t *testing.T, m *Main, guild, user string, options string) (content string, flags int) {
	t.Helper()
	return slashCommand(t, m, guild, user, "storage", options)
}

// slashCommand runs the slash command name with options (JSON) as user in
// guild through the simulator's interactions and returns the reply's
// content and flags.
func slashCommand(t *testing.T, m *Main, guild, user, name, options string) (content string, flags int) {
	t.Helper()
	var id string
	eventually(t, "/"+name+" registered", func() bool {
		var err error
		id, err = m.Sim.Interact(guild, user, name, json.RawMessage(options))
		return err == nil
	})
	var resp struct {
		Data struct {
			Content string `json:"content"`
			Flags   int    `json:"flags"`
		} `json:"data"`
	}
	eventually(t, "the interaction answered", func() bool {
		raw, ok := m.Sim.InteractionResponse(id)
		return ok && json.Unmarshal(raw, &resp) == nil
	})
	return resp.Data.Content, resp.Data.Flags
}

func TestLanternEndToEnd(t *testing.T) {
	m := startDemo(t, t.TempDir(), 12)
	defer m.Close()
	c := client{t, m.URL()}
	guild := m.Sim.GuildIDs()[0]
	ids := m.Sim.MemberIDs(guild)

	// Bulk in request order, every member as the simulator holds it.
	q := fmt.Sprintf("?user_ids=%s&user_ids=%s&user_ids=%s", ids[2], ids[0], ids[1])
	eventually(t, "bulk served", func() bool { code, _ := c.do("GET", "/api/v1/users"+q, "", nil); return code == 200 })
	_, body := c.do("GET", "/api/v1/users"+q, "", nil)
	var users []struct {
		Metadata struct {
			ID       string `json:"id"`
			Username string `json:"username"`
		} `json:"metadata"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal(body, &users); err != nil || len(users) != 3 || users[0].Metadata.ID != ids[2] || users[1].Metadata.ID != ids[0] {
		t.Fatalf("bulk: %s", body)
	}
	for _, u := range users {
		truth, _ := m.Sim.Truth(u.Metadata.ID)
		if u.Status != truth.Status {
			t.Fatalf("user %s status %q, simulator %q", u.Metadata.ID, u.Status, truth.Status)
		}
	}

	// A presence driven through the gateway reaches the Lantern object.
	target := ids[3]
	presence := fmt.Sprintf(`{"user":{"id":%q},"status":"dnd","client_status":{"mobile":"dnd"},
		"activities":[{"id":"custom","name":"Custom Status","type":4,"state":"lantern <&>","created_at":1767268800000}]}`, target)
	if code, b := c.do("POST", "/admin/v1/demo/presence", e2eAdmin, []byte(presence)); code != 202 {
		t.Fatalf("demo presence %d %s", code, b)
	}
	eventually(t, "presence in the Lantern object", func() bool {
		_, b := c.do("GET", "/api/v1/users/"+target, "", nil)
		return strings.Contains(string(b), `"mobile":"dnd"`) && strings.Contains(string(b), `"text":"lantern <&>","start_time":{"unix":1767268800,"raw":"2026-01-01T12:00:00.000Z"},"end_time":null`) &&
			strings.Contains(string(b), `"status":"dnd","last_seen_at":{"unix":null,"raw":null}}`)
	})

	// /storage through the simulator: no storage yet, then a token shown
	// once (ephemeral in a guild), which authorises REST writes.
	owner := ids[4]
	if code, b := c.do("GET", "/api/v1/users/"+owner+"/storage", "", nil); code != 404 ||
		string(b) != `{"error":"User `+owner+` does not have any storage."}` {
		t.Fatalf("storage before a token: %d %s", code, b)
	}
	content, flags := lanternSlash(t, m, guild, owner, `[{"name":"create","type":2,"options":[{"name":"token","type":1}]}]`)
	tok := regexp.MustCompile("lnyd_[0-9a-f]{32}").FindString(content)
	if tok == "" || flags&64 == 0 {
		t.Fatalf("create token: flags %d %q", flags, content)
	}
	if code, b := c.do("GET", "/api/v1/users/"+owner+"/storage", "", nil); code != 200 || string(b) != `{}` {
		t.Fatalf("storage after a token: %d %s", code, b)
	}
	put := func(auth string) (int, []byte) {
		return c.doJSON("PUT", "/api/v1/users/"+owner+"/storage/mood", auth, `{"value":"happy"}`)
	}
	if code, b := put(tok); code != 200 || string(b) != `{"success":true}` {
		t.Fatalf("PUT with the token: %d %s", code, b)
	}
	content, _ = lanternSlash(t, m, guild, owner, `[{"name":"get","type":2,"options":[{"name":"data","type":1,"options":[{"name":"key","type":3,"value":"mood"}]}]}]`)
	if !strings.Contains(content, "`happy`") {
		t.Fatalf("get data: %q", content)
	}
	// The same token works on Lanyard's KV route: one token for all.
	if code, _ := c.do("PUT", "/v1/users/"+owner+"/kv/lanyard", tok, []byte("yes")); code != 204 {
		t.Fatalf("Lanyard PUT with the Lantern-issued token: %d", code)
	}
	_, b := c.do("GET", "/api/v1/users/"+owner, "", nil)
	if !strings.Contains(string(b), `"storage":{"mood":"happy","lanyard":"yes"}`) { // insertion order
		t.Fatalf("user object storage: %s", b)
	}
	content, _ = lanternSlash(t, m, guild, owner, `[{"name":"reset","type":1,"options":[{"name":"confirm","type":5,"value":true}]}]`)
	if _, b := c.do("GET", "/api/v1/users/"+owner+"/storage", "", nil); string(b) != `{}` || !strings.Contains(content, "2 key-value pairs deleted") {
		t.Fatalf("reset: %q, storage %s", content, b)
	}
}

// doJSON sends a JSON body.
func (c client) doJSON(method, path, auth, body string) (int, []byte) {
	c.t.Helper()
	return c.doType(method, path, auth, "application/json", body)
}

// lanternToken encrypts a Lantern token as Lantern stores it (docs/compat/lantern.md §5.2).
func lanternToken(t *testing.T, key []byte, token string) bson.D {
	t.Helper()
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCMWithNonceSize(block, 16)
	iv := make([]byte, 16)
	_, _ = rand.Read(iv)
	sealed := gcm.Seal(nil, iv, []byte(token), nil)
	ct, tag := sealed[:len(sealed)-16], sealed[len(sealed)-16:]
	return bson.D{{Key: "iv", Value: hex.EncodeToString(iv)}, {Key: "encryptedText", Value: hex.EncodeToString(ct)}, {Key: "tag", Value: hex.EncodeToString(tag)}}
}

func TestImportLanternMongoEndToEnd(t *testing.T) {
	dataDir := t.TempDir()
	m := startDemo(t, dataDir, 6)
	ids := m.Sim.MemberIDs(m.Sim.GuildIDs()[0])
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	// Lantern's MongoDB: a separate (embedded) server with a "lantern"
	// database holding Lantern-shaped documents.
	src, err := storage.Open(context.Background(), storage.Config{DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	mc, err := mongo.Connect(options.Client().ApplyURI(src.URI()))
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Disconnect(context.Background())
	secretHex := strings.Repeat("ab", 32)
	key, _ := hex.DecodeString(secretHex)
	lanternTok := base64.StdEncoding.EncodeToString([]byte(ids[0] + ":0123456789abcdef0123456789abcdef"))
	db := mc.Database("lantern")
	ctx := context.Background()
	lastSeen := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := db.Collection("keyvaluestorages").InsertOne(ctx, bson.D{{Key: "userId", Value: ids[0]},
		{Key: "token", Value: lanternToken(t, key, lanternTok)},
		{Key: "kv", Value: bson.D{{Key: "color", Value: "red"}, {Key: "city", Value: "Oslo"}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection("users").InsertMany(ctx, []any{
		bson.D{{Key: "id", Value: ids[0]}, {Key: "lastSeenAt", Value: lastSeen}},
		bson.D{{Key: "id", Value: ids[1]}, {Key: "lastSeenAt", Value: nil}},
	}); err != nil {
		t.Fatal(err)
	}

	args := []string{"lantern-mongo", "--uri", src.URI(), "--db", "lantern", "--secret", secretHex, "--data-dir", dataDir}
	if code, _, stderr := runImportCmd(t, "lantern-mongo", "--uri", src.URI(), "--db", "lantern", "--secret", "00"); code != 2 || !strings.Contains(stderr, "64 hex") {
		t.Fatalf("bad secret: %d %s", code, stderr)
	}
	code, stdout, stderr := runImportCmd(t, args...)
	if code != 0 || !strings.Contains(stdout, "KV: 2 pairs imported; 1 users' KV changed") ||
		!strings.Contains(stdout, "tokens: 1 imported") || !strings.Contains(stderr, "import: 3/3 Lantern documents read (100%)") {
		t.Fatalf("import: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = runImportCmd(t, args...)
	if code != 0 || !strings.Contains(stdout, "tokens: 0 imported (0 replacing another Halyard token), 1 already present") ||
		!strings.Contains(stdout, "user records: 0 written, 2 unchanged") {
		t.Fatalf("second import: exit %d\n%s", code, stdout)
	}

	// docs/compat/lantern.md §8 through the running server: the Lantern token writes, the KV
	// and the last-seen time are served.
	m = startDemo(t, dataDir, 6)
	defer m.Close()
	c := client{t, m.URL()}
	// In the source document's order (color, city), as Lantern renders it.
	eventually(t, "imported storage served in the source's order", func() bool {
		_, b := c.do("GET", "/api/v1/users/"+ids[0]+"/storage", "", nil)
		return string(b) == `{"color":"red","city":"Oslo"}`
	})
	if code, b := c.doJSON("PUT", "/api/v1/users/"+ids[0]+"/storage/color", lanternTok, `{"value":"blue"}`); code != 200 {
		t.Fatalf("PUT with the Lantern token: %d %s", code, b)
	}
	if code, _ := c.doJSON("PUT", "/api/v1/users/"+ids[0]+"/storage/color", "Bearer "+lanternTok, `{"value":"green"}`); code != 200 {
		t.Fatalf("PUT with Bearer and the Lantern token: %d", code)
	}
	if code, _ := c.doJSON("PUT", "/api/v1/users/"+ids[1]+"/storage/color", lanternTok, `{"value":"x"}`); code != 404 {
		t.Fatalf("another user without storage: %d", code)
	}
	if r, ok := m.Hub.Record(ids[0]); !ok || r.LastSeen.Before(lastSeen) {
		t.Fatalf("record %+v", r)
	}
}

package lanyard

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/internal/memstore"
	"github.com/halyardhq/halyard/server"
)

// FuzzParsePatch feeds arbitrary PATCH bodies to the parser. Properties:
// no panic; an accepted patch passes core.ValidateKVPairs; it round-trips
// (re-encoded as JSON it parses to the same pairs); a refused patch carries
// one of the documented 404 codes.
func FuzzParsePatch(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"a":"b"}`, `{"a":"b","c":"d"}`, `{"a":1}`, `{"a":null}`, `{"bad key":"x"}`,
		`{"a":"\ud800"}`, `{"a":"b","a":"c"}`, `[]`, `"x"`, ` {"a":"b"} `, `{"a":"b"`,
		`{"` + strings.Repeat("k", 256) + `":"v"}`, "{\"a\":\"\xff\"}", `{"a":{"b":{"c":"d"}}}`,
		`{"a":"` + strings.Repeat("[", 100) + `"}`, `{"":""}`, "{\"\\u0000\":\"\\u0000\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		pairs, perr, ok := parsePatch(body)
		if !ok {
			if perr.status != http.StatusNotFound || (perr.code != "invalid_kv_value" && perr.code != "kv_validation_failed") {
				t.Fatalf("undocumented refusal %+v", perr)
			}
			return
		}
		if err := core.ValidateKVPairs(pairs); err != nil {
			t.Fatalf("accepted %q breaks a KV rule: %v", body, err)
		}
		again, _, ok := parsePatch(mustJSON(t, pairs))
		if !ok || !again.Equal(pairs) {
			t.Fatalf("%q does not round-trip: %v vs %v", body, pairs, again)
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// kvFuzzFixture is the Lanyard KV routes in process over a real hub: user
// a (the writer) and user b (the victim, with a pair of its own).
type kvFuzzFixture struct {
	h                  http.Handler
	hub                *core.Hub
	tokenA, tokenB     string
	userA, userB       string
	victimKV           core.KV
	auths, pathUserIDs []string
}

func newKVFuzzFixture(f *testing.F) *kvFuzzFixture {
	hub := core.NewHub(core.HubOptions{})
	tokens, err := core.NewTokens(bytes.Repeat([]byte("f"), 32), memstore.New())
	if err != nil {
		f.Fatal(err)
	}
	srv := server.New(server.Options{Hub: hub, Tokens: tokens})
	srv.Register(New(Options{Hub: hub, Tokens: tokens}))
	x := &kvFuzzFixture{h: srv, hub: hub, userA: "100000000000000001", userB: "100000000000000002"}
	for _, id := range []string{x.userA, x.userB} {
		hub.UpsertMember("g", core.Member{User: core.DiscordUser{ID: id, Raw: json.RawMessage(`{"id":"` + id + `","username":"u"}`)}})
	}
	ctx := context.Background()
	if x.tokenA, err = tokens.Issue(ctx, x.userA); err != nil {
		f.Fatal(err)
	}
	if x.tokenB, err = tokens.Issue(ctx, x.userB); err != nil {
		f.Fatal(err)
	}
	x.victimKV = core.KVOf("secret", "b's")
	if err := hub.PatchKV(ctx, x.userB, x.victimKV); err != nil {
		f.Fatal(err)
	}
	x.auths = []string{x.tokenA, "Bearer " + x.tokenA, "", "garbage", x.tokenA + " ", strings.ToUpper(x.tokenA), "lnyd_" + strings.Repeat("0", 32)}
	x.pathUserIDs = []string{x.userA, "@me", x.userB, "%40me", "1000000000000000010", ""}
	return x
}

// FuzzKVWrite drives PUT, PATCH and DELETE on the Lanyard KV routes with
// arbitrary keys (raw path segments, percent-encoding included), bodies,
// Authorization values and path ids, always as user a. Properties: never
// a 5xx or a panic; user b's KV never changes (a never holds b's token);
// after a refused write a's KV is what it was (no partial write); after an
// accepted one it passes the KV rules and, for PUT, holds the raw body
// under the percent-decoded key; error bodies are Lanyard's JSON envelope
// and never echo the token.
func FuzzKVWrite(f *testing.F) {
	x := newKVFuzzFixture(f)
	for _, s := range []struct {
		method, key string
		body        []byte
	}{
		{"PUT", "k", []byte("v")},
		{"PUT", "k%20ey", []byte("v")},
		{"PUT", "%zz", []byte("v")},
		{"PUT", "%25", nil},
		{"PUT", "%C0%AF", []byte("x")}, // overlong UTF-8 '/'
		{"PUT", "k", []byte("\xff\xfe\x00")},
		{"PUT", strings.Repeat("a", 256), []byte("v")},
		{"PUT", "k", bytes.Repeat([]byte("é"), 30001)},
		{"PATCH", "", []byte(`{"a":"b","c":"d"}`)},
		{"PATCH", "", []byte(`{"a":"b","bad key":"d"}`)},
		{"PATCH", "", []byte(strings.Repeat(`{"a":`, 5000))},
		{"PATCH", "", []byte(`{"a":12345678901234567890123456789}`)},
		{"DELETE", "secret", nil},
		{"DELETE", "k", nil},
	} {
		for auth := range len(x.auths) {
			f.Add(s.method, uint8(0), uint8(auth), s.key, s.body)
		}
		f.Add(s.method, uint8(2), uint8(0), s.key, s.body)
		f.Add(s.method, uint8(1), uint8(1), s.key, s.body)
	}
	f.Fuzz(func(t *testing.T, method string, pathUser, auth uint8, key string, body []byte) {
		switch method {
		case "PUT", "PATCH", "DELETE":
		default:
			method = "PUT"
		}
		id := x.pathUserIDs[int(pathUser)%len(x.pathUserIDs)]
		path := "/v1/users/" + id + "/kv"
		if method != "PATCH" {
			path += "/" + key
		}
		u, err := url.Parse(path)
		if err != nil || u.Path == "" || u.RawQuery != "" || u.Fragment != "" || u.Host != "" {
			return // not a request path a client could send
		}
		req := httptest.NewRequest(method, "http://halyard.test/", bytes.NewReader(body))
		req.URL = u
		req.RequestURI = path
		if a := x.auths[int(auth)%len(x.auths)]; a != "" {
			req.Header.Set("Authorization", a)
		}
		before := x.hub.KV(x.userA).Clone()
		rec := httptest.NewRecorder()
		x.h.ServeHTTP(rec, req)

		if rec.Code >= 500 {
			t.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
		}
		if got := x.hub.KV(x.userB); !got.Equal(x.victimKV) {
			t.Fatalf("%s %s changed b's KV to %v", method, path, got)
		}
		if strings.Contains(rec.Body.String(), x.tokenA) {
			t.Fatalf("answer echoes the token: %s", rec.Body)
		}
		after := x.hub.KV(x.userA)
		if rec.Code != http.StatusNoContent {
			if !after.Equal(before) {
				t.Fatalf("%s %s refused (%d) but a's KV changed", method, path, rec.Code)
			}
			var env struct {
				Success *bool `json:"success"`
				Error   struct{ Code, Message string }
			}
			if json.Unmarshal(rec.Body.Bytes(), &env) != nil || env.Success == nil || *env.Success || env.Error.Code == "" {
				t.Fatalf("%s %s: %d answer is not Lanyard's envelope: %s", method, path, rec.Code, rec.Body)
			}
			return
		}
		if err := core.ValidateKVPairs(after); err != nil || after.Len() > core.MaxKVPairs {
			t.Fatalf("accepted write left an invalid KV: %v (%d pairs)", err, after.Len())
		}
		if method == "PUT" {
			k, _ := url.PathUnescape(strings.TrimSuffix(u.EscapedPath()[len("/v1/users/"+id+"/kv/"):], "/"))
			if after.Value(k) != string(body) {
				t.Fatalf("PUT %s: stored %q under %q, sent %q", path, after.Value(k), k, body)
			}
		}
	})
}

package lantern

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/internal/memstore"
	"github.com/halyardhq/halyard/server"
)

// FuzzStorageWrite drives the storage routes (docs/compat/lantern.md §5) in process with arbitrary
// keys (raw path segments), bodies, content types, Authorization values and
// path ids, as user a. Properties: never a 5xx or a panic; user b's pairs
// never change; after a refused write a's pairs are what they were; after
// an accepted write they pass both the store-wide and Lantern's rules, and
// a PUT stored the JSON value under the decoded key; every error body is
// Lantern's one-key JSON and never holds the token.
func FuzzStorageWrite(f *testing.F) {
	hub := core.NewHub(core.HubOptions{})
	tokens, err := core.NewTokens(bytes.Repeat([]byte("f"), 32), memstore.New())
	if err != nil {
		f.Fatal(err)
	}
	srv := server.New(server.Options{Hub: hub, Tokens: tokens})
	srv.Register(New(Options{Hub: hub, Tokens: tokens, ExternalURL: "http://halyard.test", CDNURL: "http://127.0.0.1:9"}))
	h := srv
	userA, userB := "100000000000000001", "100000000000000002"
	for _, id := range []string{userA, userB} {
		hub.UpsertMember("g", core.Member{User: core.DiscordUser{ID: id, Raw: json.RawMessage(`{"id":"` + id + `","username":"u"}`)}})
	}
	ctx := context.Background()
	tokenA, err := tokens.Issue(ctx, userA)
	if err != nil {
		f.Fatal(err)
	}
	if _, err := tokens.Issue(ctx, userB); err != nil { // b has storage and a token a never holds
		f.Fatal(err)
	}
	victim := core.KVOf("secret", "b's")
	if err := hub.PatchKV(ctx, userB, victim); err != nil {
		f.Fatal(err)
	}
	auths := []string{tokenA, "Bearer " + tokenA, "", "Bearer ", "garbage", "bearer " + tokenA, tokenA + "\x00"}
	ids := []string{userA, userB, "1000000000000000010", "abc", "%31%30%30%30%30%30%30%30%30%30%30%30%30%30%30%30%30%31"}
	types := []string{"application/json", "text/plain", "", "application/json; charset=utf-8", "APPLICATION/JSON"}
	for _, s := range []struct {
		method, key, body string
	}{
		{"PUT", "k", `{"value":"v"}`},
		{"PATCH", "k", `{"value":"w"}`},
		{"PUT", "k", `{"value":1}`},
		{"PUT", "k", `{"value":null}`},
		{"PUT", "k", `{}`},
		{"PUT", "k", `[]`},
		{"PUT", "k", `{"value":"\ud800"}`},
		{"PUT", "k", "{\"value\":\"\xff\"}"},
		{"PUT", "k_1", `{"value":"v"}`},
		{"PUT", "%zz", `{"value":"v"}`},
		{"PUT", "%C0%AF", `{"value":"v"}`},
		{"PUT", strings.Repeat("k", 256), `{"value":"v"}`},
		{"PUT", "k", `{"value":"` + strings.Repeat("😀", 15001) + `"}`},
		{"PUT", "k", strings.Repeat(`{"value":`, 3000)},
		{"DELETE", "k", ``},
		{"DELETE", "secret", ``},
		{"DELETE", "", ``},
		{"GET", "secret", ``},
	} {
		for a := range len(auths) {
			f.Add(s.method, uint8(0), uint8(a), uint8(0), s.key, []byte(s.body))
		}
		f.Add(s.method, uint8(1), uint8(0), uint8(0), s.key, []byte(s.body))
		f.Add(s.method, uint8(0), uint8(0), uint8(1), s.key, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, method string, pathUser, auth, ctype uint8, key string, body []byte) {
		switch method {
		case "PUT", "PATCH", "DELETE", "GET":
		default:
			method = "PUT"
		}
		id := ids[int(pathUser)%len(ids)]
		path := "/api/v1/users/" + id + "/storage"
		if key != "" {
			path += "/" + key
		}
		u, err := url.Parse(path)
		if err != nil || u.RawQuery != "" || u.Fragment != "" || u.Host != "" {
			return
		}
		req := httptest.NewRequest(method, "http://halyard.test/", bytes.NewReader(body))
		req.URL, req.RequestURI = u, path
		if a := auths[int(auth)%len(auths)]; a != "" {
			req.Header.Set("Authorization", a)
		}
		if ct := types[int(ctype)%len(types)]; ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		before := hub.KV(userA).Clone()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		if rec.Code >= 500 {
			t.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
		}
		if got := hub.KV(userB); !got.Equal(victim) {
			t.Fatalf("%s %s changed b's pairs to %v", method, path, got)
		}
		if strings.Contains(rec.Body.String(), tokenA) {
			t.Fatalf("answer echoes the token: %s", rec.Body)
		}
		after := hub.KV(userA)
		if rec.Code != http.StatusOK || method == "GET" {
			if !after.Equal(before) {
				t.Fatalf("%s %s answered %d but a's pairs changed", method, path, rec.Code)
			}
			if rec.Code != http.StatusOK {
				var env map[string]json.RawMessage
				if json.Unmarshal(rec.Body.Bytes(), &env) != nil || (env["error"] == nil && env["errors"] == nil) {
					t.Fatalf("%s %s: %d answer is not Lantern's error body: %s", method, path, rec.Code, rec.Body)
				}
			}
			return
		}
		if err := core.ValidateKVPairs(after); err != nil || after.Len() > core.MaxKVPairs {
			t.Fatalf("accepted write left invalid pairs: %v (%d)", err, after.Len())
		}
		for k, v := range after.All() {
			if _, had := before.Get(k); !had || before.Value(k) != v {
				if err := validatePair(k, v); err != nil {
					t.Fatalf("accepted pair %q=%q breaks Lantern's rules", k, v)
				}
			}
		}
		if method == "PUT" || method == "PATCH" {
			var obj map[string]json.RawMessage
			var v string
			_ = json.Unmarshal(body, &obj)
			_ = json.Unmarshal(obj["value"], &v)
			k := pathSegment(echo.New().NewContext(req, nil), 6)
			if after.Value(k) != v {
				t.Fatalf("%s %s: stored %q under %q, sent %s", method, path, after.Value(k), k, body)
			}
		}
	})
}

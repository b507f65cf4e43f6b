package lantern

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/storage"
)

// storageCase is one request of a storage sequence and what it must do.
type storageCase struct {
	name, method, path, body string
	headers                  []string
	status                   int
	want                     string // exact body
	events                   int    // KVUpdated events for the path's user
}

const (
	jsonType      = "application/json"
	storageA      = "/api/v1/users/" + idA + "/storage"
	unauthorized  = `{"error":"Unauthorized."}`
	invalidPair   = `{"error":"Invalid key-value pair."}`
	valueRequired = `{"errors":"value is required."}`
)

// runStorage runs cases in order, counting the events of user idA.
func runStorage(t *testing.T, s *testServer, cases []storageCase) {
	t.Helper()
	sub := s.hub.SubscribeNotify(4096, func() {}) // drained after each request
	sub.Add(idA)
	defer sub.Close()
	for _, tc := range cases {
		headers := tc.headers
		if tc.body != "" && !hasHeader(headers, "Content-Type") {
			headers = append(headers, "Content-Type", jsonType)
		}
		r := s.do(tc.method, tc.path, tc.body, headers...)
		if r.status != tc.status || string(r.body) != tc.want {
			t.Fatalf("%s: %s %s → %d %s, want %d %s", tc.name, tc.method, tc.path, r.status, r.body, tc.status, tc.want)
		}
		if got := drain(sub); got != tc.events {
			t.Fatalf("%s: %d STORAGE_UPDATE events, want %d", tc.name, got, tc.events)
		}
	}
}

func hasHeader(h []string, name string) bool {
	for i := 0; i < len(h); i += 2 {
		if strings.EqualFold(h[i], name) {
			return true
		}
	}
	return false
}

// drain counts the KVUpdated events queued so far: the hub publishes
// before the handler answers, so they are all there.
func drain(sub *core.Subscription) int {
	if sub.Overflowed() {
		return -1 // never a wanted count
	}
	n := 0
	for _, ev := range sub.Drain(nil) {
		if ev.Type == core.KVUpdated {
			n++
		}
	}
	return n
}

// TestStorage covers docs/compat/lantern.md §5 in one sequence on one user.
func TestStorage(t *testing.T) {
	s := newTestServer(t, nil)
	s.simpleMember(idA)
	s.simpleMember(idB)
	auth := func(tok string) []string { return []string{"Authorization", tok} }
	var tok string
	before := []storageCase{
		{name: "65 no storage", method: "GET", path: storageA, status: 404, want: errorBody("User " + idA + " does not have any storage.")},
		{name: "not monitored", method: "GET", path: "/api/v1/users/" + idU + "/storage", status: 404, want: errorBody("User " + idU + " is not being monitored by Lantern.")},
		{name: "bad id", method: "GET", path: "/api/v1/users/x/storage", status: 400, want: errorsBody("user_id must be a number.")},
		{name: "no storage before auth", method: "PUT", path: storageA + "/k", body: `{"value":"v"}`, status: 404, want: errorBody("User " + idA + " does not have any storage.")},
	}
	runStorage(t, s, before)
	var err error
	if tok, err = s.tokens.Issue(context.Background(), idA); err != nil {
		t.Fatal(err)
	}
	otherTok, _ := s.tokens.Issue(context.Background(), idB)
	big := strings.Repeat("a", 30000)
	runStorage(t, s, []storageCase{
		{name: "token rotation fires nothing; 66 public read", method: "GET", path: storageA, status: 200, want: `{}`},
		{name: "67 no Authorization", method: "PUT", path: storageA + "/k", body: `{"value":"v"}`, status: 401, want: unauthorized},
		{name: "67 wrong token", method: "PUT", path: storageA + "/k", body: `{"value":"v"}`, headers: auth("nope"), status: 401, want: unauthorized},
		{name: "67 another user's token", method: "PUT", path: storageA + "/k", body: `{"value":"v"}`, headers: auth(otherTok), status: 401, want: unauthorized},
		{name: "67 empty Authorization", method: "PUT", path: storageA + "/k", body: `{"value":"v"}`, headers: auth(""), status: 401, want: unauthorized},
		{name: "69 key not alphanumeric", method: "PUT", path: storageA + "/foo-bar", body: `{"value":"v"}`, headers: auth(tok), status: 400, want: errorsBody("key must be alphanumeric.")},
		{name: "69 underscore is not Lantern's", method: "PUT", path: storageA + "/foo_bar", body: `{"value":"v"}`, headers: auth(tok), status: 400, want: errorsBody("key must be alphanumeric.")},
		{name: "69 key 256", method: "PUT", path: storageA + "/" + strings.Repeat("k", 256), body: `{"value":"v"}`, headers: auth(tok), status: 400, want: errorsBody("key must be 1-255 characters long.")},
		{name: "70 value missing", method: "PUT", path: storageA + "/k", body: `{"other":"v"}`, headers: auth(tok), status: 400, want: valueRequired},
		{name: "70 value number", method: "PUT", path: storageA + "/k", body: `{"value":5}`, headers: auth(tok), status: 400, want: errorsBody("value must be a string.")},
		{name: "70 value null", method: "PUT", path: storageA + "/k", body: `{"value":null}`, headers: auth(tok), status: 400, want: errorsBody("value must be a string.")},
		{name: "70 value 30001", method: "PUT", path: storageA + "/k", body: `{"value":"` + big + `a"}`, headers: auth(tok), status: 400, want: errorsBody("value must not exceed 30,000 characters.")},
		{name: "70 emoji count twice", method: "PUT", path: storageA + "/k", body: `{"value":"` + strings.Repeat("🔥", 15001) + `"}`, headers: auth(tok), status: 400, want: errorsBody("value must not exceed 30,000 characters.")},
		{name: "71 value in query ignored", method: "PUT", path: storageA + "/k?value=v", headers: auth(tok), status: 400, want: valueRequired},
		{name: "other content type", method: "PUT", path: storageA + "/k", body: `{"value":"v"}`, headers: append(auth(tok), "Content-Type", "text/plain"), status: 400, want: valueRequired},
		{name: "top-level array", method: "PUT", path: storageA + "/k", body: `[{"value":"v"}]`, headers: auth(tok), status: 400, want: valueRequired},
		{name: "body over the 1 MiB cap", method: "PUT", path: storageA + "/k", body: `{"value":"` + strings.Repeat("a", core.MaxRequestBodySize) + `"}`, headers: auth(tok), status: 413, want: `{"error":"Request body too large."}`}, // docs/compat/lantern.md §1.8, Halyard
		{name: "79 malformed JSON", method: "PUT", path: storageA + "/k", body: `{"value":`, headers: auth(tok), status: 400, want: valueRequired},
		{name: "72 validation before 404", method: "PUT", path: "/api/v1/users/" + idU + "/storage/a-b", body: `{"value":"v"}`, status: 400, want: errorsBody("key must be alphanumeric.")},
		{name: "72 validation before 401", method: "PUT", path: storageA + "/k", body: `{}`, status: 400, want: valueRequired},
		{name: "73 PUT creates", method: "PUT", path: storageA + "/k", body: `{"value":"v1","extra":1}`, headers: auth(tok), status: 200, want: success, events: 1},
		{name: "73 PUT overwrites", method: "PUT", path: storageA + "/k", body: `{"value":"v2"}`, headers: auth(tok), status: 200, want: success, events: 1},
		{name: "68 Bearer accepted", method: "PUT", path: storageA + "/b", body: `{"value":"` + big + `"}`, headers: auth("Bearer " + tok), status: 200, want: success, events: 1},
		{name: "charset parameter allowed", method: "PUT", path: storageA + "/c", body: `{"value":"<&>"}`, headers: append(auth(tok), "Content-Type", "application/json; charset=utf-8"), status: 200, want: success, events: 1},
		{name: "75 GET key", method: "GET", path: storageA + "/k", status: 200, want: `{"value":"v2"}`},
		{name: "4 no HTML escaping", method: "GET", path: storageA + "/c", status: 200, want: `{"value":"<&>"}`},
		{name: "75 missing key", method: "GET", path: storageA + "/nope", status: 404, want: errorBody("Key nope does not exist in the storage.")},
		{name: "74 PATCH missing", method: "PATCH", path: storageA + "/nope", body: `{"value":"x"}`, headers: auth(tok), status: 404, want: errorBody("Key nope does not exist in the storage.")},
		{name: "74 PATCH existing", method: "PATCH", path: storageA + "/k", body: `{"value":"v3"}`, headers: auth(tok), status: 200, want: success, events: 1},
		{name: "78 empty value stored", method: "PUT", path: storageA + "/e", body: `{"value":""}`, headers: auth(tok), status: 200, want: success, events: 1},
		{name: "78 empty value read", method: "GET", path: storageA + "/e", status: 200, want: `{"value":""}`},
		{name: "storage object in insertion order", method: "GET", path: storageA, status: 200, want: `{"k":"v3","b":"` + big + `","c":"<&>","e":""}`},
		{name: "76 DELETE key", method: "DELETE", path: storageA + "/e", headers: auth(tok), status: 200, want: success, events: 1},
		{name: "76 then GET 404", method: "GET", path: storageA + "/e", status: 404, want: errorBody("Key e does not exist in the storage.")},
		{name: "76 DELETE missing", method: "DELETE", path: storageA + "/e", headers: auth(tok), status: 404, want: errorBody("Key e does not exist in the storage.")},
		{name: "DELETE all needs auth", method: "DELETE", path: storageA, status: 401, want: unauthorized},
		{name: "77 DELETE all", method: "DELETE", path: storageA, headers: auth(tok), status: 200, want: success, events: 1},
		{name: "77 then empty, token kept", method: "GET", path: storageA, status: 200, want: `{}`},
		{name: "7 case-insensitive storage path", method: "GET", path: "/API/v1/Users/" + idA + "/STORAGE/", status: 200, want: `{}`},
		{name: "key keeps its case", method: "PUT", path: "/api/v1/users/" + idA + "/Storage/MyKey", body: `{"value":"x"}`, headers: auth(tok), status: 200, want: success, events: 1},
		{name: "key case read back", method: "GET", path: storageA + "/MyKey", status: 200, want: `{"value":"x"}`},
	})
}

// TestStoragePairLimit covers the pair limit (docs/compat/lantern.md §5.1) and that a user with pairs but
// no token "has storage".
func TestStoragePairLimit(t *testing.T) {
	s := newTestServer(t, nil)
	s.simpleMember(idA)
	pairs := core.KV{}
	for i := range core.MaxKVPairs {
		pairs.Set(fmt.Sprintf("k%d", i), "v")
	}
	if err := s.hub.PatchKV(context.Background(), idA, pairs); err != nil {
		t.Fatal(err)
	}
	if r := s.do("GET", storageA+"/k1", ""); r.status != 200 {
		t.Fatalf("pairs without a token: %d %s", r.status, r.body)
	}
	tok, _ := s.tokens.Issue(context.Background(), idA)
	h := []string{"Authorization", tok, "Content-Type", jsonType}
	runStorage(t, s, []storageCase{
		{name: "80 513th key", method: "PUT", path: storageA + "/extra", body: `{"value":"v"}`, headers: h, status: 400, want: errorBody("You can only store up to 512 key-value pairs.")},
		{name: "overwrite at the limit", method: "PUT", path: storageA + "/k1", body: `{"value":"w"}`, headers: h, status: 200, want: success, events: 1},
	})
}

// TestStoragePersists: storage writes reach the real store (embedded
// MongoDB-compatible server) and survive a restart.
func TestStoragePersists(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded database")
	}
	dir := t.TempDir()
	open := func() *storage.Store { return openEmbedded(t, dir) }
	st := open()
	s := newTestServer(t, st)
	s.simpleMember(idA)
	tok, _ := s.tokens.Issue(context.Background(), idA)
	h := []string{"Authorization", tok, "Content-Type", jsonType}
	runStorage(t, s, []storageCase{
		{name: "put", method: "PUT", path: storageA + "/a", body: `{"value":"1"}`, headers: h, status: 200, want: success, events: 1},
		{name: "put", method: "PUT", path: storageA + "/b", body: `{"value":"2"}`, headers: h, status: 200, want: success, events: 1},
		{name: "delete", method: "DELETE", path: storageA + "/a", headers: h, status: 200, want: success, events: 1},
	})
	s.hub.Close()
	st.Close()

	st2 := open()
	defer st2.Close()
	s2 := newTestServer(t, st2)
	s2.simpleMember(idA)
	if r := s2.do("GET", storageA, ""); string(r.body) != `{"b":"2"}` {
		t.Fatalf("after restart: %d %s", r.status, r.body)
	}
}

// openEmbedded opens the embedded store on dir, as a node starting on it
// would; the caller closes it.
func openEmbedded(t *testing.T, dir string) *storage.Store {
	t.Helper()
	st, err := storage.Open(context.Background(), storage.Config{DataDir: dir, OpTimeout: 5 * time.Second, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

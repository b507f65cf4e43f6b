package lantern

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/dialects/lanyard"
	"github.com/halyardhq/halyard/internal/memstore"
	"github.com/halyardhq/halyard/server"
)

// testNow is the fixed clock of the tests: 65 s after the docs/compat/lantern.md §3.1 Spotify start.
var testNow = time.UnixMilli(1795324142869 + 65000)

// testServer is the real HTTP server on loopback with a real hub, the
// Lantern dialect and (for GET /) the Lanyard dialect, as wired in
// cmd/halyard.
type testServer struct {
	t       testing.TB
	url     string
	hub     *core.Hub
	tokens  *core.Tokens
	dialect *Dialect

	mu         sync.Mutex
	hubNow     time.Time
	dialectNow time.Time
}

func newTestServer(t testing.TB, store core.HubStore) *testServer {
	t.Helper()
	ts := &testServer{t: t, hubNow: testNow, dialectNow: testNow}
	hub := core.NewHub(core.HubOptions{Store: store, Now: ts.hubClock})
	if err := hub.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hub.Close() })
	tokens, _ := core.NewTokens(bytes.Repeat([]byte("s"), 32), memstore.New())
	// Card images come from a local stand-in, never the real CDN.
	cdn := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(cdn.Close)
	d := New(Options{Hub: hub, Tokens: tokens, ExternalURL: "http://halyard.test", CDNURL: cdn.URL, Now: ts.dialectClock})
	ly := lanyard.New(lanyard.Options{Hub: hub, Tokens: tokens, ExternalURL: "http://halyard.test"})
	srv := server.New(server.Options{Hub: hub, Tokens: tokens})
	srv.Register(ly, d)
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	srv.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	ts.url, ts.hub, ts.tokens, ts.dialect = "http://"+srv.Addr(), hub, tokens, d
	return ts
}

// hubClock is the hub's clock: setHubNow moves it (monitoring since, last
// seen); the dialect's clock stays at testNow.
func (s *testServer) hubClock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hubNow
}

// dialectClock is the dialect's clock (the Spotify clock values):
// testNow unless a test moves it with setDialectNow.
func (s *testServer) dialectClock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dialectNow
}

func (s *testServer) setDialectNow(t time.Time) {
	s.mu.Lock()
	s.dialectNow = t
	s.mu.Unlock()
}

func (s *testServer) setHubNow(t time.Time) {
	s.mu.Lock()
	s.hubNow = t
	s.mu.Unlock()
}

// response is one answer, body read.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request; headers are name, value pairs.
func (s *testServer) do(method, path string, body string, headers ...string) response {
	s.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.url+path, r)
	if err != nil {
		s.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, b}
}

// member makes a user monitored with the given Discord user JSON and
// presence (nil for none).
func (s *testServer) member(userJSON string, p *core.Presence) string {
	s.t.Helper()
	var du struct {
		ID            string `json:"id"`
		Username      string `json:"username"`
		Discriminator string `json:"discriminator"`
		GlobalName    string `json:"global_name"`
		Avatar        string `json:"avatar"`
		Bot           bool   `json:"bot"`
	}
	if err := json.Unmarshal([]byte(userJSON), &du); err != nil {
		s.t.Fatal(err)
	}
	s.hub.UpsertMember("g1", core.Member{
		User: core.DiscordUser{Raw: json.RawMessage(userJSON), ID: du.ID, Username: du.Username,
			Discriminator: du.Discriminator, GlobalName: du.GlobalName, Avatar: du.Avatar, Bot: du.Bot},
		Presence: p, SetPresence: true,
	})
	return du.ID
}

// simpleMember makes a user without avatar or presence monitored.
func (s *testServer) simpleMember(id string) string {
	return s.member(`{"id":"`+id+`","username":"u`+id[:4]+`","discriminator":"0","global_name":null,"avatar":null}`, nil)
}

// activity parses a raw Discord activity the way discord/ fills core's
// fields, for the fields these tests use.
func activity(t testing.TB, raw string) core.Activity {
	t.Helper()
	var a struct {
		Name          string `json:"name"`
		Type          int    `json:"type"`
		State         string `json:"state"`
		Details       string `json:"details"`
		ApplicationID string `json:"application_id"`
		SyncID        string `json:"sync_id"`
		CreatedAt     int64  `json:"created_at"`
		Timestamps    struct {
			Start int64 `json:"start"`
			End   int64 `json:"end"`
		} `json:"timestamps"`
		Assets struct {
			LargeImage string `json:"large_image"`
			LargeText  string `json:"large_text"`
			SmallImage string `json:"small_image"`
			SmallText  string `json:"small_text"`
		} `json:"assets"`
		Emoji *struct {
			Name     string `json:"name"`
			ID       string `json:"id"`
			Animated bool   `json:"animated"`
		} `json:"emoji"`
	}
	if err := json.Unmarshal([]byte(raw), &a); err != nil {
		t.Fatal(err)
	}
	out := core.Activity{Raw: json.RawMessage(raw), Name: a.Name, Type: a.Type, State: a.State, Details: a.Details,
		ApplicationID: a.ApplicationID, SyncID: a.SyncID, CreatedAt: a.CreatedAt, Start: a.Timestamps.Start,
		End: a.Timestamps.End, LargeImage: a.Assets.LargeImage, LargeText: a.Assets.LargeText,
		SmallImage: a.Assets.SmallImage, SmallText: a.Assets.SmallText}
	if a.Emoji != nil {
		out.Emoji = &core.Emoji{Name: a.Emoji.Name, ID: a.Emoji.ID, Animated: a.Emoji.Animated}
	}
	return out
}

// expectJSON fails unless got is exactly want, byte for byte.
func expectJSON(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	if string(got) != want {
		t.Fatalf("%s:\n got %s\nwant %s", what, got, want)
	}
}

// compact removes the insignificant whitespace of an expected JSON text
// written over several lines.
func compact(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

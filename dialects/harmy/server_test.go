package harmy

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/internal/memstore"
	"github.com/halyardhq/halyard/server"
)

// harmyServer is the harmy dialect served by the real server on a loopback
// listener.
type harmyServer struct {
	base    string
	port    string
	hub     *core.Hub
	tokens  *core.Tokens
	dialect *Dialect
}

// startHarmy serves the dialect over a hub backed by store (nil: memory
// only). Options' Hub and Tokens are filled in; the rate limits are off
// unless opts sets them.
func startHarmy(t testing.TB, opts Options, store core.HubStore) *harmyServer {
	t.Helper()
	hub := core.NewHub(core.HubOptions{Store: store})
	if err := hub.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	tokens, _ := core.NewTokens(bytes.Repeat([]byte("s"), 32), memstore.New())
	opts.Hub, opts.Tokens = hub, tokens
	d := New(opts)
	srv := server.New(server.Options{Hub: hub, Tokens: tokens})
	srv.Register(d)
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	srv.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		hub.Close()
	})
	_, port, _ := net.SplitHostPort(srv.Addr())
	return &harmyServer{base: "http://" + srv.Addr(), port: port, hub: hub, tokens: tokens, dialect: d}
}

// member makes a monitored user.
func (s *harmyServer) member(id, globalName, nick, avatar string, p *core.Presence) {
	raw, _ := json.Marshal(map[string]any{"id": id, "username": "u" + id, "global_name": globalName, "avatar": avatar})
	s.hub.UpsertMember("g", core.Member{User: core.DiscordUser{ID: id, Username: "u" + id, GlobalName: globalName, Avatar: avatar, Raw: raw},
		Nick: nick, Presence: p, SetPresence: true})
}

// get sends GET path with the given headers.
func (s *harmyServer) get(t testing.TB, path string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	return doGet(t, http.DefaultClient, s.base+path, header)
}

func doGet(t testing.TB, client *http.Client, url string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// auth is an Authorization header.
func auth(v string) http.Header { return http.Header{"Authorization": {v}} }

// sameJSON reports whether a and b are the same JSON value.
func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xb, yb)
}

// assertError checks status and that the body is harmy's error body with
// that code and a non-empty message.
func assertError(t testing.TB, resp *http.Response, body []byte, status int) {
	t.Helper()
	var e struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if resp.StatusCode != status || json.Unmarshal(body, &e) != nil || e.Error.Code != status || e.Error.Message == "" {
		t.Fatalf("want harmy error %d, got %d %s", status, resp.StatusCode, body)
	}
	var top map[string]json.RawMessage
	_ = json.Unmarshal(body, &top)
	if len(top) != 1 {
		t.Fatalf("error body has extra keys: %s", body)
	}
}

package lanyard

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/internal/memstore"
	"github.com/halyardhq/halyard/server"
)

// lanyardServer is the Lanyard dialect served by the real server on a
// loopback listener.
type lanyardServer struct {
	base   string
	hub    *core.Hub
	tokens *core.Tokens
}

// startLanyard serves the dialect, with metrics, over a hub backed by store
// (nil: memory only). Options' Hub and Tokens are filled in.
func startLanyard(t testing.TB, opts Options, store core.HubStore) *lanyardServer {
	t.Helper()
	hub := core.NewHub(core.HubOptions{Store: store})
	if err := hub.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	tokens, _ := core.NewTokens(bytes.Repeat([]byte("s"), 32), memstore.New())
	opts.Hub, opts.Tokens = hub, tokens
	srv := server.New(server.Options{Hub: hub, Tokens: tokens})
	srv.EnableMetrics(server.NewMetrics(hub)) // as in production: every request is timed
	srv.Register(New(opts))
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
	return &lanyardServer{base: "http://" + srv.Addr(), hub: hub, tokens: tokens}
}

// addMember makes a monitored user with the given Discord user JSON fields.
func (s *lanyardServer) addMember(id, avatar, discriminator string) {
	raw, _ := json.Marshal(map[string]any{"id": id, "username": "u" + id, "avatar": avatar, "discriminator": discriminator})
	s.hub.UpsertMember("g", core.Member{User: core.DiscordUser{ID: id, Avatar: avatar, Discriminator: discriminator, Raw: raw}})
}

// do sends one request and returns the response with its body read.
func do(t testing.TB, method, url string, header http.Header, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestServiceInfo(t *testing.T) {
	for _, tt := range []struct {
		name, invite, want string
	}{
		{"invite", "https://discord.gg/x", `"https://discord.gg/x"`},
		{"no invite", "", `null`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := startLanyard(t, Options{ExternalURL: "https://halyard.test", DiscordInvite: tt.invite}, nil)
			s.addMember("1", "", "0")
			s.addMember("2", "", "0")
			resp, body := do(t, "GET", s.base+"/", nil, nil)
			want := `{"success":true,"data":{"info":"Halyard provides Discord presences as an API and WebSocket, compatible with Lanyard, Lantern and harmy. Find out more here: https://halyard.test","discord_invite":` + tt.want + `,"monitored_user_count":2,"currently_monitoring_users":2}}`
			if resp.StatusCode != 200 || string(body) != want {
				t.Fatalf("GET / = %d %s\nwant %s", resp.StatusCode, body, want)
			}
			if ct := resp.Header.Get("Content-Type"); ct != server.JSONContentType {
				t.Fatalf("content-type %q", ct)
			}
		})
	}
}

func TestDiscordInviteAndInfoRoutes(t *testing.T) {
	const invite = "https://discord.gg/WScAm7vNGF"
	with := startLanyard(t, Options{DiscordInvite: invite}, nil)
	without := startLanyard(t, Options{}, nil)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	tests := []struct {
		name, method, path string
		s                  *lanyardServer
		status             int
		body               string // exact
	}{
		{"redirect", "GET", "/discord", with, 302, invite},
		{"redirect slash", "GET", "/discord/", with, 302, invite},
		{"no invite", "GET", "/discord", without, 404, notFound},
		{"sub path", "GET", "/discord/x", with, 404, notFound},
		{"POST", "POST", "/discord", with, 404, notFound},
		{"HEAD discord", "HEAD", "/discord", with, 404, ""},
		{"HEAD /", "HEAD", "/", with, 404, ""},
		{"POST /", "POST", "/", with, 404, notFound},
		{"unknown", "GET", "/nope", with, 404, notFound},
		{"unknown v1", "GET", "/v1/nope", with, 404, notFound},
		{"kv list", "GET", "/v1/users/1/kv", with, 404, notFound},
		{"OPTIONS", "OPTIONS", "/anything", with, 204, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, tt.s.base+tt.path, nil)
			resp, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.body == notFound {
				if !sameJSON(body, []byte(notFound)) {
					t.Fatalf("body %s", body)
				}
			} else if string(body) != tt.body {
				t.Fatalf("body %q, want %q", body, tt.body)
			}
			if tt.status == 302 {
				if loc := resp.Header.Get("Location"); loc != invite {
					t.Fatalf("location %q", loc)
				}
				if ct, ok := resp.Header["Content-Type"]; ok {
					t.Fatalf("302 has content-type %q", ct)
				}
			}
			if strings.HasPrefix(tt.path, "/") && resp.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Fatalf("no CORS header")
			}
		})
	}
}

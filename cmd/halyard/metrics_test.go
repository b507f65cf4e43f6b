package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestLanyardInfoQuicklinksAndMetricsWiring runs the production wiring in
// demo mode with an invite and a CDN stand-in configured: GET /, /discord,
// a quicklink through the configured CDN, and /metrics with the gateway's
// and hub's figures.
func TestLanyardInfoQuicklinksAndMetricsWiring(t *testing.T) {
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		fmt.Fprint(w, "png ", r.URL.Path)
	}))
	defer cdn.Close()

	m := NewMain()
	m.Stdout, m.Stderr = io.Discard, io.Discard
	args := []string{"--demo", "--demo-users", "5", "--demo-churn", "0", "--addr", "127.0.0.1:0",
		"--data-dir", t.TempDir(), "--log-level", "warn"}
	env := map[string]string{"DISCORD_INVITE": "https://discord.gg/test", "DISCORD_CDN_URL": cdn.URL + "/"}
	if err := m.ParseFlags(args, env); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := m.Run(ctx); err != nil {
		m.Close()
		t.Fatal(err)
	}
	defer m.Close()
	c := client{t, m.URL()}
	// The 5 demo members and the bot's own member (monitored like anyone).
	eventually(t, "6 monitored members", func() bool { return m.Hub.Count() == 6 })

	status, body := c.do("GET", "/", "", nil)
	var info struct {
		Data struct {
			Info          string `json:"info"`
			DiscordInvite string `json:"discord_invite"`
			Monitored     int    `json:"monitored_user_count"`
			Currently     int    `json:"currently_monitoring_users"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &info); status != 200 || err != nil || info.Data.DiscordInvite != "https://discord.gg/test" ||
		info.Data.Monitored != m.Hub.Count() || info.Data.Currently != m.Hub.Count() || !strings.HasSuffix(info.Data.Info, m.Config.HTTP.ExternalURL) {
		t.Fatalf("GET / = %d %s", status, body)
	}

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(m.URL() + "/discord")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "https://discord.gg/test" {
		t.Fatalf("/discord: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	id := m.Hub.All()[0].ID
	status, body = c.do("GET", "/"+id+".png", "", nil)
	if status != 200 || !strings.HasPrefix(string(body), "png /") {
		t.Fatalf("quicklink: %d %s", status, body)
	}

	status, body = c.do("GET", "/metrics", "", nil)
	for _, want := range []string{"halyard_gateway_ready 1", "halyard_gateway_identifies_total 1",
		fmt.Sprintf("halyard_monitored_users %d", m.Hub.Count()), `route="/*"`,
		`halyard_socket_connections{dialect="lanyard"} 0`} {
		if status != 200 || !strings.Contains(string(body), want) {
			t.Fatalf("/metrics (%d) lacks %q", status, want)
		}
	}
}

func TestCDNURLConfig(t *testing.T) {
	for _, tt := range []struct {
		env, want string
		ok        bool
	}{
		{"", "https://cdn.discordapp.com", true},
		{"http://127.0.0.1:9/", "http://127.0.0.1:9", true},
		{"cdn.example", "", false},
		{"ftp://cdn.example", "", false},
	} {
		env := map[string]string{}
		if tt.env != "" {
			env["DISCORD_CDN_URL"] = tt.env
		}
		cfg, err := ParseConfig([]string{"--demo"}, env, io.Discard)
		if (err == nil) != tt.ok || (tt.ok && cfg.Discord.CDNURL != tt.want) {
			t.Errorf("DISCORD_CDN_URL=%q: %q, %v", tt.env, cfg.Discord.CDNURL, err)
		}
	}
}

// TestLanternSocketMetrics checks that Lantern's sockets are counted in
// /metrics next to Lanyard's: one open socket, its message in and its
// INIT_ACK out.
func TestLanternSocketMetrics(t *testing.T) {
	m := startDemo(t, t.TempDir(), 5)
	c := client{t, m.URL()}
	id := m.Sim.MemberIDs(m.Sim.GuildIDs()[0])[0]
	eventually(t, "a member monitored", func() bool { return m.Hub.IsMonitored(id) })
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(m.URL(), "http")+"/lantern/socket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"op":2,"d":{"user_id":"`+id+`"}}`)); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for i := 0; ; i++ { // HELLO, then INIT_ACK
		_, msg, err := ws.ReadMessage()
		if err != nil || i == 2 {
			t.Fatalf("no INIT_ACK: %s %v", msg, err)
		}
		if strings.Contains(string(msg), `"INIT_ACK"`) {
			break
		}
	}
	status, body := c.do("GET", "/metrics", "", nil)
	for _, want := range []string{`halyard_socket_connections{dialect="lantern"} 1`,
		`halyard_socket_connections_opened_total{dialect="lantern"} 1`,
		`halyard_socket_messages_received_total{dialect="lantern"} 1`} {
		if status != 200 || !strings.Contains(string(body), want) {
			t.Fatalf("/metrics (%d) lacks %q", status, want)
		}
	}
	if !strings.Contains(string(body), `halyard_socket_messages_sent_total{dialect="lantern"}`) {
		t.Fatal("/metrics lacks Lantern's sent messages")
	}
}

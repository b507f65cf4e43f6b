package server

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/internal/memstore"
)

// startMetricsServer serves the base routes plus metrics on loopback.
func startMetricsServer(t *testing.T, hub *core.Hub, setup func(*Metrics)) string {
	t.Helper()
	tokens, _ := core.NewTokens(bytes.Repeat([]byte("k"), 32), memstore.New())
	s := New(Options{Hub: hub, Tokens: tokens})
	s.Register(echoBody{})
	m := NewMetrics(hub)
	if setup != nil {
		setup(m)
	}
	s.EnableMetrics(m)
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	s.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return "http://" + s.Addr()
}

func TestMetricsExposition(t *testing.T) {
	hub := core.NewHub(core.HubOptions{})
	hub.UpsertMember("g", core.Member{User: core.DiscordUser{ID: "1"}})
	hub.UpsertMember("g", core.Member{User: core.DiscordUser{ID: "2"}})
	base := startMetricsServer(t, hub, func(m *Metrics) {
		if err := m.RegisterGateway(func() GatewayStats {
			return GatewayStats{Ready: true, Reconnects: 2, Resumes: 1, Identifies: 1, Dispatches: 40, DecodeErrors: 3, Commands: 5}
		}); err != nil {
			t.Fatal(err)
		}
		for _, d := range []string{"lanyard", "lantern"} {
			if err := m.RegisterSockets(d, func() SocketStats {
				return SocketStats{Open: 3, Opened: 10, Closes: map[string]int64{"4004": 2}, Inits: map[SocketInit]int64{{Type: "all", Compression: "zlib"}: 4}, MessagesIn: 7, MessagesOut: 9}
			}); err != nil {
				t.Fatal(err)
			}
		}
	})
	do(t, "GET", base+"/healthz", nil, nil)
	do(t, "GET", base+"/healthz", nil, nil) // the second is counted with the first, in the same series
	do(t, "GET", base+"/nope", nil, nil)
	do(t, "PROPFIND", base+"/nope", nil, nil)
	do(t, "PUT", base+"/v1/echo", nil, strings.NewReader(strings.Repeat("a", 2<<20))) // refused by the body cap
	do(t, "OPTIONS", base+"/x", map[string]string{"Origin": "https://x.test", "Access-Control-Request-Method": "PUT"}, nil)

	for _, accept := range []string{"", "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited", "application/json", "*/*"} {
		resp, body := do(t, "GET", base+"/metrics", map[string]string{"Accept": accept}, nil)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
			t.Fatalf("Accept %q: %d %q", accept, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		for _, want := range []string{
			"halyard_monitored_users 2",
			"halyard_hub_events_total ",
			"halyard_hub_deliveries_total ",
			"halyard_hub_dropped_subscribers_total 0",
			"halyard_user_records_pending ",
			"halyard_hub_all_users_subscribers 0",
			`halyard_http_request_duration_seconds_bucket{code="2xx",method="GET",route="/healthz",le="0.005"}`,
			`halyard_http_request_duration_seconds_count{code="2xx",method="GET",route="/healthz"} 2`,
			`halyard_http_request_duration_seconds_count{code="4xx",method="GET",route="unmatched"} 1`,
			`halyard_http_request_duration_seconds_count{code="4xx",method="OTHER",route="unmatched"} 1`,
			`halyard_http_request_duration_seconds_count{code="4xx",method="PUT",route="/v1/echo"} 1`,
			"halyard_http_requests_in_flight 1",
			"halyard_gateway_ready 1",
			"halyard_gateway_reconnects_total 2",
			"halyard_gateway_resumes_total 1",
			"halyard_gateway_identifies_total 1",
			"halyard_gateway_dispatches_total 40",
			"halyard_gateway_decode_errors_total 3",
			"halyard_bot_commands_total 5",
			`halyard_socket_connections{dialect="lanyard"} 3`,
			`halyard_socket_connections{dialect="lantern"} 3`,
			`halyard_socket_connections_opened_total{dialect="lanyard"} 10`,
			`halyard_socket_closes_total{code="4004",dialect="lanyard"} 2`,
			`halyard_socket_inits_total{compression="zlib",dialect="lanyard",type="all"} 4`,
			`halyard_socket_messages_received_total{dialect="lanyard"} 7`,
			`halyard_socket_messages_sent_total{dialect="lanyard"} 9`,
			"go_goroutines ",
			"process_resident_memory_bytes ",
		} {
			if !strings.Contains(body, want) {
				t.Fatalf("Accept %q: exposition lacks %q:\n%s", accept, want, body)
			}
		}
		if strings.Contains(body, `method="OPTIONS"`) {
			t.Fatal("a CORS preflight was counted")
		}
	}
}

func TestMetricsRoutes(t *testing.T) {
	base := startMetricsServer(t, core.NewHub(core.HubOptions{}), nil)
	tests := []struct {
		method, path string
		status       int
		body         string // exact, or "" to skip
	}{
		{"GET", "/metrics", 200, ""},
		{"GET", "/metrics?x=1", 200, ""},
		{"POST", "/metrics", 200, ""},
		{"HEAD", "/metrics", 200, ""},
		{"GET", "/metrics/", 404, "Metrics available at /metrics"},
		{"GET", "/metrics/x", 404, "Metrics available at /metrics"},
		{"DELETE", "/metrics/x/y", 404, "Metrics available at /metrics"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			resp, body := do(t, tt.method, base+tt.path, nil, nil)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.body != "" {
				if body != tt.body {
					t.Fatalf("body %q", body)
				}
				if ct, ok := resp.Header["Content-Type"]; ok {
					t.Fatalf("content-type %q", ct)
				}
			}
		})
	}
}

func TestMetricsSameDialectTwice(t *testing.T) {
	m := NewMetrics(nil)
	stats := func() SocketStats { return SocketStats{} }
	if err := m.RegisterSockets("lanyard", stats); err != nil {
		t.Fatal(err)
	}
	if err := m.RegisterSockets("lanyard", stats); err == nil {
		t.Fatal("registering one dialect twice succeeded")
	}
}

package server

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/halyardhq/halyard/core"
)

// hubCollector reads the hub's counters at scrape time.
type hubCollector struct {
	hub                                                 *core.Hub
	monitored, subscribers, events, deliveries, dropped *prometheus.Desc
	recordsPending                                      *prometheus.Desc
}

func newHubCollector(hub *core.Hub) *hubCollector {
	return &hubCollector{
		hub:         hub,
		monitored:   prometheus.NewDesc("halyard_monitored_users", "Users in a watched guild, served by every dialect.", nil, nil),
		subscribers: prometheus.NewDesc("halyard_hub_all_users_subscribers", "Live subscriptions that follow every user.", nil, nil),
		events:      prometheus.NewDesc("halyard_hub_events_total", "Events the hub published (presence, KV and membership changes).", nil, nil),
		deliveries:  prometheus.NewDesc("halyard_hub_deliveries_total", "Events queued to subscribers; divided by halyard_hub_events_total it is the mean fan-out.", nil, nil),
		dropped:     prometheus.NewDesc("halyard_hub_dropped_subscribers_total", "Subscribers dropped because their queue overflowed.", nil, nil),
		recordsPending: prometheus.NewDesc("halyard_user_records_pending",
			"Changed user records waiting to be written to the database; it grows while the database refuses writes.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *hubCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.monitored
	ch <- c.subscribers
	ch <- c.events
	ch <- c.deliveries
	ch <- c.dropped
	ch <- c.recordsPending
}

// Collect implements prometheus.Collector.
func (c *hubCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.hub.Stats()
	ch <- prometheus.MustNewConstMetric(c.monitored, prometheus.GaugeValue, float64(st.Monitored))
	ch <- prometheus.MustNewConstMetric(c.subscribers, prometheus.GaugeValue, float64(st.Subscribers))
	ch <- prometheus.MustNewConstMetric(c.events, prometheus.CounterValue, float64(st.Events))
	ch <- prometheus.MustNewConstMetric(c.deliveries, prometheus.CounterValue, float64(st.Deliveries))
	ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(st.Dropped))
	ch <- prometheus.MustNewConstMetric(c.recordsPending, prometheus.GaugeValue, float64(st.RecordsPending))
}

// GatewayStats is a snapshot of the Discord gateway connection's counters
// (cmd/halyard fills it from the bot).
type GatewayStats struct {
	Ready        bool  // the session is READY (or RESUMED) now
	Reconnects   int64 // connections after the first
	Resumes      int64 // sessions resumed
	Identifies   int64 // fresh sessions (READY)
	Dispatches   int64 // dispatch events decoded
	DecodeErrors int64 // events, or parts of them, that could not be read
	Commands     int64 // bot commands run
}

// RegisterGateway exposes the gateway counters read from stats at scrape
// time as halyard_gateway_* (and halyard_bot_commands_total).
func (m *Metrics) RegisterGateway(stats func() GatewayStats) error {
	counter := func(name, help string, v func(GatewayStats) int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(v(stats())) })
	}
	for _, c := range []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "halyard_gateway_ready", Help: "1 while the Discord gateway session is ready, else 0."},
			func() float64 {
				if stats().Ready {
					return 1
				}
				return 0
			}),
		counter("halyard_gateway_reconnects_total", "Gateway connections after the first.", func(s GatewayStats) int64 { return s.Reconnects }),
		counter("halyard_gateway_resumes_total", "Gateway sessions resumed.", func(s GatewayStats) int64 { return s.Resumes }),
		counter("halyard_gateway_identifies_total", "Fresh gateway sessions (READY).", func(s GatewayStats) int64 { return s.Identifies }),
		counter("halyard_gateway_dispatches_total", "Gateway dispatch events decoded.", func(s GatewayStats) int64 { return s.Dispatches }),
		counter("halyard_gateway_decode_errors_total", "Gateway events, or parts of them, that could not be read.", func(s GatewayStats) int64 { return s.DecodeErrors }),
		counter("halyard_bot_commands_total", "Bot commands run (prefix and slash).", func(s GatewayStats) int64 { return s.Commands }),
	} {
		if err := m.reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// RegisterSockets exposes a dialect's WebSocket counters, read from stats
// at scrape time, as halyard_socket_* with a dialect label. Call it once
// per dialect.
func (m *Metrics) RegisterSockets(dialect string, stats func() SocketStats) error {
	l := prometheus.Labels{"dialect": dialect}
	return m.reg.Register(&socketCollector{
		stats:  stats,
		open:   prometheus.NewDesc("halyard_socket_connections", "WebSocket connections open now.", nil, l),
		opened: prometheus.NewDesc("halyard_socket_connections_opened_total", "WebSocket connections accepted.", nil, l),
		closes: prometheus.NewDesc("halyard_socket_closes_total", "WebSocket closes by close code or reason.", []string{"code"}, l),
		inits:  prometheus.NewDesc("halyard_socket_inits_total", "WebSocket subscriptions by type and compression.", []string{"type", "compression"}, l),
		in:     prometheus.NewDesc("halyard_socket_messages_received_total", "WebSocket messages received from clients.", nil, l),
		out:    prometheus.NewDesc("halyard_socket_messages_sent_total", "WebSocket messages sent to clients.", nil, l),
	})
}

// RegisterStreams exposes a dialect's server-sent-events counters as
// halyard_sse_* with a dialect label. Call it once per dialect.
func (m *Metrics) RegisterStreams(dialect string, stats func() SocketStats) error {
	l := prometheus.Labels{"dialect": dialect}
	return m.reg.Register(&socketCollector{
		stats:  stats,
		open:   prometheus.NewDesc("halyard_sse_streams", "Server-sent-events streams open now.", nil, l),
		opened: prometheus.NewDesc("halyard_sse_streams_opened_total", "Server-sent-events streams started.", nil, l),
		closes: prometheus.NewDesc("halyard_sse_closes_total", "Server-sent-events streams ended, by reason.", []string{"reason"}, l),
		out:    prometheus.NewDesc("halyard_sse_writes_total", "Writes to server-sent-events streams (events and pings).", nil, l),
	})
}

// socketCollector reads one dialect's socket (or server-sent-events
// stream) counters at scrape time. Streams receive nothing and have no
// subscription types: their inits and in are nil and not exposed.
type socketCollector struct {
	stats                                func() SocketStats
	open, opened, closes, inits, in, out *prometheus.Desc
}

// descs are the collector's descriptions that are set.
func (c *socketCollector) descs() []*prometheus.Desc {
	var ds []*prometheus.Desc
	for _, d := range []*prometheus.Desc{c.open, c.opened, c.closes, c.inits, c.in, c.out} {
		if d != nil {
			ds = append(ds, d)
		}
	}
	return ds
}

// Describe implements prometheus.Collector.
func (c *socketCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs() {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *socketCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.stats()
	ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(st.Open))
	ch <- prometheus.MustNewConstMetric(c.opened, prometheus.CounterValue, float64(st.Opened))
	for code, n := range st.Closes {
		ch <- prometheus.MustNewConstMetric(c.closes, prometheus.CounterValue, float64(n), code)
	}
	if c.inits != nil {
		for init, n := range st.Inits {
			ch <- prometheus.MustNewConstMetric(c.inits, prometheus.CounterValue, float64(n), init.Type, init.Compression)
		}
	}
	if c.in != nil {
		ch <- prometheus.MustNewConstMetric(c.in, prometheus.CounterValue, float64(st.MessagesIn))
	}
	ch <- prometheus.MustNewConstMetric(c.out, prometheus.CounterValue, float64(st.MessagesOut))
}

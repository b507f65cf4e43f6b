package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/halyardhq/halyard/history"
	"github.com/halyardhq/halyard/server"
)

// newMetrics builds the /metrics registry over the hub and connects the
// gateway's and the dialects' socket counters (Lanyard's and Lantern's).
func (m *Main) newMetrics() (*server.Metrics, error) {
	metrics := server.NewMetrics(m.Hub)
	if err := metrics.RegisterGateway(m.gatewayStats); err != nil {
		return nil, err
	}
	if m.Lanyard != nil {
		if err := metrics.RegisterSockets("lanyard", m.Lanyard.SocketStats); err != nil {
			return nil, err
		}
		if err := metrics.RegisterStreams("lanyard", m.Lanyard.StreamStats); err != nil {
			return nil, err
		}
	}
	if m.Lantern != nil {
		if err := metrics.RegisterSockets("lantern", m.Lantern.SocketStats); err != nil {
			return nil, err
		}
	}
	if m.History != nil {
		if err := registerHistoryMetrics(metrics, m.History); err != nil {
			return nil, err
		}
	}
	return metrics, nil
}

// registerHistoryMetrics exports the presence history recorder's figures.
func registerHistoryMetrics(metrics *server.Metrics, rec *history.Recorder) error {
	for _, c := range []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "halyard_history_users",
			Help: "Users who turned presence history on."},
			func() float64 { return float64(rec.Stats().Users) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "halyard_history_intervals_pending",
			Help: "History intervals recorded and not yet written; it grows while the database refuses writes."},
			func() float64 { return float64(rec.Stats().Pending) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "halyard_history_intervals_written_total",
			Help: "History intervals written to the database."},
			func() float64 { return float64(rec.Stats().Written) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "halyard_history_intervals_dropped_total",
			Help: "History intervals dropped because the database refused writes for too long."},
			func() float64 { return float64(rec.Stats().Dropped) }),
	} {
		if err := metrics.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// gatewayStats reads the bot's counters for the metrics.
func (m *Main) gatewayStats() server.GatewayStats {
	bot := m.bot()
	if bot == nil {
		return server.GatewayStats{}
	}
	st := bot.Stats()
	return server.GatewayStats{
		Ready:        bot.Ready(),
		Reconnects:   st.Reconnects,
		Resumes:      st.Resumes,
		Identifies:   st.Identifies,
		Dispatches:   st.Dispatches,
		DecodeErrors: st.DecodeErrors,
		Commands:     st.CommandsHandled,
	}
}

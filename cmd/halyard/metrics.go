package main

import (
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
	}
	if m.Lantern != nil {
		if err := metrics.RegisterSockets("lantern", m.Lantern.SocketStats); err != nil {
			return nil, err
		}
	}
	return metrics, nil
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

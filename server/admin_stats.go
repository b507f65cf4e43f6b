package server

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/internal/buildinfo"
)

// AdminStats is GET /admin/v1/stats (halyard admin stats reads it too).
type AdminStats struct {
	Version        string           `json:"version"`
	StartedAt      time.Time        `json:"started_at"`
	UptimeSeconds  int64            `json:"uptime_seconds"`
	MonitoredUsers int              `json:"monitored_users"`
	Sockets        map[string]int64 `json:"sockets"` // open sockets by dialect
	RecordsPending int              `json:"records_pending"`
	Subscribers    int              `json:"subscribers"`
	Events         int64            `json:"events"`
	Ready          bool             `json:"ready"`
}

// buildVersion is the version /admin/v1/stats and backup headers name:
// the module version, with the short commit when the build recorded one
// (internal/buildinfo, as `halyard version` and /metrics).
func buildVersion() string {
	in := buildinfo.Read()
	if r := in.ShortRevision(); r != "" {
		return in.Version + " " + r
	}
	return in.Version
}

// adminStatsHandler answers the node's counters; started is when the
// server was built (the process start, near enough).
func (s *Server) adminStatsHandler(started time.Time) echo.HandlerFunc {
	return func(c echo.Context) error {
		st := s.opts.Hub.Stats()
		out := AdminStats{Version: s.opts.Version, StartedAt: started.UTC().Truncate(time.Second),
			UptimeSeconds: int64(time.Since(started).Seconds()), MonitoredUsers: st.Monitored,
			Sockets: map[string]int64{}, RecordsPending: st.RecordsPending, Subscribers: st.Subscribers,
			Events: st.Events}
		if out.Version == "" {
			out.Version = buildVersion()
		}
		for name, stats := range s.opts.SocketStats {
			out.Sockets[name] = stats().Open
		}
		out.Ready = s.opts.Ready == nil || len(s.opts.Ready(c.Request().Context())) == 0
		return JSON(c, http.StatusOK, out)
	}
}

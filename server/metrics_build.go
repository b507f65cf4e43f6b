package server

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/halyardhq/halyard/internal/buildinfo"
)

// newBuildInfoGauge is halyard_build_info: always 1, its labels say which
// build answers (the Prometheus convention for *_build_info), so a
// dashboard can show versions side by side and spot a node left behind.
func newBuildInfoGauge(in buildinfo.Info) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "halyard_build_info",
		Help: "Always 1; the labels name the running build (module version, VCS revision, commit time, modified tree, Go version).",
		ConstLabels: prometheus.Labels{
			"version":   in.Version,
			"revision":  in.Revision,
			"vcs_time":  in.Time,
			"modified":  strconv.FormatBool(in.Modified),
			"goversion": in.GoVersion,
		},
	})
	g.Set(1)
	return g
}

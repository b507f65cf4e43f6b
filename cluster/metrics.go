package cluster

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Collector returns the node's bus counters for Prometheus (read at
// scrape time).
func (n *Node) Collector() prometheus.Collector { return &collector{n: n, descs: newDescs()} }

type descs struct {
	busIn, busOut, opsIn, opsOut, resyncs, reloads, lag, holder, connected *prometheus.Desc
}

func newDescs() descs {
	return descs{
		busIn:     prometheus.NewDesc("halyard_cluster_bus_messages_in_total", "Batches of hub changes received from other nodes.", nil, nil),
		busOut:    prometheus.NewDesc("halyard_cluster_bus_messages_out_total", "Batches of hub changes this node published.", nil, nil),
		opsIn:     prometheus.NewDesc("halyard_cluster_changes_applied_total", "Hub changes applied from other nodes.", nil, nil),
		opsOut:    prometheus.NewDesc("halyard_cluster_changes_published_total", "Hub changes this node published.", nil, nil),
		resyncs:   prometheus.NewDesc("halyard_cluster_resyncs_total", "Snapshots loaded from a shard holder (a gap, a late join or a reconnect).", nil, nil),
		reloads:   prometheus.NewDesc("halyard_cluster_kv_reloads_total", "Full reloads of KV maps and token hashes from the database.", nil, nil),
		lag:       prometheus.NewDesc("halyard_cluster_apply_lag_seconds", "Time from the publishing of the last applied batch to its application.", nil, nil),
		holder:    prometheus.NewDesc("halyard_cluster_shard_holder", "1 for the node holding each shard's gateway lease, as this node last read it.", []string{"shard", "node"}, nil),
		connected: prometheus.NewDesc("halyard_cluster_connected", "1 while this node is connected to NATS.", nil, nil),
	}
}

type collector struct {
	n     *Node
	descs descs
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	d := c.descs
	for _, x := range []*prometheus.Desc{d.busIn, d.busOut, d.opsIn, d.opsOut, d.resyncs, d.reloads, d.lag, d.holder, d.connected} {
		ch <- x
	}
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st, d := &c.n.stats, c.descs
	counter := func(desc *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, float64(v))
	}
	counter(d.busIn, st.BusIn.Load())
	counter(d.busOut, st.BusOut.Load())
	counter(d.opsIn, st.OpsIn.Load())
	counter(d.opsOut, st.OpsOut.Load())
	counter(d.resyncs, st.Resyncs.Load())
	counter(d.reloads, st.KVReloads.Load())
	ch <- prometheus.MustNewConstMetric(d.lag, prometheus.GaugeValue, float64(st.ApplyLagNanos.Load())/1e9)
	connected := 0.0
	if c.n.Connected() {
		connected = 1
	}
	ch <- prometheus.MustNewConstMetric(d.connected, prometheus.GaugeValue, connected)
	for shard, node := range c.n.LeaseHolders() {
		ch <- prometheus.MustNewConstMetric(d.holder, prometheus.GaugeValue, 1, strconv.Itoa(shard), node)
	}
}

package main

import (
	"context"
	"fmt"
	"time"

	"github.com/halyardhq/halyard/cluster"
	"github.com/halyardhq/halyard/discord"
	"github.com/halyardhq/halyard/server"
)

// startCluster joins the cluster (NATS_URL): the node subscribes to the
// other nodes' changes and takes part in the shard leases. Its bot opens
// no shard at start: each shard's gateway session opens when this node
// takes that shard's lease, and closes the moment it loses it.
func (m *Main) startCluster(ctx context.Context, botCfg discord.Config) error {
	cfg := &m.Config
	if err := m.Cluster.Open(ctx); err != nil {
		return err
	}
	botCfg.Hub = m.Cluster.Tee() // what the gateway changes goes to the other nodes too
	botCfg.Shards = []int{}
	bot, err := discord.New(botCfg)
	if err != nil {
		return err
	}
	gwCtx, gwCancel := context.WithTimeout(ctx, 60*time.Second)
	defer gwCancel()
	if err := bot.Open(gwCtx); err != nil {
		_ = bot.Close()
		return fmt.Errorf("preparing the Discord gateway: %v", err)
	}
	m.setBot(bot)
	m.Cluster.SetShards(bot)
	m.Cluster.Start()
	m.Logger.Info("joined the cluster", "node", cfg.Cluster.Name(), "nats", cfg.Cluster.NATSURL, "shards", bot.ShardCount())
	return nil
}

// newClusterNode makes (without connecting) this node's membership, so
// the HTTP server and /readyz can refer to it from their start.
func (m *Main) newClusterNode() {
	cfg := &m.Config
	m.Cluster = cluster.New(cluster.Config{URLs: cfg.Cluster.NATSURL, Creds: cfg.Cluster.NATSCreds,
		Name: cfg.Cluster.Name(), Hub: m.Hub, Tokens: m.Tokens, Logger: m.Logger.With("component", "cluster"),
		Sockets: func() int {
			return int(m.Lanyard.SocketStats().Open + m.Lantern.SocketStats().Open)
		}})
}

// bot returns the open bot, nil when this node holds no session.
func (m *Main) bot() *discord.Bot {
	m.botMu.Lock()
	defer m.botMu.Unlock()
	return m.Bot
}

// setBot replaces the bot and returns the previous one.
func (m *Main) setBot(b *discord.Bot) *discord.Bot {
	m.botMu.Lock()
	defer m.botMu.Unlock()
	old := m.Bot
	m.Bot = b
	return old
}

// clusterView shows the cluster to the admin API; the node joins after
// the server is built, so it is read at each request.
type clusterView struct{ m *Main }

// ClusterStatus is this node's view of the cluster; a single node (no
// NATS_URL) is a cluster of one holding the one shard.
func (v clusterView) ClusterStatus() server.ClusterStatus {
	node := v.m.Cluster
	st := server.ClusterStatus{Node: v.m.Config.Cluster.Name(), ShardCount: 1}
	if node == nil {
		self := server.ClusterNode{Name: st.Node, Shards: []int{}, LastSeen: time.Now().UTC(),
			Sockets: int(v.m.Lanyard.SocketStats().Open + v.m.Lantern.SocketStats().Open)}
		if bot := v.m.bot(); bot != nil && bot.Ready() {
			self.Shards = bot.OpenShards()
			st.ShardCount = bot.ShardCount()
		}
		st.Nodes = []server.ClusterNode{self}
		return st
	}
	if bot := v.m.bot(); bot != nil {
		st.ShardCount = bot.ShardCount()
	}
	for _, n := range node.Nodes() {
		st.Nodes = append(st.Nodes, server.ClusterNode{Name: n.Name, Shards: n.Shards, Sockets: n.Sockets, LastSeen: n.LastSeen.UTC()})
	}
	return st
}

package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/halyardhq/halyard/cluster"
	"github.com/halyardhq/halyard/discord"
	"github.com/halyardhq/halyard/server"
)

// startCluster joins the cluster (NATS_URL): the node subscribes to the
// other nodes' changes and takes part in the shard leases; the gateway
// session opens when this node takes the shard's lease.
func (m *Main) startCluster(ctx context.Context, botCfg discord.Config) error {
	cfg := &m.Config
	if err := m.Cluster.Open(ctx); err != nil {
		return err
	}
	botCfg.Hub = m.Cluster.Tee()
	m.shards.setConfig(botCfg)
	m.Cluster.Start()
	m.Logger.Info("joined the cluster", "node", cfg.Cluster.Name(), "nats", cfg.Cluster.NATSURL)
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
	m.shards = &singleShardBot{m: m}
	m.Cluster.SetShards(m.shards)
}

// singleShardBot opens today's one-session bot as shard 0 of 1 when the
// lease says so. It stands in until discord.Bot opens and closes shards
// itself (issue 14's sharding), which then implements
// cluster.ShardController directly.
type singleShardBot struct {
	cfg discord.Config
	m   *Main

	mu sync.Mutex
}

func (s *singleShardBot) setConfig(cfg discord.Config) {
	s.mu.Lock()
	s.cfg = cfg
	s.mu.Unlock()
}

// ShardCount is 1: one gateway session.
func (s *singleShardBot) ShardCount() int { return 1 }

// OpenShard creates and opens the bot.
func (s *singleShardBot) OpenShard(ctx context.Context, id int) error {
	if id != 0 {
		return fmt.Errorf("no shard %d: one session", id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m.bot() != nil {
		return nil
	}
	bot, err := discord.New(s.cfg)
	if err != nil {
		return err
	}
	if err := bot.Open(ctx); err != nil {
		_ = bot.Close()
		return err
	}
	s.m.setBot(bot)
	return nil
}

// CloseShard closes the bot at once; closing a closed one does nothing.
func (s *singleShardBot) CloseShard(int) error {
	bot := s.m.setBot(nil)
	if bot == nil {
		return nil
	}
	return bot.Close()
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
			self.Shards = []int{0}
		}
		st.Nodes = []server.ClusterNode{self}
		return st
	}
	if v.m.shards != nil {
		st.ShardCount = v.m.shards.ShardCount()
	}
	for _, n := range node.Nodes() {
		st.Nodes = append(st.Nodes, server.ClusterNode{Name: n.Name, Shards: n.Shards, Sockets: n.Sockets, LastSeen: n.LastSeen.UTC()})
	}
	return st
}

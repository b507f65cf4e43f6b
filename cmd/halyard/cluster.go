package main

import (
	"context"
	"fmt"
	"sync"

	"github.com/halyardhq/halyard/cluster"
	"github.com/halyardhq/halyard/discord"
)

// startCluster joins the cluster (NATS_URL): the node subscribes to the
// other nodes' changes and takes part in the shard leases; the gateway
// session opens when this node takes the shard's lease.
func (m *Main) startCluster(ctx context.Context, botCfg discord.Config) error {
	cfg := &m.Config
	m.Cluster = cluster.New(cluster.Config{URLs: cfg.Cluster.NATSURL, Creds: cfg.Cluster.NATSCreds,
		Name: cfg.Cluster.Name(), Hub: m.Hub, Tokens: m.Tokens, Logger: m.Logger.With("component", "cluster"),
		Sockets: func() int {
			return int(m.Lanyard.SocketStats().Open + m.Lantern.SocketStats().Open)
		}})
	if err := m.Cluster.Open(ctx); err != nil {
		return err
	}
	botCfg.Hub = m.Cluster.Tee()
	m.shards = &singleShardBot{cfg: botCfg, m: m}
	m.Cluster.SetShards(m.shards)
	m.Cluster.Start()
	m.Logger.Info("joined the cluster", "node", cfg.Cluster.Name(), "nats", cfg.Cluster.NATSURL)
	return nil
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

package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/halyardhq/halyard/core"
)

// ShardController opens and closes this node's gateway session of one
// Discord shard: the lease decides when. CloseShard closes at once and is
// idempotent.
type ShardController interface {
	ShardCount() int
	OpenShard(ctx context.Context, id int) error
	CloseShard(id int) error
}

// Defaults of Config.
const (
	DefaultLeaseTTL  = 6 * time.Second
	DefaultHeartbeat = 2 * time.Second
)

// Config says how a node joins the cluster.
type Config struct {
	// URLs are the NATS servers, comma-separated; Creds names a
	// credentials file (optional).
	URLs  string
	Creds string
	// Name is this node's name: one NATS subject token.
	Name   string
	Hub    *core.Hub
	Tokens *core.Tokens
	// Shards opens and closes the gateway sessions; set it with
	// SetShards before Start when it needs the node's Tee.
	Shards ShardController
	// Sockets returns how many client sockets this node holds (for the
	// cluster view); nil counts none.
	Sockets func() int
	// LeaseTTL is how long a shard lease lives without renewal
	// (DefaultLeaseTTL when zero); Heartbeat how often a node announces
	// itself (DefaultHeartbeat when zero).
	LeaseTTL  time.Duration
	Heartbeat time.Duration
	// RecordsEvery is how often the node stores its changed user records
	// and tells the others (DefaultRecordsEvery when zero).
	RecordsEvery time.Duration
	// History is the presence history recorder (history.go); nil: none.
	History HistorySync
	Logger  *slog.Logger
}

// Node is this process's membership of the cluster.
type Node struct {
	cfg    Config
	log    *slog.Logger
	nc     *nats.Conn
	leases jetstream.KeyValue
	stream string
	pub    *Publisher
	tee    *Tee
	stats  Stats

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	subs   []*nats.Subscription

	connected atomic.Bool
	joined    chan struct{} // closed once the node joined (join)
	closeOnce sync.Once

	mu        sync.Mutex
	peers     map[string]*peer  // by node name: their streams of hub changes
	kvStreams map[string]uint64 // announcement stream → last sequence number
	kvSeq     uint64
	held      map[int]uint64 // shard → lease revision, shards this node holds
	holders   map[int]string // shard → holder, as last read
	freeSeen  map[int]int    // shard → lease rounds it was seen free
	nodes     map[string]NodeInfo

	reloadKV chan struct{} // wakes the KV reloader
	kvMu     sync.Mutex    // orders announcement numbers with publishing

	// Records marks of the other nodes' streams (records.go).
	recordGen atomic.Uint64
	marksMu   sync.Mutex
	marks     map[string]*streamMarks // by stream
}

// New returns a node; Open connects it.
func New(cfg Config) *Node {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = DefaultLeaseTTL
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = DefaultHeartbeat
	}
	if cfg.RecordsEvery <= 0 {
		cfg.RecordsEvery = DefaultRecordsEvery
	}
	return &Node{cfg: cfg, log: cfg.Logger, stream: cfg.Name + "-" + nuid.Next(),
		peers: map[string]*peer{}, kvStreams: map[string]uint64{}, held: map[int]uint64{},
		holders: map[int]string{}, freeSeen: map[int]int{}, nodes: map[string]NodeInfo{},
		reloadKV: make(chan struct{}, 1), marks: map[string]*streamMarks{}, joined: make(chan struct{})}
}

// Name is this node's name.
func (n *Node) Name() string { return n.cfg.Name }

// Tee is what this node's bot writes into (valid after Open).
func (n *Node) Tee() *Tee { return n.tee }

// SetShards sets the shard controller (before Start).
func (n *Node) SetShards(c ShardController) { n.cfg.Shards = c }

// Open connects to NATS, creates the lease bucket, subscribes to the
// other nodes' changes and reloads every KV map and token hash (after
// subscribing, so nothing written meanwhile is missed). NATS servers that
// do not answer are not an error: the node keeps trying in the background
// (not ready meanwhile: Readiness) and joins once they answer; a bad
// setting (credentials file, NATS without JetStream) is.
func (n *Node) Open(ctx context.Context) error {
	n.ctx, n.cancel = context.WithCancel(context.Background())
	connected := make(chan struct{}, 1)
	opts := []nats.Option{nats.Name("halyard " + n.cfg.Name), nats.NoEcho(), nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond), nats.Timeout(5 * time.Second),
		// Servers down at start: connect in the background as after a
		// disconnect (ConnectHandler says when).
		nats.RetryOnFailedConnect(true),
		nats.ConnectHandler(func(*nats.Conn) {
			select {
			case connected <- struct{}{}:
			default:
			}
		}),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			n.connected.Store(false)
			n.log.Warn("cluster: cut off from NATS", "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			n.log.Info("cluster: reconnected to NATS; reloading", "server", nc.ConnectedUrlRedacted())
			n.connected.Store(true)
			n.onReconnect()
		}),
	}
	if n.cfg.Creds != "" {
		opts = append(opts, nats.UserCredentials(n.cfg.Creds))
	}
	nc, err := nats.Connect(n.cfg.URLs, opts...)
	if err != nil {
		return fmt.Errorf("cluster: cannot reach NATS at %s: %v", redactURLs(n.cfg.URLs), err)
	}
	n.nc = nc
	n.pub = newPublisher(nc, n.cfg.Name, n.stream, n.log, &n.stats)
	n.tee = &Tee{hub: n.cfg.Hub, pub: n.pub}
	// Writes made here are announced from now on; while NATS does not
	// answer, the client buffers them (or the others see a gap).
	if n.cfg.Hub != nil {
		n.cfg.Hub.SetKVWriteHook(n.announceKV)
		n.cfg.Hub.SetOptOutHook(n.announceOptOut)
		n.cfg.Hub.SetPurgeHook(n.announcePurge)
	}
	if n.cfg.Tokens != nil {
		n.cfg.Tokens.OnChange(n.announceToken)
	}
	if n.cfg.History != nil {
		n.cfg.History.SetAnnouncer(n.announceHistory)
	}
	if !nc.IsConnected() {
		n.log.Warn("cluster: NATS does not answer; joining once it does (not ready meanwhile)", "nats", redactURLs(n.cfg.URLs))
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			select {
			case <-n.ctx.Done():
				return
			case <-connected:
			}
			for {
				err := n.join(n.ctx)
				if err == nil {
					n.log.Info("cluster: joined", "server", nc.ConnectedUrlRedacted())
					return
				}
				n.log.Warn("cluster: joining failed; retrying", "err", err)
				select {
				case <-n.ctx.Done():
					return
				case <-time.After(time.Second):
				}
			}
		}()
		return nil
	}
	if err := n.join(ctx); err != nil {
		n.Close()
		return err
	}
	return nil
}

// join does what needs NATS: the lease bucket, the subscriptions, a
// reload of KV and tokens after them; then the node takes part (Start's
// loops wait for it).
func (n *Node) join(ctx context.Context) error {
	if err := n.openLeases(ctx); err != nil {
		return err
	}
	for subj, h := range map[string]nats.MsgHandler{
		subjectHub + "*":             n.onBatch,
		subjectKV:                    n.onAnnouncement,
		subjectNodes:                 n.onHeartbeat,
		subjectSnapshot + n.cfg.Name: n.serveSnapshot,
	} {
		sub, err := n.nc.Subscribe(subj, h)
		if err != nil {
			n.unsubscribe()
			return fmt.Errorf("cluster: subscribing to %s: %v", subj, err)
		}
		// Bursts of changes must not drop messages (a drop is a gap
		// and a resync): generous pending limits.
		_ = sub.SetPendingLimits(1<<20, 1<<30)
		n.subs = append(n.subs, sub)
	}
	if err := n.nc.FlushTimeout(5 * time.Second); err != nil {
		n.unsubscribe()
		return fmt.Errorf("cluster: NATS: %v", err)
	}
	if err := n.reloadAll(ctx); err != nil {
		n.unsubscribe()
		return err
	}
	n.connected.Store(n.nc.IsConnected())
	n.wg.Add(1)
	go n.kvReloader()
	close(n.joined)
	return nil
}

// openLeases opens the lease bucket, or creates it replicated on three
// servers when the NATS cluster has them, else on one. Nodes started
// together race to create it: a create that loses waits out JetStream's
// API timeout, so each attempt is short and the next one first opens the
// bucket the winner made.
func (n *Node) openLeases(ctx context.Context) error {
	js, err := jetstream.New(n.nc)
	if err != nil {
		return fmt.Errorf("cluster: JetStream: %v", err)
	}
	var lastErr error
	for ctx.Err() == nil {
		if kv, err := js.KeyValue(ctx, leaseBucket); err == nil {
			n.leases = kv
			return nil
		}
		for _, replicas := range []int{3, 1} {
			kv, err := n.createLeases(ctx, js, replicas)
			if err == nil {
				n.leases = kv
				return nil
			}
			lastErr = err
			if errors.Is(err, context.DeadlineExceeded) {
				break // another node's create may be under way: open it
			}
		}
		if !errors.Is(lastErr, context.DeadlineExceeded) {
			break // refused outright (no JetStream, no room): retrying will not help
		}
	}
	if lastErr == nil {
		lastErr = ctx.Err()
	}
	return fmt.Errorf("cluster: creating the lease bucket %s (is JetStream enabled on the NATS servers?): %v", leaseBucket, lastErr)
}

// leaseCreateTimeout bounds one attempt at creating the lease bucket.
const leaseCreateTimeout = time.Second

// createLeases makes one bounded attempt at creating the lease bucket.
func (n *Node) createLeases(ctx context.Context, js jetstream.JetStream, replicas int) (jetstream.KeyValue, error) {
	ctx, cancel := context.WithTimeout(ctx, leaseCreateTimeout)
	defer cancel()
	return js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: leaseBucket,
		Description: "Halyard: which node holds each Discord shard", TTL: n.cfg.LeaseTTL,
		History: 1, Replicas: replicas})
}

// unsubscribe drops the node's subscriptions (a failed join, Close).
func (n *Node) unsubscribe() {
	for _, s := range n.subs {
		_ = s.Unsubscribe()
	}
	n.subs = nil
}

// Start takes part in the shard leases and announces this node, once it
// joined; it returns at once.
func (n *Node) Start() {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		select {
		case <-n.ctx.Done():
			return
		case <-n.joined:
		}
		n.wg.Add(3)
		go n.leaseLoop()
		go n.heartbeatLoop()
		go n.recordLoop()
	}()
}

// Connected reports whether the node is connected to NATS.
func (n *Node) Connected() bool { return n.connected.Load() }

// Close gives up this node's shards (closing their sessions and freeing
// their leases for the others at once), sends what is queued and
// disconnects. Closing again does nothing.
func (n *Node) Close() error {
	n.closeOnce.Do(n.close)
	return nil
}

func (n *Node) close() {
	if n.cancel != nil {
		n.cancel()
	}
	n.wg.Wait()
	n.releaseAll()
	if n.pub != nil {
		n.pub.close()
	}
	if n.nc != nil {
		n.unsubscribe()
		_ = n.nc.FlushTimeout(time.Second)
		n.nc.Close()
	}
}

// Readiness lists why this node is not ready to serve as part of the
// cluster: cut off from NATS, or missing the state of a shard.
func (n *Node) Readiness() []string {
	select {
	case <-n.joined:
	default:
		return []string{"not joined to the cluster yet (NATS does not answer)"}
	}
	if !n.connected.Load() {
		return []string{"cut off from the cluster bus (NATS)"}
	}
	count := 1
	if n.cfg.Shards != nil {
		count = n.cfg.Shards.ShardCount()
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	var reasons []string
	for s := range count {
		holder, ok := n.holders[s]
		switch {
		case !ok:
			reasons = append(reasons, fmt.Sprintf("shard %d has no holder yet", s))
		case holder == n.cfg.Name:
			if !n.shardsSyncedLocked() {
				reasons = append(reasons, fmt.Sprintf("shard %d: guild members are still loading", s))
			}
		default:
			if p := n.peers[holder]; p == nil || !p.loaded {
				reasons = append(reasons, fmt.Sprintf("shard %d: the state of its holder %s is not loaded yet", s, holder))
			}
		}
	}
	return reasons
}

// shardsSyncedLocked reports whether the shards this node holds have
// loaded their guilds' members: the controller's own answer when it has
// one (a sharded bot knows each shard's sync; it opens shards one lease at
// a time, after its first sync was marked), else the tee's first sync.
func (n *Node) shardsSyncedLocked() bool {
	if s, ok := n.cfg.Shards.(interface{ Synced() bool }); ok {
		return s.Synced()
	}
	return n.tee.Synced()
}

// Stats returns the node's counters.
func (n *Node) Stats() *Stats { return &n.stats }

// LeaseHolders returns the holder of each shard as last read ("" none).
func (n *Node) LeaseHolders() map[int]string {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := map[int]string{}
	for s, h := range n.holders {
		out[s] = h
	}
	return out
}

func redactURLs(urls string) string {
	var out []string
	for _, u := range strings.Split(urls, ",") {
		if at := strings.LastIndex(u, "@"); at >= 0 {
			if i := strings.Index(u, "://"); i >= 0 && i < at {
				u = u[:i+3] + "***" + u[at:]
			}
		}
		out = append(out, u)
	}
	return strings.Join(out, ",")
}

var errNoReply = errors.New("cluster: no snapshot reply")

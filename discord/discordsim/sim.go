// Package discordsim is a local Discord: a gateway (WebSocket) and REST
// simulator with a deterministic synthetic population. Tests, benchmarks
// and Halyard's --demo mode run against it instead of discord.com.
//
// It speaks the part of Discord a presence bot uses, as Discord does, not
// as one library expects: HELLO, IDENTIFY, READY (with the gateway
// version the URL asked for), GUILD_CREATE, PRESENCE_UPDATE, member
// events, messages, interactions, RESUME with replay, op 7/op 9,
// request-guild-members chunking (the bot is a member like any other), and
// the REST routes a bot calls, each answer with Discord's X-RateLimit-*
// headers. Halyard's arikawa bot and an unmodified discord.js client
// (clients/test/discordjs.test.mjs, through cmd/discordsim) both run
// against it. Everything is served on one loopback listener.
package discordsim

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Gateway intent bits the simulator gates events on (docs/compat/discord.md §2.1, §3.6).
const (
	IntentGuilds         uint64 = 1 << 0  // GUILD_CREATE and friends
	IntentGuildMembers   uint64 = 1 << 1  // member add/update/remove, all-members op 8 (privileged)
	IntentGuildPresences uint64 = 1 << 8  // PRESENCE_UPDATE, presences in GUILD_CREATE (privileged)
	IntentGuildMessages  uint64 = 1 << 9  // MESSAGE_CREATE in guild channels
	IntentDirectMessages uint64 = 1 << 12 // MESSAGE_CREATE in DMs
	IntentMessageContent uint64 = 1 << 15 // content of others' guild messages (privileged)

	// PrivilegedIntents are the intents an application must have enabled (else close 4014).
	PrivilegedIntents = IntentGuildMembers | IntentGuildPresences | IntentMessageContent
)

const (
	knownIntents          uint64 = 1<<0 | 1<<1 | 1<<2 | 1<<3 | 1<<4 | 1<<5 | 1<<6 | 1<<7 | 1<<8 | 1<<9 | 1<<10 | 1<<11 | 1<<12 | 1<<13 | 1<<14 | 1<<15 | 1<<16 | 1<<20 | 1<<21 | 1<<24 | 1<<25
	defaultHeartbeat             = 41250 * time.Millisecond
	defaultSessionTTL            = 2 * time.Minute
	defaultFullGuildLimit        = 75000
	defaultReplayLimit           = 100000
	defaultReplayBytes           = 128 << 20
	interactionDeadline          = 3 * time.Second
)

// DefaultMemberRequestWindow is Discord's real limit on "all members"
// op 8 requests: one per guild per 30 s.
const DefaultMemberRequestWindow = 30 * time.Second

// Config configures a Sim. The zero value is usable.
type Config struct {
	Addr              string        // listen address, default "127.0.0.1:0" (gateway WS and REST on the same listener)
	Token             string        // bot token without "Bot " prefix; default "sim-token"
	HeartbeatInterval time.Duration // default 41250ms; must be >0
	SessionTTL        time.Duration // how long a dropped session stays resumable, default 2m
	Seed              int64         // population seed
	Members           int           // synthetic members in the default guild (0 = none); scales to 1_000_000
	Guilds            int           // number of guilds, default 1; guild 0 has all members, others a deterministic subset
	AllowedIntents    uint64        // privileged intents the app has enabled; default: all three
	Logger            *slog.Logger  // nil = discard

	// MemberRequestWindow limits "all members" op 8 requests to one per
	// guild per window; excess requests get a RATE_LIMITED dispatch.
	// 0 means no limit (convenient for tests); set
	// DefaultMemberRequestWindow for Discord's behaviour.
	MemberRequestWindow time.Duration
	// Hostile makes presence-bearing dispatches use odd but real-world
	// encodings: timestamps as strings and floats, unknown fields, partial
	// users. arikawa's typed decoders drop such events; lenient parsers must not.
	Hostile bool
	// BaseTime anchors the synthetic population's timestamps (activity
	// starts, join dates). Zero means time.Now() at New. The same Seed,
	// Members, Guilds and BaseTime give the same population.
	BaseTime time.Time
	// FullGuildLimit is the member count above which GUILD_CREATE carries
	// only the bot's own member and no presences; default 75000.
	FullGuildLimit int
	// ReplayLimit caps the dispatches kept per session for RESUME; default 100000.
	ReplayLimit int
	// ReplayBytes caps the bytes of those dispatches; default 128 MiB.
	// A million members' chunks with presences are ~850 MB, which a
	// session kept whole for its lifetime; a resume only ever needs what
	// was in flight when the connection dropped.
	ReplayBytes int
	// RESTBucketLimit is how many REST requests one rate-limit bucket
	// (a route and its guild, channel or webhook) allows per
	// RESTBucketWindow before answering 429; default 10000, which no
	// test reaches. Every answer carries the bucket's X-RateLimit-*
	// headers either way.
	RESTBucketLimit int
	// RESTBucketWindow is how long a bucket's window lasts; default 1s.
	RESTBucketWindow time.Duration
	// Shards is the shard count GET /gateway/bot recommends; default 1.
	Shards int
	// GuildsPerShard is the most guilds a shard may hold: an IDENTIFY
	// whose shard count leaves more (guilds > count × GuildsPerShard) is
	// closed with 4011 (sharding required). Default 2500, Discord's.
	GuildsPerShard int
	// SessionStartLimit is session_start_limit.total, the IDENTIFYs
	// allowed per SessionStartWindow (default 1000 per 24 h); past it
	// IDENTIFY closes 4004, as Discord resets the token.
	SessionStartLimit  int
	SessionStartWindow time.Duration
	// MaxConcurrency is session_start_limit.max_concurrency; default 1.
	MaxConcurrency int
	// EnforceMaxConcurrency answers op 9 to an IDENTIFY within 5 s of the
	// last one of its bucket (shard_id % MaxConcurrency), as Discord
	// does; off, such IDENTIFYs are only counted (Stats.IdentifiesTooFast).
	EnforceMaxConcurrency bool
	// Clock is the time the identify limits are reckoned on; default
	// time.Now. Tests move it instead of waiting 5 s.
	Clock func() time.Time
	// Extra serves the requests that are neither REST (/api…) nor a
	// gateway upgrade (halyard sim's demo admin routes); nil: 404.
	Extra http.Handler
	// ClockSkew shifts the Date header of every answer from the local
	// clock (SetClockSkew changes it later), so a client that checks its
	// clock against Discord's sees a skew.
	ClockSkew time.Duration
}

// Stats counts gateway activity since New.
type Stats struct {
	Identifies        int64 // accepted IDENTIFYs
	Resumes           int64 // successful RESUMEs
	Connections       int64 // WebSocket connections ever accepted
	ActiveConnections int64 // WebSocket connections open now
	Dispatches        int64 // op 0 frames queued to sessions (READY included)
	// IdentifiesTooFast counts IDENTIFYs within 5 s of the last one of
	// their max_concurrency bucket (refused with op 9 only when
	// Config.EnforceMaxConcurrency is set).
	IdentifiesTooFast int64
}

// Sim is a running simulator. All methods are safe for concurrent use.
type Sim struct {
	cfg    Config
	log    *slog.Logger
	ln     net.Listener
	srv    *http.Server
	base   string // "127.0.0.1:PORT"
	closed chan struct{}
	once   sync.Once
	wg     sync.WaitGroup

	ack atomic.Bool

	// allowed is the privileged intents the application has enabled
	// (Config.AllowedIntents, then SetAllowedIntents); skew is ClockSkew
	// in nanoseconds.
	allowed atomic.Uint64
	skew    atomic.Int64

	identifies, resumes, connections, active, dispatches, tooFast atomic.Int64

	readyOnce sync.Once
	readyCh   chan struct{}

	// mu guards everything below, the population and all sessions.
	mu       sync.Mutex
	pop      *population
	sessions map[string]*session
	conns    map[*gwConn]struct{}
	ids      idMinter
	rl       rateLimiter
	msgs     []Message
	history  map[uint64][]storedMessage // channel id -> its last messages
	dms      map[uint64]uint64          // user id -> DM channel id
	dmUsers  map[uint64]uint64          // DM channel id -> user id
	inters   map[uint64]*interaction
	cmds     commandStore
	lastAll  map[uint64]time.Time // guild -> last all-members op 8
	churnRNG *churnSource
	idl      identifyLimits
}

// New starts a simulator listening on cfg.Addr.
func New(cfg Config) (*Sim, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Token == "" {
		cfg.Token = "sim-token"
	}
	if cfg.HeartbeatInterval < 0 {
		return nil, errors.New("discordsim: HeartbeatInterval must be > 0")
	}
	if cfg.HeartbeatInterval == 0 {
		cfg.HeartbeatInterval = defaultHeartbeat
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = defaultSessionTTL
	}
	if cfg.Guilds <= 0 {
		cfg.Guilds = 1
	}
	if cfg.Members < 0 {
		return nil, errors.New("discordsim: Members must be >= 0")
	}
	if cfg.AllowedIntents == 0 {
		cfg.AllowedIntents = PrivilegedIntents
	}
	if cfg.BaseTime.IsZero() {
		cfg.BaseTime = time.Now()
	}
	if cfg.FullGuildLimit <= 0 {
		cfg.FullGuildLimit = defaultFullGuildLimit
	}
	if cfg.ReplayLimit <= 0 {
		cfg.ReplayLimit = defaultReplayLimit
	}
	if cfg.ReplayBytes <= 0 {
		cfg.ReplayBytes = defaultReplayBytes
	}
	if cfg.RESTBucketLimit <= 0 {
		cfg.RESTBucketLimit = defaultBucketLimit
	}
	if cfg.RESTBucketWindow <= 0 {
		cfg.RESTBucketWindow = time.Second
	}
	if cfg.Shards < 0 || cfg.GuildsPerShard < 0 || cfg.SessionStartLimit < 0 || cfg.MaxConcurrency < 0 {
		return nil, errors.New("discordsim: Shards, GuildsPerShard, SessionStartLimit and MaxConcurrency must be >= 0")
	}
	cfg.Shards = max(cfg.Shards, 1)
	if cfg.GuildsPerShard == 0 {
		cfg.GuildsPerShard = defaultGuildsPerShard
	}
	if cfg.SessionStartLimit == 0 {
		cfg.SessionStartLimit = defaultSessionStartTotal
	}
	if cfg.SessionStartWindow <= 0 {
		cfg.SessionStartWindow = defaultSessionStartWindow
	}
	cfg.MaxConcurrency = max(cfg.MaxConcurrency, 1)
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	s := &Sim{
		cfg:      cfg,
		log:      log,
		ln:       ln,
		base:     ln.Addr().String(),
		closed:   make(chan struct{}),
		readyCh:  make(chan struct{}),
		pop:      newPopulation(cfg.Seed, cfg.Members, cfg.Guilds, cfg.BaseTime),
		sessions: make(map[string]*session),
		conns:    make(map[*gwConn]struct{}),
		dms:      make(map[uint64]uint64),
		history:  make(map[uint64][]storedMessage),
		dmUsers:  make(map[uint64]uint64),
		inters:   make(map[uint64]*interaction),
		lastAll:  make(map[uint64]time.Time),
		churnRNG: newChurnSource(cfg.Seed),
		idl:      identifyLimits{lastInBkt: make(map[int]time.Time)},
	}
	s.cmds.init()
	s.rl = rateLimiter{limit: cfg.RESTBucketLimit, window: cfg.RESTBucketWindow, buckets: map[string]*bucketWindow{}}
	s.ack.Store(true)
	s.allowed.Store(cfg.AllowedIntents)
	s.skew.Store(int64(cfg.ClockSkew))
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serveHTTP), ReadHeaderTimeout: 10 * time.Second}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		_ = s.srv.Serve(ln)
	}()
	go func() {
		defer s.wg.Done()
		s.expireSessions()
	}()
	return s, nil
}

// Close stops the listener, drops every connection and waits for the
// simulator's goroutines.
func (s *Sim) Close() error {
	var err error
	s.once.Do(func() {
		close(s.closed)
		err = s.srv.Close()
		s.mu.Lock()
		conns := make([]*gwConn, 0, len(s.conns))
		for c := range s.conns {
			conns = append(conns, c)
		}
		s.mu.Unlock()
		for _, c := range conns {
			c.kill()
		}
		s.wg.Wait()
	})
	return err
}

// GatewayURL is the WebSocket URL to dial, without query ("ws://127.0.0.1:PORT/").
func (s *Sim) GatewayURL() string { return "ws://" + s.base + "/" }

// RESTURL is the REST base ("http://127.0.0.1:PORT"); routes live under
// /api/v9, /api/v10 and /api.
func (s *Sim) RESTURL() string { return "http://" + s.base }

// Token is the bot token without the "Bot " prefix.
func (s *Sim) Token() string { return s.cfg.Token }

// BotUserID is the bot user's snowflake.
func (s *Sim) BotUserID() string { return strconv.FormatUint(s.pop.botID, 10) }

// ApplicationID is the application's snowflake (equal to the bot user ID, as for modern bots).
func (s *Sim) ApplicationID() string { return strconv.FormatUint(s.pop.botID, 10) }

// GuildIDs lists the simulated guilds, default guild first.
func (s *Sim) GuildIDs() []string {
	out := make([]string, len(s.pop.guilds))
	for i, g := range s.pop.guilds {
		out[i] = strconv.FormatUint(g.id, 10)
	}
	return out
}

// MemberIDs lists the members of a guild in ascending ID order (the bot
// itself is not included). Unknown guild gives nil.
func (s *Sim) MemberIDs(guildID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.pop.guildByString(guildID)
	if g == nil {
		return nil
	}
	ids := s.pop.memberIDs(g)
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = strconv.FormatUint(id, 10)
	}
	return out
}

// SetAckHeartbeats turns heartbeat ACKs on (default) or off, for zombie-connection tests.
func (s *Sim) SetAckHeartbeats(on bool) { s.ack.Store(on) }

// Stats returns the gateway counters.
func (s *Sim) Stats() Stats {
	return Stats{
		Identifies:        s.identifies.Load(),
		Resumes:           s.resumes.Load(),
		Connections:       s.connections.Load(),
		ActiveConnections: s.active.Load(),
		Dispatches:        s.dispatches.Load(),
		IdentifiesTooFast: s.tooFast.Load(),
	}
}

// WaitReady returns once at least one session has been sent READY and all
// of its GUILD_CREATEs (written to the socket), or when ctx ends.
func (s *Sim) WaitReady(ctx context.Context) error {
	select {
	case <-s.readyCh:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.closed:
		return errors.New("discordsim: closed")
	}
}

func (s *Sim) markReady() { s.readyOnce.Do(func() { close(s.readyCh) }) }

// expireSessions drops detached sessions older than SessionTTL.
func (s *Sim) expireSessions() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.closed:
			return
		case now := <-t.C:
			s.mu.Lock()
			for id, ss := range s.sessions {
				if ss.conn == nil && now.Sub(ss.detachedAt) > s.cfg.SessionTTL {
					delete(s.sessions, id)
				}
			}
			s.mu.Unlock()
		}
	}
}

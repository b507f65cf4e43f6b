package discordsim

import (
	"encoding/json"
	"strconv"
	"time"
)

// Discord's sharding rules the simulator holds clients to
// (docs/compat/discord.md §8, Discord's "Sharding" and "Session Start
// Limit" documentation):
//
//   - a guild belongs to shard (guild_id >> 22) % num_shards; its
//     dispatches go only to sessions of that shard, and guild-less ones
//     (DMs, DM interactions) only to shard 0;
//   - IDENTIFY's shard must be [shard_id, num_shards] with
//     0 <= shard_id < num_shards, else close 4010; a shard count that
//     leaves more than GuildsPerShard guilds to a shard closes 4011;
//   - every accepted IDENTIFY spends one of session_start_limit's
//     `total` session starts for `reset_after`; once none remain, Discord
//     resets the bot's token, so further IDENTIFYs close 4004;
//   - at most max_concurrency IDENTIFYs per 5 s, one per rate-limit
//     bucket (shard_id % max_concurrency): an IDENTIFY within 5 s of the
//     last one of its bucket is over the limit. Discord answers op 9
//     (invalid session, not resumable). The simulator does so only when
//     Config.EnforceMaxConcurrency is set (on Config.Clock, which tests
//     can move); by default it counts such IDENTIFYs
//     (Stats.IdentifiesTooFast) and accepts them, because tests and the
//     demo identify without waiting (discord.Config.FastIdentify).

// Defaults of the sharding settings.
const (
	defaultGuildsPerShard     = 2500
	defaultSessionStartTotal  = 1000
	defaultSessionStartWindow = 24 * time.Hour
	// identifyWindow is Discord's: max_concurrency IDENTIFYs per 5 s.
	identifyWindow = 5 * time.Second
)

// parseShard reads IDENTIFY's shard field: absent or null is [0, 1];
// anything but two integers with 0 <= id < count is invalid (close 4010).
func parseShard(raw json.RawMessage) (id, count int, ok bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, 1, true
	}
	var pair []json.RawMessage
	if err := json.Unmarshal(raw, &pair); err != nil || len(pair) != 2 {
		return 0, 0, false
	}
	var v [2]int
	for i, r := range pair {
		n, err := strconv.ParseInt(string(r), 10, 32)
		if err != nil {
			return 0, 0, false
		}
		v[i] = int(n)
	}
	if v[1] < 1 || v[0] < 0 || v[0] >= v[1] {
		return 0, 0, false
	}
	return v[0], v[1], true
}

// shardOf is the shard a guild belongs to among count shards.
func shardOf(guildID uint64, count int) int {
	return int((guildID >> 22) % uint64(count))
}

// identifyLimits is the session start limit and the identify buckets.
// Guarded by Sim.mu.
type identifyLimits struct {
	used       int               // session starts spent since windowFrom
	windowFrom time.Time         // start of the current reset_after window
	lastInBkt  map[int]time.Time // bucket → time of its last accepted IDENTIFY
}

// now is the simulator's clock for the identify limits.
func (s *Sim) now() time.Time {
	if s.cfg.Clock != nil {
		return s.cfg.Clock()
	}
	return time.Now()
}

// rollLocked starts a new session start window once reset_after passed.
func (s *Sim) rollLocked(now time.Time) {
	l := &s.idl
	if l.windowFrom.IsZero() || now.Sub(l.windowFrom) >= s.cfg.SessionStartWindow {
		l.windowFrom, l.used = now, 0
	}
}

// SessionStartLimit is GET /gateway/bot's session_start_limit.
type SessionStartLimit struct {
	Total          int `json:"total"`
	Remaining      int `json:"remaining"`
	ResetAfter     int `json:"reset_after"` // milliseconds
	MaxConcurrency int `json:"max_concurrency"`
}

// StartLimit returns the session start limit as GET /gateway/bot reports it now.
func (s *Sim) StartLimit() SessionStartLimit {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.rollLocked(now)
	reset := s.cfg.SessionStartWindow - now.Sub(s.idl.windowFrom)
	return SessionStartLimit{Total: s.cfg.SessionStartLimit, Remaining: max(0, s.cfg.SessionStartLimit-s.idl.used),
		ResetAfter: int(reset.Milliseconds()), MaxConcurrency: s.cfg.MaxConcurrency}
}

// admitIdentifyLocked applies the session start limit and max_concurrency
// to an IDENTIFY of shard id: close code 4004 once no session start
// remains, op9 true when it is over max_concurrency and the window is
// enforced (identifyWindow); otherwise it spends a session start.
func (s *Sim) admitIdentifyLocked(shardID int) (closeCode int, op9 bool) {
	now := s.now()
	s.rollLocked(now)
	if s.idl.used >= s.cfg.SessionStartLimit {
		return 4004, false
	}
	bucket := shardID % s.cfg.MaxConcurrency
	if last, ok := s.idl.lastInBkt[bucket]; ok && now.Sub(last) < identifyWindow {
		s.tooFast.Add(1)
		if s.cfg.EnforceMaxConcurrency {
			return 0, true
		}
	}
	s.idl.lastInBkt[bucket] = now
	s.idl.used++
	return 0, false
}

// ShardSession describes one identified gateway session.
type ShardSession struct {
	Shard      [2]int // [shard_id, num_shards]
	Connected  bool   // attached to a connection now (false while resumable)
	GuildCount int    // guilds routed to it
}

// Sessions lists the identified sessions (connected or resumable).
func (s *Sim) Sessions() []ShardSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ShardSession, 0, len(s.sessions))
	for _, ss := range s.sessions {
		n := 0
		for _, g := range s.pop.guilds {
			if ss.ownsGuild(g.id) {
				n++
			}
		}
		out = append(out, ShardSession{Shard: [2]int{ss.shardID, ss.shardCount}, Connected: ss.conn != nil, GuildCount: n})
	}
	return out
}

// GuildShard returns the shard guildID belongs to among count shards
// ((guild_id >> 22) % count); -1 for a malformed id or count.
func GuildShard(guildID string, count int) int {
	id, ok := parseID(guildID)
	if !ok || count < 1 {
		return -1
	}
	return shardOf(id, count)
}

package discord

import (
	"strconv"
	"sync"

	"github.com/halyardhq/halyard/core"
)

// guildSync tracks one guild's all-members request: which members the
// chunks named, so that those who left while the bot was away can be
// pruned once the last chunk arrived.
type guildSync struct {
	nonce   string
	count   int             // chunk_count, once a chunk arrived
	chunks  map[int]bool    // chunk indexes received (replays are ignored)
	seen    memberSet       // members named by the chunks
	added   map[string]bool // joined (GUILD_MEMBER_ADD) during the request
	removed map[string]bool // left during the request: later chunks must not revive them
}

// syncState is the member sync of every watched guild. It is changed on
// the ordered event handler and read by Synced and the rate-limit retry.
type syncState struct {
	mu      sync.Mutex
	nonces  int
	readied map[int]bool          // shards that had a READY since they were opened
	known   map[string]bool       // watched guilds the bot is in
	done    map[string]bool       // guilds whose full list arrived at least once
	pending map[string]*guildSync // guild → the latest all-members request
}

func newSyncState() *syncState {
	return &syncState{readied: map[int]bool{}, known: map[string]bool{}, done: map[string]bool{}, pending: map[string]*guildSync{}}
}

// onReady records a shard's READY and the watched guilds it lists.
func (s *syncState) onReady(shard int, guilds []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.readied[shard] = true
	for _, g := range guilds {
		s.known[g] = true
	}
}

// begin starts a new all-members request for the guild and returns its
// nonce; an earlier unfinished request of that guild is abandoned.
func (s *syncState) begin(guildID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.known[guildID] = true
	s.nonces++
	nonce := "halyard-" + strconv.Itoa(s.nonces)
	s.pending[guildID] = &guildSync{nonce: nonce, chunks: map[int]bool{},
		added: map[string]bool{}, removed: map[string]bool{}}
	return nonce
}

// unfinished returns the guild → nonce of every request still waiting for
// chunks.
func (s *syncState) unfinished() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for g, p := range s.pending {
		out[g] = p.nonce
	}
	return out
}

// isPending reports whether nonce is the guild's unfinished request.
func (s *syncState) isPending(guildID, nonce string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pending[guildID]
	return p != nil && p.nonce == nonce
}

// wasRemoved reports whether the member left during the guild's request.
func (s *syncState) wasRemoved(guildID, userID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pending[guildID]
	return p != nil && p.removed[userID]
}

// noteChunk records a chunk's members; complete is true when it was the
// last chunk of the request, which is then finished and returned.
func (s *syncState) noteChunk(guildID, nonce string, index, count int, members []string) (finished *guildSync) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pending[guildID]
	if p == nil || p.nonce != nonce || p.chunks[index] {
		return nil
	}
	p.chunks[index] = true
	p.count = max(count, 1)
	for _, id := range members {
		p.seen.add(id)
	}
	if len(p.chunks) < p.count {
		return nil
	}
	delete(s.pending, guildID)
	s.done[guildID] = true
	return p
}

// keep reports whether a member survives the prune after a full sync.
func (p *guildSync) keep(userID string) bool { return p.seen.has(userID) || p.added[userID] }

// memberAdded records a join during the guild's request.
func (s *syncState) memberAdded(guildID, userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.pending[guildID]; p != nil {
		p.added[userID] = true
		delete(p.removed, userID)
	}
}

// memberRemoved records a departure during the guild's request.
func (s *syncState) memberRemoved(guildID, userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.pending[guildID]; p != nil {
		p.removed[userID] = true
		delete(p.added, userID)
		p.seen.remove(userID)
	}
}

// forget drops a guild the bot left.
func (s *syncState) forget(guildID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.known, guildID)
	delete(s.done, guildID)
	delete(s.pending, guildID)
}

// dropShard forgets a shard closed on this node: its READY and the sync
// of its guilds (guilds are told apart by shardOf).
func (s *syncState) dropShard(shard int, shardOf func(string) int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.readied, shard)
	for g := range s.known {
		if shardOf(g) == shard {
			delete(s.known, g)
			delete(s.done, g)
			delete(s.pending, g)
		}
	}
}

// synced reports whether every shard held had its READY and every known
// watched guild was fully synced once. Holding no shard, it is synced
// once opened, or after any READY (tests feed events to a bot never
// opened).
func (s *syncState) synced(held []int, opened bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.readied) == 0 && (len(held) > 0 || !opened) {
		return false
	}
	for _, h := range held {
		if !s.readied[h] {
			return false
		}
	}
	for g := range s.known {
		if !s.done[g] {
			return false
		}
	}
	return true
}

// memberSet is the set of members a sync's chunks named, up to a guild's
// million: snowflakes are kept by value (an 8-byte key instead of a
// string's 16-byte header, which also kept the id's text alive, and an
// integer's hash; core.IDNumber), any other id by its text.
type memberSet struct {
	nums  map[uint64]struct{}
	other map[string]struct{}
}

func (s *memberSet) add(id string) {
	if n, ok := core.IDNumber(id); ok {
		if s.nums == nil {
			s.nums = map[uint64]struct{}{}
		}
		s.nums[n] = struct{}{}
		return
	}
	if s.other == nil {
		s.other = map[string]struct{}{}
	}
	s.other[id] = struct{}{}
}

func (s *memberSet) has(id string) bool {
	if n, ok := core.IDNumber(id); ok {
		_, in := s.nums[n]
		return in
	}
	_, in := s.other[id]
	return in
}

func (s *memberSet) remove(id string) {
	if n, ok := core.IDNumber(id); ok {
		delete(s.nums, n)
		return
	}
	delete(s.other, id)
}

func (s *memberSet) len() int { return len(s.nums) + len(s.other) }

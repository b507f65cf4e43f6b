package discordsim

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// session is an identified gateway session. It outlives its connection
// (for RESUME) until SessionTTL passes or the client closes with 1000/1001.
// All fields are guarded by Sim.mu.
type session struct {
	id             string
	version        int // gateway version the client asked for (READY's v)
	intents        uint64
	shardID        int
	shardCount     int
	largeThreshold int
	seq            int64
	buf            []outFrame // dispatches for replay, ascending s
	bufBytes       int        // total len(d) of buf
	conn           *gwConn    // nil while detached
	detachedAt     time.Time
	chunkJobs      []*chunkJob // op 8 answers not fully sent, oldest first
	chunksQueued   int         // chunks queued on conn since attached, not yet written
	attached       uint64      // counts RESUMEs: which attachment a chunk was queued on
}

func newSessionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ownsGuild reports whether guild id is routed to this session's shard.
func (ss *session) ownsGuild(id uint64) bool {
	return int((id>>22)%uint64(ss.shardCount)) == ss.shardID
}

// dispatchLocked assigns the next sequence number, stores the frame for
// replay and queues it if connected. Sim.mu must be held.
func (s *Sim) dispatchLocked(ss *session, t string, d []byte, onWritten func()) {
	ss.seq++
	f := outFrame{op: 0, s: ss.seq, t: t, d: d}
	ss.buf = append(ss.buf, f)
	ss.bufBytes += len(d)
	s.trimReplayLocked(ss)
	s.dispatches.Add(1)
	if ss.conn != nil {
		f.onWritten = onWritten
		ss.conn.enqueue(f)
	}
}

// trimReplayLocked drops the oldest dispatches past ReplayLimit frames
// or ReplayBytes bytes (keeping the newest frame); a RESUME from before
// them gets op 9, as Discord answers a resume it can no longer replay.
// Sim.mu must be held.
func (s *Sim) trimReplayLocked(ss *session) {
	drop, freed := 0, 0
	if over := len(ss.buf) - s.cfg.ReplayLimit; over > 0 {
		// Drop the oldest quarter at once so trimming stays amortised O(1).
		drop = max(over, s.cfg.ReplayLimit/4)
		for _, f := range ss.buf[:drop] {
			freed += len(f.d)
		}
	}
	if ss.bufBytes-freed > s.cfg.ReplayBytes {
		// Likewise down to three quarters of the bytes.
		for drop < len(ss.buf)-1 && ss.bufBytes-freed > s.cfg.ReplayBytes*3/4 {
			freed += len(ss.buf[drop].d)
			drop++
		}
	}
	if drop == 0 {
		return
	}
	ss.buf = append(ss.buf[:0:0], ss.buf[drop:]...)
	ss.bufBytes -= freed
}

// broadcastGuildLocked dispatches t to every session that owns guild gid
// and has all bits of need. Sim.mu must be held.
func (s *Sim) broadcastGuildLocked(gid uint64, need uint64, t string, d []byte) {
	for _, ss := range s.sessions {
		if ss.intents&need == need && ss.ownsGuild(gid) {
			s.dispatchLocked(ss, t, d, nil)
		}
	}
}

// broadcastDMLocked dispatches a guild-less event to shard 0 sessions with need.
func (s *Sim) broadcastDMLocked(need uint64, t string, d []byte) {
	for _, ss := range s.sessions {
		if ss.intents&need == need && ss.shardID == 0 {
			s.dispatchLocked(ss, t, d, nil)
		}
	}
}

// detachLocked separates a session from its connection, keeping it resumable.
func (s *Sim) detachLocked(c *gwConn) {
	if ss := c.sess; ss != nil {
		if ss.conn == c {
			ss.conn = nil
			ss.detachedAt = time.Now()
		}
		c.sess = nil
	}
}

// invalidateLocked detaches and forgets c's session.
func (s *Sim) invalidateLocked(c *gwConn) {
	if ss := c.sess; ss != nil {
		s.detachLocked(c)
		delete(s.sessions, ss.id)
	}
}

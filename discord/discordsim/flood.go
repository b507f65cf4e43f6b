package discordsim

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Flood bounds: a flood is a load test, not a way to exhaust the machine.
const (
	// MaxFloodEvents is the most PRESENCE_UPDATEs one Flood dispatches.
	MaxFloodEvents = 10_000_000
	// floodBatch is how many events are dispatched per hold of Sim.mu, so
	// REST and gateway handlers still get the lock between batches.
	floodBatch = 256
	// floodBacklog is the most frames a receiving connection may have
	// queued before Flood waits: the simulator outruns any bot, and a
	// queue past maxQueued would cut the bot off.
	floodBacklog = 8192
)

// Flood dispatches events PRESENCE_UPDATEs as fast as the receiving
// sessions take them, cycling through the first users members of the
// population. Every event differs from the user's previous presence
// (status and a custom status carrying the event number), so none is
// deduplicated downstream. It returns when all were queued, or early when
// ctx ends or the simulator closes.
func (s *Sim) Flood(ctx context.Context, events, users int) error {
	if events < 1 || events > MaxFloodEvents {
		return fmt.Errorf("discordsim: flood: events must be from 1 to %d", MaxFloodEvents)
	}
	s.mu.Lock()
	n := s.pop.n
	s.mu.Unlock()
	if users < 1 || users > n {
		return fmt.Errorf("discordsim: flood: users must be from 1 to %d (the population)", n)
	}
	statuses := [...]string{"online", "idle", "dnd"}
	start := time.Now().UnixMilli()
	for k := 0; k < events; {
		if err := s.waitBacklog(ctx); err != nil {
			return err
		}
		select {
		case <-s.closed:
			return errors.New("discordsim: flood: simulator closed")
		default:
		}
		s.mu.Lock()
		p := s.pop
		for end := min(events, k+floodBatch); k < end; k++ {
			uid := p.userID(k % users)
			guilds := p.userGuilds(uid)
			if len(guilds) == 0 {
				continue
			}
			status := statuses[(k/users)%len(statuses)]
			next := &presence{
				Status:       status,
				ClientStatus: map[string]string{"desktop": status},
				Activities: []byte(`[{"type":4,"name":"Custom Status","id":"custom","state":"flood ` +
					strconv.Itoa(k) + `","created_at":` + strconv.FormatInt(start, 10) + `}]`),
			}
			p.pres[uid] = next
			for _, g := range guilds {
				s.broadcastGuildLocked(g.id, IntentGuildPresences, "PRESENCE_UPDATE", s.floodJSON(uid, next, g.id))
			}
		}
		s.mu.Unlock()
	}
	return nil
}

// waitBacklog waits until no connected session has more than
// floodBacklog frames queued.
func (s *Sim) waitBacklog(ctx context.Context) error {
	for {
		if s.maxQueued() <= floodBacklog {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.closed:
			return errors.New("discordsim: flood: simulator closed")
		case <-time.After(500 * time.Microsecond):
		}
	}
}

// maxQueued is the longest write queue of any connected session.
func (s *Sim) maxQueued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	most := 0
	for _, ss := range s.sessions {
		if c := ss.conn; c != nil {
			c.qmu.Lock()
			most = max(most, len(c.queue))
			c.qmu.Unlock()
		}
	}
	return most
}

// floodJSON is presenceJSON for Flood's fixed shape, written directly:
// encoding/json over a map was a third of the flood's CPU, on the same
// cores as the bot being measured.
func (s *Sim) floodJSON(uid uint64, pr *presence, guildID uint64) []byte {
	if s.cfg.Hostile {
		return s.presenceJSON(uid, pr, guildID, nil)
	}
	b := make([]byte, 0, 128+len(pr.Activities))
	b = append(b, `{"user":{"id":"`...)
	b = strconv.AppendUint(b, uid, 10)
	b = append(b, `"},"status":"`...)
	b = append(b, pr.Status...)
	b = append(b, `","client_status":{"desktop":"`...)
	b = append(b, pr.Status...)
	b = append(b, `"},"activities":`...)
	b = append(b, pr.Activities...)
	b = append(b, `,"guild_id":"`...)
	b = strconv.AppendUint(b, guildID, 10)
	return append(b, `"}`...)
}

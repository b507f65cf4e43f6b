package discordsim

import (
	"time"
)

// Prebuilt is a batch of PRESENCE_UPDATE dispatches encoded ahead of time
// by PrepareChurn, so that SendPrebuilt costs only their dispatch. It lets
// a benchmark measure what receives the events rather than the simulator
// generating and encoding them on the same cores.
type Prebuilt struct {
	events []prebuiltEvent
}

type prebuiltEvent struct {
	uid      uint64
	next     *presence
	guilds   []uint64
	payloads [][]byte // one per guild (the payload carries guild_id)
}

// Len returns the number of presence changes in p.
func (p *Prebuilt) Len() int { return len(p.events) }

// PrepareChurn encodes the next n presence changes Churn would make (the
// same seeded sequence), without dispatching them or changing any
// presence. Send them with SendPrebuilt, before any other presence change.
func (s *Sim) PrepareChurn(n int) *Prebuilt {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := &Prebuilt{}
	p := s.pop
	if p.n == 0 {
		return out
	}
	rng := s.churnRNG.rng
	now := time.Now()
	latest := map[uint64]*presence{} // the changes so far, not yet applied
	for k := 0; k < n; k++ {
		i := rng.IntN(p.n)
		uid := p.userID(i)
		guilds := p.userGuilds(uid)
		if len(guilds) == 0 {
			continue
		}
		cur, ok := latest[uid]
		if !ok {
			cur = p.presenceOf(uid)
		}
		next := churnPresence(rng, uid, cur, now)
		latest[uid] = next
		ev := prebuiltEvent{uid: uid, next: next}
		for _, g := range guilds {
			ev.guilds = append(ev.guilds, g.id)
			ev.payloads = append(ev.payloads, s.presenceJSON(uid, next, g.id, nil))
		}
		out.events = append(out.events, ev)
	}
	return out
}

// SendPrebuilt dispatches the changes of p in order, applying each to the
// simulator's presences as it is sent, in batches so other handlers still
// get the simulator's lock in between.
func (s *Sim) SendPrebuilt(p *Prebuilt) {
	const batch = 256
	for start := 0; start < len(p.events); start += batch {
		s.mu.Lock()
		for _, ev := range p.events[start:min(start+batch, len(p.events))] {
			s.pop.pres[ev.uid] = ev.next
			for j, g := range ev.guilds {
				s.broadcastGuildLocked(g, IntentGuildPresences, "PRESENCE_UPDATE", ev.payloads[j])
			}
		}
		s.mu.Unlock()
	}
}

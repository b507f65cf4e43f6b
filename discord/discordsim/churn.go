package discordsim

import (
	"encoding/json"
	"maps"
	"math/rand/v2"
	"sync"
	"time"
)

// churnSource is the seeded RNG behind Churn. Guarded by Sim.mu.
type churnSource struct{ rng *rand.Rand }

func newChurnSource(seed int64) *churnSource {
	return &churnSource{rng: rand.New(rand.NewPCG(uint64(seed), 0xC4A7))}
}

// Churn applies n random presence changes now (new songs, status flips,
// new activity sets, going on/offline), each dispatched like
// UpdatePresence. The sequence of users and changes is determined by Seed.
func (s *Sim) Churn(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pop
	if p.n == 0 {
		return
	}
	rng := s.churnRNG.rng
	now := time.Now()
	for k := 0; k < n; k++ {
		i := rng.IntN(p.n)
		uid := p.userID(i)
		guilds := p.userGuilds(uid)
		if len(guilds) == 0 {
			continue
		}
		next := churnPresence(rng, uid, p.presenceOf(uid), now)
		p.pres[uid] = next
		for _, g := range guilds {
			s.broadcastGuildLocked(g.id, IntentGuildPresences, "PRESENCE_UPDATE", s.presenceJSON(uid, next, g.id, nil))
		}
	}
}

// churnPresence derives the next presence from cur.
func churnPresence(rng *rand.Rand, uid uint64, cur *presence, now time.Time) *presence {
	r := rng.IntN(100)
	switch {
	case cur.Status == "offline" || r < 10:
		return randomPresence(rng, uid, now) // come online / reshuffle
	case r < 40:
		// Next song: replace (or add) the Spotify activity.
		var acts []json.RawMessage
		_ = json.Unmarshal(cur.Activities, &acts)
		out := make([]json.RawMessage, 0, len(acts)+1)
		for _, a := range acts {
			var probe struct {
				ID string `json:"id"`
			}
			_ = json.Unmarshal(a, &probe)
			if probe.ID != "spotify:1" {
				out = append(out, a)
			}
		}
		sp, _ := json.Marshal(spotifyActivity(rng, uid, now))
		out = append(out, sp)
		b, _ := json.Marshal(out)
		return &presence{Status: cur.Status, ClientStatus: maps.Clone(cur.ClientStatus), Activities: b}
	case r < 60:
		next := &presence{Status: []string{"online", "idle", "dnd"}[rng.IntN(3)], Activities: cur.Activities, ClientStatus: map[string]string{}}
		for k := range cur.ClientStatus {
			next.ClientStatus[k] = next.Status
		}
		if len(next.ClientStatus) == 0 {
			next.ClientStatus["desktop"] = next.Status
		}
		return next
	case r < 90:
		return &presence{Status: cur.Status, ClientStatus: maps.Clone(cur.ClientStatus), Activities: randomActivities(rng, uid, now)}
	default:
		return offlinePresence()
	}
}

// StartChurn calls Churn(perTick) every interval until stop is called.
func (s *Sim) StartChurn(every time.Duration, perTick int) (stop func()) {
	if every <= 0 {
		every = time.Second
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-s.closed:
				return
			case <-t.C:
				s.Churn(perTick)
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(done) })
		<-finished
	}
}

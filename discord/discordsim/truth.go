package discordsim

import (
	"encoding/json"
	"maps"
	"time"
)

// Truth is what Discord currently holds about a user, for comparing with
// what a bot has built from the gateway.
type Truth struct {
	UserID       string
	User         json.RawMessage   // full user object
	Status       string            // online, idle, dnd or offline
	ClientStatus map[string]string // active platforms; empty when offline
	Activities   json.RawMessage   // JSON array
	Guilds       []string          // guilds the user is a member of, in GuildIDs order
	Nick         string            // nickname in the first of Guilds, "" if none
	JoinedAt     time.Time         // earliest joined_at across Guilds (Lantern's monitoring_since)
}

// Truth returns the current state of a known user (a member of any guild,
// the bot itself included, or a user created by SendDM).
func (s *Sim) Truth(userID string) (Truth, bool) {
	uid, ok := parseID(userID)
	if !ok {
		return Truth{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.pop.knownUser(uid) {
		return Truth{}, false
	}
	return s.truthLocked(uid), true
}

func (s *Sim) truthLocked(uid uint64) Truth {
	p := s.pop
	u, _ := p.user(uid)
	pr := p.presenceOf(uid)
	t := Truth{
		UserID:       fmtID(uid),
		User:         append(json.RawMessage(nil), u...),
		Status:       pr.Status,
		ClientStatus: maps.Clone(pr.ClientStatus),
		Activities:   append(json.RawMessage(nil), pr.Activities...),
		Guilds:       []string{},
	}
	if t.ClientStatus == nil {
		t.ClientStatus = map[string]string{}
	}
	if len(t.Activities) == 0 {
		t.Activities = json.RawMessage("[]")
	}
	for i, g := range p.userGuilds(uid) {
		t.Guilds = append(t.Guilds, fmtID(g.id))
		if i == 0 {
			t.Nick, _ = p.memberInfo(g, uid)
		}
		m, _ := p.member(g, uid)
		var f struct {
			JoinedAt time.Time `json:"joined_at"`
		}
		if json.Unmarshal(m, &f) == nil && (t.JoinedAt.IsZero() || f.JoinedAt.Before(t.JoinedAt)) {
			t.JoinedAt = f.JoinedAt.UTC()
		}
	}
	return t
}

// AllTruth returns Truth for every member of any guild, keyed by user ID;
// the bot is a member of every guild, so it is one of them.
// With a million members this materialises a million entries; use Truth
// for spot checks.
func (s *Sim) AllTruth() map[string]Truth {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[uint64]bool{}
	out := map[string]Truth{}
	for _, g := range s.pop.guilds {
		for _, uid := range s.pop.allMemberIDs(g) {
			if !seen[uid] {
				seen[uid] = true
				out[fmtID(uid)] = s.truthLocked(uid)
			}
		}
	}
	return out
}

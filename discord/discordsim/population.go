package discordsim

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// population is the simulated Discord state. Synthetic member i is fully
// derived from (seed, i); only mutated or added objects are stored, so a
// million members cost a few bytes each until touched. Guarded by Sim.mu.
type population struct {
	seed   uint64
	n      int
	base   time.Time
	t0     int64 // Unix ms of member 0's account creation
	stride int64 // ms between consecutive synthetic accounts
	botID  uint64
	guilds []*guild
	byID   map[uint64]*guild
	users  map[uint64]json.RawMessage // user objects: overrides and extra users
	pres   map[uint64]*presence       // presence overrides
}

// guild is one simulated guild.
type guild struct {
	idx       int
	id        uint64
	name      string
	icon      string
	channelID uint64
	roleIDs   [4]uint64 // @everyone, Member, Moderator, Supporter
	roleStrs  [4]string // roleIDs formatted, for the member objects that name them
	ownerID   uint64
	count     int                        // members, bot excluded
	ov        map[uint64]json.RawMessage // member fields (no "user") of added/updated members
	removed   map[uint64]bool
	sorted    []uint64 // cached ascending member IDs, bot excluded; nil = stale
	withBot   []uint64 // sorted with the bot's own ID in its place; nil = stale
}

const subsetPercent = 35 // share of the population that is also in each extra guild

func newPopulation(seed int64, n, guilds int, base time.Time) *population {
	p := &population{
		seed:  uint64(seed),
		n:     n,
		base:  base,
		byID:  make(map[uint64]*guild),
		users: make(map[uint64]json.RawMessage),
		pres:  make(map[uint64]*presence),
	}
	rng := rand.New(rand.NewPCG(p.seed, 0xD15C0))
	// Accounts created between 2016 and 2025, evenly spread.
	start := time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli() + rng.Int64N(86_400_000)
	span := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli() - start
	p.t0 = start
	p.stride = 1
	if n > 0 {
		p.stride = max(1, span/int64(n))
	}
	p.botID = makeSnowflake(time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC).UnixMilli()+rng.Int64N(1e10), rng.Uint64())
	for gi := 0; gi < guilds; gi++ {
		created := time.Date(2018, 6, 1, 0, 0, 0, 0, time.UTC).UnixMilli() + rng.Int64N(1e11)
		g := &guild{
			idx:     gi,
			id:      makeSnowflake(created, rng.Uint64()),
			name:    guildNames[gi%len(guildNames)],
			icon:    hexHash(rng),
			ov:      make(map[uint64]json.RawMessage),
			removed: make(map[uint64]bool),
		}
		if gi >= len(guildNames) {
			g.name += " " + strconv.Itoa(gi/len(guildNames)+1)
		}
		g.channelID = makeSnowflake(created+1000, rng.Uint64())
		g.roleIDs[0] = g.id
		for r := 1; r < len(g.roleIDs); r++ {
			g.roleIDs[r] = makeSnowflake(created+int64(2000*r), rng.Uint64())
		}
		for r, id := range g.roleIDs {
			g.roleStrs[r] = fmtID(id)
		}
		g.ownerID = p.botID
		if n > 0 {
			g.ownerID = p.userID(0)
		}
		if gi == 0 {
			g.count = n
		} else {
			for i := 0; i < n; i++ {
				if p.baseIn(g, i) {
					g.count++
				}
			}
		}
		p.guilds = append(p.guilds, g)
		p.byID[g.id] = g
	}
	return p
}

var guildNames = []string{"Halyard Harbour", "Lanyard Lounge", "Presence Lab", "Night Owls", "Spotify Club", "Dev Den", "Game Night", "Study Hall"}

// userID is synthetic member i's snowflake; IDs ascend with i.
func (p *population) userID(i int) uint64 {
	return makeSnowflake(p.t0+int64(i)*p.stride, mix64(p.seed^uint64(i)*0x9E37))
}

// userIndex inverts userID.
func (p *population) userIndex(id uint64) (int, bool) {
	q := int64(id>>22) + discordEpochMs - p.t0
	if q < 0 || q%p.stride != 0 {
		return 0, false
	}
	i := q / p.stride
	if i >= int64(p.n) || p.userID(int(i)) != id {
		return 0, false
	}
	return int(i), true
}

// baseIn reports whether synthetic member i is, unmodified, in g.
func (p *population) baseIn(g *guild, i int) bool {
	return g.idx == 0 || mix64(p.seed^uint64(g.idx)<<40^uint64(i))%100 < subsetPercent
}

func (p *population) guildByString(s string) *guild {
	id, ok := parseID(s)
	if !ok {
		return nil
	}
	return p.byID[id]
}

func (p *population) isMember(g *guild, uid uint64) bool {
	if uid == p.botID {
		return true // the bot is in every guild it is given
	}
	if g.removed[uid] {
		return false
	}
	if _, ok := g.ov[uid]; ok {
		return true
	}
	i, ok := p.userIndex(uid)
	return ok && p.baseIn(g, i)
}

// userGuilds lists the guilds uid is a member of, in guild order.
func (p *population) userGuilds(uid uint64) []*guild {
	var out []*guild
	for _, g := range p.guilds {
		if p.isMember(g, uid) {
			out = append(out, g)
		}
	}
	return out
}

// memberIDs is g's ascending member list (cached until membership changes).
func (p *population) memberIDs(g *guild) []uint64 {
	if g.sorted != nil {
		return g.sorted
	}
	ids := make([]uint64, 0, g.count)
	for i := 0; i < p.n; i++ {
		if p.baseIn(g, i) {
			if id := p.userID(i); !g.removed[id] {
				ids = append(ids, id)
			}
		}
	}
	extra := false
	for uid := range g.ov {
		if i, ok := p.userIndex(uid); ok && p.baseIn(g, i) {
			continue
		}
		ids = append(ids, uid)
		extra = true
	}
	if extra {
		slices.Sort(ids)
	}
	g.sorted = ids
	return ids
}

// allMemberIDs is g's ascending member list with the bot in it: on
// Discord the bot is a member like any other, so every full member list
// (op 8 with an empty query, GET /guilds/{g}/members) names it.
func (p *population) allMemberIDs(g *guild) []uint64 {
	if g.withBot != nil && g.sorted != nil {
		return g.withBot
	}
	ids := p.memberIDs(g)
	at, _ := slices.BinarySearch(ids, p.botID)
	g.withBot = slices.Insert(slices.Clone(ids), at, p.botID)
	return g.withBot
}

// user returns the user object for uid.
func (p *population) user(uid uint64) (json.RawMessage, bool) {
	if u, ok := p.users[uid]; ok {
		return u, true
	}
	if uid == p.botID {
		return p.botUser(), true
	}
	if i, ok := p.userIndex(uid); ok {
		return p.genUser(i), true
	}
	return nil, false
}

// knownUser reports whether uid exists anywhere in the population.
func (p *population) knownUser(uid uint64) bool {
	_, ok := p.user(uid)
	return ok
}

func (p *population) botUser() json.RawMessage {
	b, _ := json.Marshal(map[string]any{
		"id": fmtID(p.botID), "username": "halyard", "discriminator": "4242", "global_name": nil,
		"avatar": nil, "bot": true, "flags": 0, "public_flags": 0, "verified": true,
		"mfa_enabled": false, "email": nil, "banner": nil, "accent_color": nil,
		"avatar_decoration_data": nil, "primary_guild": nil, "clan": nil, "collectibles": nil,
	})
	return b
}

// presenceOf returns uid's current presence (offline for unknown users).
func (p *population) presenceOf(uid uint64) *presence {
	if pr, ok := p.pres[uid]; ok {
		return pr
	}
	if i, ok := p.userIndex(uid); ok {
		return p.genPresence(i)
	}
	return offlinePresence()
}

// member returns g's member object for uid, with "user".
func (p *population) member(g *guild, uid uint64) (json.RawMessage, bool) {
	if uid == p.botID {
		return p.botMember(g), true
	}
	if !p.isMember(g, uid) {
		return nil, false
	}
	if b, ok := p.appendSyntheticMember(make([]byte, 0, 640), g, uid); ok {
		return b, true
	}
	u, _ := p.user(uid)
	fields, ok := g.ov[uid]
	if !ok {
		i, _ := p.userIndex(uid)
		fields = p.genMemberFields(g, i)
	}
	out := make([]byte, 0, len(u)+len(fields)+16)
	out = append(out, `{"user":`...)
	out = append(out, u...)
	if len(fields) > 2 {
		out = append(out, ',')
		out = append(out, fields[1:]...)
	} else {
		out = append(out, '}')
	}
	return out, true
}

// appendSyntheticMember appends member uid of g when both its user and
// its member fields are still the generated ones (no override), which is
// almost every member; ok is false, and b unchanged, otherwise. The
// bytes are what member returns, and already compact and HTML-escaped.
func (p *population) appendSyntheticMember(b []byte, g *guild, uid uint64) ([]byte, bool) {
	if uid == p.botID {
		return b, false
	}
	if _, ok := p.users[uid]; ok {
		return b, false
	}
	if _, ok := g.ov[uid]; ok {
		return b, false
	}
	i, ok := p.userIndex(uid)
	if !ok || g.removed[uid] || !p.baseIn(g, i) {
		return b, false
	}
	u := p.genUserObject(i)
	m := p.genMemberObject(g, i)
	b = appendUser(append(b, `{"user":`...), &u)
	b = appendMemberFields(append(b, ','), &m)
	return append(b, '}'), true
}

// memberInfo is what GUILD_CREATE needs to decide whether a member is included.
func (p *population) memberInfo(g *guild, uid uint64) (nick string, hasRole bool) {
	fields, ok := g.ov[uid]
	if !ok {
		i, ok := p.userIndex(uid)
		if !ok {
			return "", false
		}
		fields = p.genMemberFields(g, i)
	}
	var m struct {
		Nick  *string  `json:"nick"`
		Roles []string `json:"roles"`
	}
	_ = json.Unmarshal(fields, &m)
	if m.Nick != nil {
		nick = *m.Nick
	}
	return nick, len(m.Roles) > 0
}

// botJoined is when the bot joined g: an hour after the later of the
// guild's and the bot's creation.
func (p *population) botJoined(g *guild) time.Time {
	from := snowflakeTime(g.id)
	if bc := snowflakeTime(p.botID); bc.After(from) {
		from = bc
	}
	return from.Add(time.Hour)
}

func (p *population) botMember(g *guild) json.RawMessage {
	joined := discordTime(p.botJoined(g))
	b, _ := json.Marshal(map[string]any{
		"user": p.botUser(), "nick": nil, "avatar": nil, "banner": nil, "roles": []string{},
		"joined_at": joined, "premium_since": nil, "deaf": false, "mute": false, "flags": 0,
		"pending": false, "communication_disabled_until": nil,
	})
	return b
}

// memberFields is a member object without "user".
type memberFields struct {
	Nick                       *string          `json:"nick"`
	Avatar                     *string          `json:"avatar"`
	Banner                     *string          `json:"banner"`
	Roles                      []string         `json:"roles"`
	JoinedAt                   string           `json:"joined_at"`
	PremiumSince               *string          `json:"premium_since"`
	Deaf                       bool             `json:"deaf"`
	Mute                       bool             `json:"mute"`
	Flags                      int              `json:"flags"`
	Pending                    bool             `json:"pending"`
	CommunicationDisabledUntil *string          `json:"communication_disabled_until"`
	AvatarDecorationData       *json.RawMessage `json:"avatar_decoration_data"`
	UnusualDMActivityUntil     *string          `json:"unusual_dm_activity_until"`
}

func (p *population) genMemberFields(g *guild, i int) json.RawMessage {
	m := p.genMemberObject(g, i)
	return append(appendMemberFields(append(make([]byte, 0, 192), '{'), &m), '}')
}

// genMemberObject draws synthetic member i's fields in g from (seed, g, i).
func (p *population) genMemberObject(g *guild, i int) memberFields {
	rng := rand.New(rand.NewPCG(p.seed^uint64(g.idx+1)<<48, uint64(i)*4+3))
	// A member joined after both their account and the guild existed,
	// and before the join horizon: a fixed date, so a restarted simulator
	// (whose BaseTime is "now") gives everyone the same join time again,
	// as Discord would.
	from := snowflakeTime(p.userID(i))
	if gc := snowflakeTime(g.id); gc.After(from) {
		from = gc
	}
	to := joinHorizon
	if p.base.Before(to) {
		to = p.base
	}
	joinSpan := to.Sub(from)
	if joinSpan <= 0 {
		joinSpan = time.Hour
	}
	joined := from.Add(time.Duration(rng.Int64N(int64(joinSpan)))).Truncate(time.Millisecond)
	m := memberFields{Roles: []string{}, JoinedAt: discordTime(joined)}
	if rng.IntN(100) < 10 {
		n := nickWords[rng.IntN(len(nickWords))]
		m.Nick = &n
	}
	if rng.IntN(100) < 25 {
		m.Roles = append(m.Roles, g.roleStrs[1])
	}
	if rng.IntN(100) < 3 {
		m.Roles = append(m.Roles, g.roleStrs[2])
	}
	if rng.IntN(100) < 5 {
		m.Roles = append(m.Roles, g.roleStrs[3])
		ps := discordTime(joined.Add(48 * time.Hour))
		m.PremiumSince = &ps
	}
	if rng.IntN(100) < 2 {
		h := hexHash(rng)
		m.Avatar = &h
	}
	return m
}

// appendMemberFields appends m's fields as json.Marshal encodes them,
// without the enclosing braces (a member object is "user" followed by
// these). AvatarDecorationData must already be compact JSON.
func appendMemberFields(b []byte, m *memberFields) []byte {
	b = appendOptString(appendKey(b, "nick", true), m.Nick)
	b = appendOptString(appendKey(b, "avatar", false), m.Avatar)
	b = appendOptString(appendKey(b, "banner", false), m.Banner)
	b = appendKey(b, "roles", false)
	if m.Roles == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for k, r := range m.Roles {
			if k > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, r)
		}
		b = append(b, ']')
	}
	b = appendJSONString(appendKey(b, "joined_at", false), m.JoinedAt)
	b = appendOptString(appendKey(b, "premium_since", false), m.PremiumSince)
	b = appendBool(appendKey(b, "deaf", false), m.Deaf)
	b = appendBool(appendKey(b, "mute", false), m.Mute)
	b = strconv.AppendInt(appendKey(b, "flags", false), int64(m.Flags), 10)
	b = appendBool(appendKey(b, "pending", false), m.Pending)
	b = appendOptString(appendKey(b, "communication_disabled_until", false), m.CommunicationDisabledUntil)
	b = appendOptRaw(appendKey(b, "avatar_decoration_data", false), m.AvatarDecorationData)
	return appendOptString(appendKey(b, "unusual_dm_activity_until", false), m.UnusualDMActivityUntil)
}

// joinHorizon is the latest join time of a synthetic member.
var joinHorizon = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

var nickWords = []string{"Captain", "Skipper", "Bosun", "Navigator", "Deckhand", "Lookout", "Quartermaster", "Helmsman"}

package discordsim

import (
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"time"
)

// presence is a user's current presence (global; Discord shows the same
// status in every guild).
type presence struct {
	Status       string
	ClientStatus map[string]string
	Activities   json.RawMessage // JSON array
}

func offlinePresence() *presence {
	return &presence{Status: "offline", ClientStatus: map[string]string{}, Activities: json.RawMessage("[]")}
}

// activity is the activity object of docs/compat/discord.md §5 (fields the simulator emits).
type activity struct {
	ID            string         `json:"id,omitempty"`
	Name          string         `json:"name"`
	Type          int            `json:"type"`
	URL           string         `json:"url,omitempty"`
	CreatedAt     int64          `json:"created_at"`
	Timestamps    *actTimestamps `json:"timestamps,omitempty"`
	ApplicationID string         `json:"application_id,omitempty"`
	Details       string         `json:"details,omitempty"`
	State         string         `json:"state,omitempty"`
	Emoji         *actEmoji      `json:"emoji,omitempty"`
	Party         *actParty      `json:"party,omitempty"`
	Assets        *actAssets     `json:"assets,omitempty"`
	SyncID        string         `json:"sync_id,omitempty"`
	SessionID     string         `json:"session_id,omitempty"`
	Flags         int            `json:"flags,omitempty"`
	Buttons       []string       `json:"buttons,omitempty"`
	Platform      string         `json:"platform,omitempty"`
}

type actTimestamps struct {
	Start int64 `json:"start,omitempty"`
	End   int64 `json:"end,omitempty"`
}

type actEmoji struct {
	Name     string `json:"name"`
	ID       string `json:"id,omitempty"`
	Animated bool   `json:"animated,omitempty"`
}

type actParty struct {
	ID   string `json:"id,omitempty"`
	Size []int  `json:"size,omitempty"`
}

type actAssets struct {
	LargeImage string `json:"large_image,omitempty"`
	LargeText  string `json:"large_text,omitempty"`
	SmallImage string `json:"small_image,omitempty"`
	SmallText  string `json:"small_text,omitempty"`
}

type track struct{ title, artist, album string }

var tracks = []track{
	{"Never Gonna Give You Up", "Rick Astley", "Whenever You Need Somebody"},
	{"Midnight City", "M83", "Hurry Up, We're Dreaming"},
	{"Digital Love", "Daft Punk", "Discovery"},
	{"Redbone", "Childish Gambino", "\"Awaken, My Love!\""},
	{"Take On Me", "a-ha", "Hunting High and Low"},
	{"Motion Sickness", "Phoebe Bridgers", "Stranger in the Alps"},
	{"Nights", "Frank Ocean", "Blonde"},
	{"The Less I Know The Better", "Tame Impala", "Currents"},
	{"Dreams", "Fleetwood Mac", "Rumours"},
	{"Blinding Lights", "The Weeknd", "After Hours"},
}

type game struct{ name, appID, details, state string }

var games = []game{
	{"Minecraft", "356875570916753438", "Survival", "In a world"},
	{"League of Legends", "401518684763586560", "Summoner's Rift (Ranked)", "In Game"},
	{"Counter-Strike 2", "1158877933042143272", "Competitive - Mirage", "Playing Competitive"},
	{"Factorio", "443130838829006848", "Space Age", "Building a megabase"},
	{"Stardew Valley", "458366407127515136", "Year 2 - Summer", "Fishing"},
	{"Celeste", "", "", ""},
}

var customStates = []struct{ emoji, state string }{
	{"🚢", "shipping halyard"}, {"☕", "coffee first"}, {"🎧", "in the zone"}, {"🌙", "night shift"},
	{"🐛", "debugging"}, {"📚", "studying"}, {"", "brb"}, {"🔥", ""},
}

var files = []string{"gateway.go", "session.go", "main.rs", "index.ts", "README.md", "hub.go", "App.svelte"}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func randString(rng *rand.Rand, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

func randHex(rng *rand.Rand, n int) string {
	b := make([]byte, (n+1)/2)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return hex.EncodeToString(b)[:n]
}

// spotifyActivity is a Listening activity with a track playing around now.
func spotifyActivity(rng *rand.Rand, uid uint64, now time.Time) activity {
	t := tracks[rng.IntN(len(tracks))]
	length := int64(150_000 + rng.IntN(150_000))
	start := now.UnixMilli() - rng.Int64N(length)
	return activity{
		ID: "spotify:1", Name: "Spotify", Type: 2, Flags: 48, CreatedAt: now.UnixMilli(),
		SyncID: randString(rng, base62, 22), SessionID: randHex(rng, 32),
		Party:   &actParty{ID: "spotify:" + fmtID(uid)},
		Details: t.title, State: t.artist,
		Timestamps: &actTimestamps{Start: start, End: start + length},
		Assets:     &actAssets{LargeImage: "spotify:ab67616d0000b273" + randHex(rng, 24), LargeText: t.album},
	}
}

func customActivity(rng *rand.Rand, now time.Time) activity {
	c := customStates[rng.IntN(len(customStates))]
	a := activity{ID: "custom", Name: "Custom Status", Type: 4, State: c.state, CreatedAt: now.UnixMilli()}
	if c.emoji != "" {
		a.Emoji = &actEmoji{Name: c.emoji}
	}
	if rng.IntN(10) == 0 {
		a.Emoji = &actEmoji{Name: "partyblob", ID: fmtID(makeSnowflake(1600000000000+rng.Int64N(1e11), rng.Uint64())), Animated: rng.IntN(2) == 0}
	}
	return a
}

func vscodeActivity(rng *rand.Rand, now time.Time) activity {
	start := now.Add(-time.Duration(rng.IntN(3*3600)) * time.Second).UnixMilli()
	f := files[rng.IntN(len(files))]
	a := activity{
		ID: randHex(rng, 16), Name: "Visual Studio Code", Type: 0, ApplicationID: "383226320970055681",
		Details: "Editing " + f, State: "Workspace: halyard", CreatedAt: start,
		Timestamps: &actTimestamps{Start: start},
		Assets: &actAssets{LargeImage: "mp:external/" + randString(rng, base62, 20) + "/https/example.com/go.png",
			LargeText: "Go", SmallImage: "565944799887179808", SmallText: "VS Code"},
	}
	if rng.IntN(3) == 0 {
		a.Buttons = []string{"View Repository"}
	}
	return a
}

func gameActivity(rng *rand.Rand, now time.Time) activity {
	g := games[rng.IntN(len(games))]
	start := now.Add(-time.Duration(rng.IntN(4*3600)) * time.Second).UnixMilli()
	a := activity{ID: randHex(rng, 16), Name: g.name, Type: 0, CreatedAt: start,
		Timestamps: &actTimestamps{Start: start}, ApplicationID: g.appID, Details: g.details, State: g.state}
	if g.appID != "" {
		a.Assets = &actAssets{LargeImage: strconv.FormatUint(rng.Uint64()>>8, 10), LargeText: g.name}
		if rng.IntN(4) == 0 {
			a.Party = &actParty{ID: randHex(rng, 12), Size: []int{1 + rng.IntN(4), 5}}
		}
	}
	if rng.IntN(5) == 0 {
		a.Platform = []string{"desktop", "xbox", "ps5"}[rng.IntN(3)]
	}
	if rng.IntN(8) == 0 {
		a.Buttons = []string{"Join", "Watch"}
	}
	return a
}

func otherActivity(rng *rand.Rand, now time.Time) activity {
	switch rng.IntN(3) {
	case 0:
		return activity{Name: "Twitch", Type: 1, URL: "https://www.twitch.tv/halyard", Details: "Building a presence server",
			State: "Software and Game Development", CreatedAt: now.UnixMilli(), Assets: &actAssets{LargeImage: "twitch:halyard"}}
	case 1:
		return activity{ID: "hang", Name: "Hang Status", Type: 6, State: "gaming", CreatedAt: now.UnixMilli()}
	default:
		return activity{Name: "YouTube", Type: 3, Details: "Go concurrency patterns", CreatedAt: now.UnixMilli()}
	}
}

// randomPresence draws a presence: ~30 % offline, a mix of platforms and activities.
func randomPresence(rng *rand.Rand, uid uint64, now time.Time) *presence {
	d := drawPresence(rng, uid, now)
	if d.status == "offline" {
		return offlinePresence()
	}
	p := &presence{Status: d.status, ClientStatus: make(map[string]string, 2)}
	for k, st := range d.platforms {
		if st != "" {
			p.ClientStatus[platformNames[k]] = st
		}
	}
	p.Activities = appendActivities(make([]byte, 0, 160*len(d.acts)+2), d.acts)
	return p
}

// platformNames are client_status's keys, sorted as encoding/json sorts
// a map's keys.
var platformNames = [...]string{"desktop", "embedded", "mobile", "vr", "web"}

// presenceDraw is a generated presence before it is stored or encoded.
type presenceDraw struct {
	status    string
	platforms [len(platformNames)]string // status per platformNames entry, "" if absent
	acts      []activity
}

// drawPresence draws what randomPresence returns.
func drawPresence(rng *rand.Rand, uid uint64, now time.Time) presenceDraw {
	r := rng.IntN(100)
	d := presenceDraw{status: "online"}
	switch {
	case r < 30:
		d.status = "offline"
		return d
	case r < 42:
		d.status = "idle"
	case r < 55:
		d.status = "dnd"
	}
	some := false
	set := func(k int, st string) { d.platforms[k], some = st, true }
	if rng.IntN(100) < 65 {
		set(0, d.status)
	}
	if rng.IntN(100) < 40 {
		st := d.status
		if rng.IntN(5) == 0 {
			st = "idle"
		}
		set(2, st)
	}
	if rng.IntN(100) < 12 {
		set(4, d.status)
	}
	if rng.IntN(100) < 3 {
		set(1, d.status)
	}
	if rng.IntN(100) < 1 {
		set(3, d.status)
	}
	if !some {
		set(0, d.status)
	}
	d.acts = randomActivityList(rng, uid, now)
	return d
}

// appendPresenceDraw appends d for uid as appendPresence writes the
// presence randomPresence makes of it (chunks: no guild_id).
func appendPresenceDraw(b []byte, uid uint64, d *presenceDraw) []byte {
	b = appendActivities(append(b, `{"activities":`...), d.acts)
	b = append(b, `,"client_status":{`...)
	first := true
	for k, st := range d.platforms {
		if st == "" {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, platformNames[k]...)
		b = append(b, `":"`...)
		b = append(b, st...)
		b = append(b, '"')
	}
	b = append(b, `},"status":"`...)
	b = append(b, d.status...)
	b = appendIDString(append(b, `","user":{"id":`...), uid)
	return append(b, '}', '}')
}

// genPresenceDraw draws synthetic member i's initial presence, as
// genPresence returns it.
func (p *population) genPresenceDraw(i int) presenceDraw {
	rng := rand.New(rand.NewPCG(p.seed^0x5EED, uint64(i)*4+2))
	return drawPresence(rng, p.userID(i), p.base)
}

func randomActivities(rng *rand.Rand, uid uint64, now time.Time) json.RawMessage {
	acts := randomActivityList(rng, uid, now)
	return appendActivities(make([]byte, 0, 160*len(acts)+2), acts)
}

// randomActivityList draws a user's activities: often none, at most three.
func randomActivityList(rng *rand.Rand, uid uint64, now time.Time) []activity {
	acts := []activity{}
	if rng.IntN(100) < 35 {
		acts = append(acts, customActivity(rng, now))
	}
	if rng.IntN(100) < 25 {
		acts = append(acts, spotifyActivity(rng, uid, now))
	}
	switch r := rng.IntN(100); {
	case r < 12:
		acts = append(acts, vscodeActivity(rng, now))
	case r < 30:
		acts = append(acts, gameActivity(rng, now))
	case r < 33:
		acts = append(acts, otherActivity(rng, now))
	}
	return acts
}

// appendActivities appends acts as json.Marshal encodes the slice.
func appendActivities(b []byte, acts []activity) []byte {
	b = append(b, '[')
	for k := range acts {
		if k > 0 {
			b = append(b, ',')
		}
		b = appendActivity(b, &acts[k])
	}
	return append(b, ']')
}

// appendActivity appends a as json.Marshal encodes it (omitempty fields
// left out when zero).
func appendActivity(b []byte, a *activity) []byte {
	b = append(b, '{')
	first := true
	str := func(key, v string) {
		if v != "" {
			b = appendJSONString(appendKey(b, key, first), v)
			first = false
		}
	}
	str("id", a.ID)
	b = appendJSONString(appendKey(b, "name", first), a.Name)
	first = false
	b = strconv.AppendInt(appendKey(b, "type", false), int64(a.Type), 10)
	str("url", a.URL)
	b = strconv.AppendInt(appendKey(b, "created_at", false), a.CreatedAt, 10)
	if t := a.Timestamps; t != nil {
		b = append(appendKey(b, "timestamps", false), '{')
		if t.Start != 0 {
			b = strconv.AppendInt(appendKey(b, "start", true), t.Start, 10)
		}
		if t.End != 0 {
			b = strconv.AppendInt(appendKey(b, "end", t.Start == 0), t.End, 10)
		}
		b = append(b, '}')
	}
	str("application_id", a.ApplicationID)
	str("details", a.Details)
	str("state", a.State)
	if e := a.Emoji; e != nil {
		b = appendJSONString(appendKey(append(appendKey(b, "emoji", false), '{'), "name", true), e.Name)
		if e.ID != "" {
			b = appendJSONString(appendKey(b, "id", false), e.ID)
		}
		if e.Animated {
			b = append(appendKey(b, "animated", false), "true"...)
		}
		b = append(b, '}')
	}
	if pt := a.Party; pt != nil {
		b = append(appendKey(b, "party", false), '{')
		if pt.ID != "" {
			b = appendJSONString(appendKey(b, "id", true), pt.ID)
		}
		if len(pt.Size) > 0 {
			b = append(appendKey(b, "size", pt.ID == ""), '[')
			for k, n := range pt.Size {
				if k > 0 {
					b = append(b, ',')
				}
				b = strconv.AppendInt(b, int64(n), 10)
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	if as := a.Assets; as != nil {
		b = append(appendKey(b, "assets", false), '{')
		inner := true
		for _, kv := range [...][2]string{{"large_image", as.LargeImage}, {"large_text", as.LargeText}, {"small_image", as.SmallImage}, {"small_text", as.SmallText}} {
			if kv[1] != "" {
				b = appendJSONString(appendKey(b, kv[0], inner), kv[1])
				inner = false
			}
		}
		b = append(b, '}')
	}
	str("sync_id", a.SyncID)
	str("session_id", a.SessionID)
	if a.Flags != 0 {
		b = strconv.AppendInt(appendKey(b, "flags", false), int64(a.Flags), 10)
	}
	if len(a.Buttons) > 0 {
		b = append(appendKey(b, "buttons", false), '[')
		for k, s := range a.Buttons {
			if k > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, s)
		}
		b = append(b, ']')
	}
	str("platform", a.Platform)
	return append(b, '}')
}

// genPresence derives synthetic member i's initial presence.
func (p *population) genPresence(i int) *presence {
	rng := rand.New(rand.NewPCG(p.seed^0x5EED, uint64(i)*4+2))
	return randomPresence(rng, p.userID(i), p.base)
}

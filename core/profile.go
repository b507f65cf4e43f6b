package core

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"unicode/utf8"
	"unsafe"

	"github.com/halyardhq/halyard/internal/jsonread"
)

// Profile is a monitored user's Discord user object as a snapshot keeps
// it: the decoder's users are their packed JSON only (16 bytes of header
// for ≈ 110 bytes of values), and the named fields (ID, Username, …) are
// read from it on demand, without rebuilding it; a hand-built DiscordUser
// (tests, fixtures: Raw, or fields its JSON does not hold) is kept as it
// was given. Build one with ProfileOf.
//
// It is 16 bytes, not 24 (a PackedJSON and a pointer), which puts a
// snapshot in the 96-byte size class: ref is the packed JSON's bytes and
// n their length, or ref the hand-built DiscordUser and n builtProfile.
type Profile struct {
	ref unsafe.Pointer
	n   int
}

// builtProfile marks a Profile whose ref is a *DiscordUser.
const builtProfile = -1

func profileOfPacked(j PackedJSON) Profile {
	return Profile{ref: unsafe.Pointer(unsafe.StringData(j.s)), n: len(j.s)}
}

func profileOfBuilt(d *DiscordUser) Profile { return Profile{ref: unsafe.Pointer(d), n: builtProfile} }

// packed returns the packed JSON of a profile that is not hand-built.
func (p *Profile) packed() PackedJSON {
	if p.n <= 0 {
		return PackedJSON{}
	}
	return PackedJSON{unsafe.String((*byte)(p.ref), p.n)}
}

// built returns the hand-built DiscordUser, nil for a packed profile.
func (p *Profile) built() *DiscordUser {
	if p.n != builtProfile {
		return nil
	}
	return (*DiscordUser)(p.ref)
}

// ProfileOf returns d as a snapshot keeps it. A decoded user (Packed, and
// named fields that agree with it) keeps its packed JSON only.
func ProfileOf(d DiscordUser) Profile {
	if len(d.Raw) == 0 && !d.Packed.IsZero() {
		// One pass over the packed members (a lookup per field was a
		// sixth of the member sync's CPU).
		var got DiscordUser
		d.Packed.eachMember(func(key, v string, str, ok bool) {
			switch key {
			case "id":
				got.ID = idOf(v, str, ok)
			case "username":
				got.Username = stringOf(v, str, ok)
			case "discriminator":
				got.Discriminator = stringOf(v, str, ok)
			case "global_name":
				got.GlobalName = stringOf(v, str, ok)
			case "avatar":
				got.Avatar = stringOf(v, str, ok)
			case "bot":
				got.Bot = boolOf(v, str, ok)
			}
		})
		if got.ID == d.ID && got.Username == d.Username && got.Discriminator == d.Discriminator &&
			got.GlobalName == d.GlobalName && got.Avatar == d.Avatar && got.Bot == d.Bot {
			return profileOfPacked(d.Packed)
		}
	}
	built := d // only this path moves d to the heap
	return profileOfBuilt(&built)
}

// DiscordUser returns the profile as a DiscordUser (its fields parsed).
func (p *Profile) DiscordUser() DiscordUser {
	if p.built() != nil {
		return *p.built()
	}
	if p.packed().IsZero() {
		return DiscordUser{}
	}
	return DiscordUser{Packed: p.packed(), ID: p.ID(), Username: p.Username(), Discriminator: p.Discriminator(),
		GlobalName: p.GlobalName(), Avatar: p.Avatar(), Bot: p.Bot()}
}

// ID is the user's id (a decimal string).
func (p *Profile) ID() string {
	if p.built() != nil {
		return p.built().ID
	}
	return idOf(p.packed().member("id"))
}

// idOf reads an id member as the decoder does (jsonread.ReadSnowflake).
func idOf(v string, str, ok bool) string {
	if str && isDigits(v) {
		return v
	}
	id, _ := jsonread.ReadSnowflake(rawValue(v, str, ok), true)
	return id
}

// sharedID returns id, the snapshot's user id, as a string sharing the
// profile's packed memory when the profile holds that id as a plain
// string, so the snapshot keeps no copy of its own (the users index is
// keyed by the id's value, userIndex); id itself otherwise.
func (p *Profile) sharedID(id string) string {
	if p.built() != nil {
		return id
	}
	if v, str, _ := p.packed().member("id"); str && v == id {
		return v
	}
	return id
}

// holds reports whether s lies in the profile's packed memory, as the
// decoder's user id does (it shares the packed JSON it was read with).
func (p *Profile) holds(s string) bool {
	if p.n <= 0 || len(s) == 0 {
		return false
	}
	base, at := uintptr(p.ref), uintptr(unsafe.Pointer(unsafe.StringData(s)))
	return at >= base && at+uintptr(len(s)) <= base+uintptr(p.n)
}

// Username is the user's username, "" when absent or not a string.
func (p *Profile) Username() string {
	if p.built() != nil {
		return p.built().Username
	}
	return p.stringMember("username")
}

// Discriminator is the user's discriminator ("0" for migrated users).
func (p *Profile) Discriminator() string {
	if p.built() != nil {
		return p.built().Discriminator
	}
	return p.stringMember("discriminator")
}

// GlobalName is the user's display name, "" when they have none.
func (p *Profile) GlobalName() string {
	if p.built() != nil {
		return p.built().GlobalName
	}
	return p.stringMember("global_name")
}

// Avatar is the user's avatar hash, "" when they have none.
func (p *Profile) Avatar() string {
	if p.built() != nil {
		return p.built().Avatar
	}
	return p.stringMember("avatar")
}

// Bot reports whether the user is a bot.
func (p *Profile) Bot() bool {
	if p.built() != nil {
		return p.built().Bot
	}
	return boolOf(p.packed().member("bot"))
}

// boolOf reads a boolean member as the decoder does (jsonread.ReadBool).
func boolOf(v string, str, ok bool) bool {
	b, _ := jsonread.ReadBool(rawValue(v, str, ok))
	return b
}

// stringMember reads a string member as the decoder reads it
// (jsonread.ReadString): a plain string shares the packed memory.
func (p *Profile) stringMember(key string) string { return stringOf(p.packed().member(key)) }

// stringOf reads a string member's value as jsonread.ReadString does.
func stringOf(v string, str, ok bool) string {
	if str && !containsBackslash(v) && utf8.ValidString(v) {
		return v
	}
	s, _ := jsonread.ReadString(rawValue(v, str, ok), true)
	return s
}

// rawValue rebuilds a member's raw JSON from what PackedJSON.member
// returned.
func rawValue(v string, str, ok bool) []byte {
	switch {
	case !ok:
		return nil
	case str:
		return []byte(`"` + v + `"`)
	}
	return []byte(v)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func containsBackslash(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			return true
		}
	}
	return false
}

// JSON returns the user object verbatim (nil when there is none); a
// packed one is rebuilt in a new slice.
func (p *Profile) JSON() json.RawMessage {
	if p.built() != nil {
		return p.built().JSON()
	}
	return p.packed().Bytes()
}

// AppendJSON appends the user object verbatim to dst.
func (p *Profile) AppendJSON(dst []byte) []byte {
	if p.built() != nil {
		return p.built().AppendJSON(dst)
	}
	return p.packed().AppendTo(dst)
}

// HasJSON reports whether the user object's JSON is known.
func (p *Profile) HasJSON() bool {
	if p.built() != nil {
		return p.built().HasJSON()
	}
	return !p.packed().IsZero()
}

// JSONLen is the length of the user object's JSON.
func (p *Profile) JSONLen() int {
	if p.built() != nil {
		return p.built().JSONLen()
	}
	return p.packed().Len()
}

// SameJSON reports whether p and q have the same JSON.
func (p *Profile) SameJSON(q *Profile) bool {
	if q.built() != nil {
		return p.SameJSONAs(q.built())
	}
	return p.SameJSONAs(&DiscordUser{Packed: q.packed()})
}

// SameJSONAs reports whether p and the user object d have the same JSON.
func (p *Profile) SameJSONAs(d *DiscordUser) bool {
	if p.built() != nil {
		return p.built().SameJSON(d)
	}
	return sameJSON(nil, p.packed(), d.Raw, d.Packed)
}

// GobEncode sends the profile as its DiscordUser.
func (p Profile) GobEncode() ([]byte, error) {
	var buf bytes.Buffer
	err := gob.NewEncoder(&buf).Encode(p.DiscordUser())
	return buf.Bytes(), err
}

// GobDecode reads what GobEncode sent.
func (p *Profile) GobDecode(b []byte) error {
	var d DiscordUser
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&d); err != nil {
		return err
	}
	*p = ProfileOf(d)
	return nil
}

package lantern

import (
	"math"
	"slices"
	"testing"

	"github.com/halyardhq/halyard/core"
)

// FuzzUsersQuery feeds arbitrary raw query strings to the bulk route's
// and the card's parameter checks (docs/compat/lantern.md §2.3, §2.4). Properties: no panic;
// accepted user_ids are 1 or more ids of 17–19 characters without
// duplicates; an accepted path id is numeric and 17–19 characters; card
// options that pass validation parse to a known theme, a finite border
// radius within bounds and non-empty texts.
func FuzzUsersQuery(f *testing.F) {
	for _, s := range []string{
		"user_ids=94490510688792576&user_ids=819287687121993768",
		"user_ids[]=94490510688792576", "user_ids=", "user_ids=1&user_ids=1", "user_ids=%zz",
		"user_ids=%F0%9F%92%A9%F0%9F%92%A9%F0%9F%92%A9%F0%9F%92%A9%F0%9F%92%A9%F0%9F%92%A9%F0%9F%92%A9%F0%9F%92%A9%F0%9F%92%A9",
		"user_ids=%C0%AF%C0%AF%C0%AF%C0%AF%C0%AF%C0%AF%C0%AF%C0%AF%C0%AF", "user_ids=%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00",
		"svg=1&theme=light&borderRadius=1e309", "svg=1&borderRadius=-5", "svg=1&borderRadius=.5",
		"svg=1&theme=dark&theme=light", "svg=2", "svg=1&hideStatus=1&hideBadges=0",
		"svg=1&noActivityTitle=%3Cscript%3E&noActivityMessage=%ff", "svg=1&noActivityTitle=", "&&&=&=", "%", "+",
	} {
		f.Add(s, "94490510688792576")
	}
	f.Add("svg=1", "-1234567890123456")
	f.Add("svg=1", "1234567.8901234567")
	f.Add("svg=1", "٣٣٣٣٣٣٣٣٣٣٣٣٣٣٣٣٣")
	f.Fuzz(func(t *testing.T, raw, pathID string) {
		q := parseQuery(raw)
		ids := slices.Concat(q.get("user_ids"), q.get("user_ids[]"))
		if validateBulkIDs(ids) == "" {
			if len(ids) == 0 {
				t.Fatal("accepted no ids")
			}
			seen := map[string]bool{}
			for _, id := range ids {
				if n := textLength(id); n < minIDLen || n > maxIDLn || seen[id] {
					t.Fatalf("accepted id %q (%d characters, duplicate %v)", id, n, seen[id])
				}
				seen[id] = true
			}
		}
		if validateUserID(pathID) == "" {
			if !numericReference.MatchString(pathID) || len(pathID) < minIDLen || len(pathID) > maxIDLn {
				t.Fatalf("accepted path id %q", pathID)
			}
		}
		if validateCardQuery(q) != "" {
			return
		}
		o := parseCardOptions(q)
		if o.Theme != "dark" && o.Theme != "light" {
			t.Fatalf("theme %q", o.Theme)
		}
		if math.IsNaN(o.BorderRadius) || o.BorderRadius < 0 || o.BorderRadius > cardMaxBorderRadius {
			t.Fatalf("border radius %v", o.BorderRadius)
		}
		if o.NoActivityTitle == "" || o.NoActivityMessage == "" {
			t.Fatalf("empty card text: %+v", o)
		}
	})
}

// FuzzCardSVG draws the card for a user whose names and activity texts,
// and whose card parameters, are arbitrary (Discord users choose their own
// names and statuses). Property: the card is always one well-formed SVG
// document, whatever the text (escaping holds), and drawing never panics.
func FuzzCardSVG(f *testing.F) {
	for _, s := range [][4]string{
		{"svg=1", "alice", "Alice", "Spotify"},
		{"svg=1&theme=light&noActivityTitle=%3C%2Ftext%3E", "b<o>b\"'`&amp;", "", "</text><script>alert(1)</script>"},
		{"svg=1&hideActivity=1", "\x00\x1b\uFFFE]]>", "\xff\xfe", "<![CDATA[x]]>"},
		{"svg=1&borderRadius=999999", "\u202e\u200d", "👨‍👩‍👧‍👦", "&#x0;"},
		{"svg=1&noActivityMessage=%ED%A0%80", "a", "b", "c"},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	f.Fuzz(func(t *testing.T, raw, username, globalName, activity string) {
		q := parseQuery(raw)
		if validateCardQuery(q) != "" {
			return
		}
		u := &core.User{
			ID: "222222222222222222",
			Discord: core.ProfileOf(core.DiscordUser{ID: "222222222222222222", Username: username, GlobalName: globalName,
				Raw: []byte(`{"id":"222222222222222222"}`)}),
			Presence: &core.Presence{Status: core.StatusOnline, ClientStatus: &core.ClientStatus{Desktop: core.StatusOnline},
				Activities: []core.Activity{
					{Name: "Custom Status", Type: 4, State: activity, Emoji: &core.Emoji{Name: activity}},
					{Name: activity, Type: 0, Details: username, State: globalName, LargeText: activity},
				}},
			KV: core.KV{},
		}
		svg := writeCardSVG(newCardUser(u, imageHosts{}), parseCardOptions(q), cardImages{}, testNow)
		wellFormed(t, "fuzzed card", string(svg))
	})
}

package lantern

import (
	"math"
	"strconv"
)

// cardOptions are the SVG card's query parameters after validation and
// defaults (docs/compat/lantern.md §4.1, with §9 #7 and #9 adopted: the two texts are plain
// strings and borderRadius is honoured as written, 0 included, clamped to
// [0, cardMaxBorderRadius]).
type cardOptions struct {
	Theme             string  // "dark" or "light"
	BorderRadius      float64 // rem
	HideGlobalName    bool
	HideStatus        bool
	HideBadges        bool
	HideActivity      bool
	HideLastSeen      bool
	HideServerTag     bool
	NoActivityTitle   string
	NoActivityMessage string
}

// Defaults of docs/compat/lantern.md §4.1.
const (
	cardDefaultTheme             = "dark"
	cardDefaultBorderRadius      = 2
	cardDefaultNoActivityTitle   = "No Activity"
	cardDefaultNoActivityMessage = "User is not currently doing anything."
	// cardMaxBorderRadius bounds absurd values so the CSS stays finite.
	cardMaxBorderRadius = 1000
)

// cardFlagParams are the 0/1 card parameters, in the order of cardOptions'
// Hide fields.
var cardFlagParams = [...]string{
	"hideGlobalName", "hideStatus", "hideBadges", "hideActivity", "hideLastSeen", "hideServerTag",
}

// parseCardOptions turns the query parameters, validated by
// validateCardQuery, into options with the defaults of docs/compat/lantern.md §4.1. Of a repeated
// parameter the first value counts. Invalid values never panic: they fall
// back to the defaults.
func parseCardOptions(q query) cardOptions {
	first := func(name string) string {
		if vs := q.get(name); len(vs) > 0 {
			return vs[0]
		}
		return ""
	}
	o := cardOptions{
		Theme:             cardDefaultTheme,
		BorderRadius:      cardDefaultBorderRadius,
		NoActivityTitle:   cardDefaultNoActivityTitle,
		NoActivityMessage: cardDefaultNoActivityMessage,
	}
	if first("theme") == "light" {
		o.Theme = "light"
	}
	if v := first("borderRadius"); isNumeric(v) {
		f, _ := strconv.ParseFloat(v, 64) // ±Inf on overflow, clamped below
		o.BorderRadius = math.Min(math.Max(f, 0), cardMaxBorderRadius)
	}
	flags := [...]*bool{
		&o.HideGlobalName, &o.HideStatus, &o.HideBadges, &o.HideActivity, &o.HideLastSeen, &o.HideServerTag,
	}
	for i, name := range cardFlagParams {
		*flags[i] = first(name) == "1"
	}
	if v := first("noActivityTitle"); v != "" {
		o.NoActivityTitle = v
	}
	if v := first("noActivityMessage"); v != "" {
		o.NoActivityMessage = v
	}
	return o
}

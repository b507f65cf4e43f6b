package badge

import (
	"strings"
	"unicode/utf8"

	"github.com/halyardhq/halyard/core"
)

// Kind is what a badge shows: the file name in /badge/:id/<kind>.svg.
type Kind string

// The badge kinds.
const (
	KindStatus    Kind = "status"
	KindActivity  Kind = "activity"
	KindListening Kind = "listening"
	KindCustom    Kind = "custom"
)

// kinds lists every kind, in the order their renderers are registered.
var kinds = [...]Kind{KindStatus, KindActivity, KindListening, KindCustom}

// Discord's activity types (docs/compat/discord.md).
const (
	activityPlaying   = 0
	activityStreaming = 1
	activityListening = 2
	activityWatching  = 3
	activityCustom    = 4
	activityCompeting = 5
)

// Colours of the default badges.
const (
	colorOnline  = "#4c1"    // brightgreen
	colorIdle    = "#dfb317" // yellow
	colorDND     = "#e05d44" // red
	colorOffline = "#9f9f9f" // lightgrey
	colorActive  = "#007ec6" // blue
	colorSpotify = "#1db954" // Spotify's green, for any listening activity
	colorNone    = "#9f9f9f" // lightgrey
)

// maxMessage bounds a message drawn from Discord data (activity names are
// up to 128 characters); longer ones end with "…".
const maxMessage = 60

// Content returns the default label, message and colour of the user's
// badge of that kind: what GET /badge/:id/<kind>.svg shows without
// parameters.
func Content(k Kind, u *core.User) Badge {
	switch k {
	case KindActivity:
		a := mainActivity(u)
		if a == nil {
			return Badge{Label: "activity", Message: "none", Color: colorNone}
		}
		return Badge{Label: activityVerb(a.Type), Message: clip(a.Name), Color: colorActive}
	case KindListening:
		a := listening(u)
		if a == nil {
			return Badge{Label: "listening", Message: "not listening", Color: colorNone}
		}
		return Badge{Label: "listening", Message: clip(trackOf(a)), Color: colorSpotify}
	case KindCustom:
		text := customStatus(u)
		if text == "" {
			return Badge{Label: "custom status", Message: "none", Color: colorNone}
		}
		return Badge{Label: "custom status", Message: clip(text), Color: colorActive}
	default:
		st := u.Status()
		color := colorOffline
		switch st {
		case core.StatusOnline:
			color = colorOnline
		case core.StatusIdle:
			color = colorIdle
		case core.StatusDND:
			color = colorDND
		}
		return Badge{Label: "status", Message: string(st), Color: color}
	}
}

// mainActivity is the activity a presence card leads with: the first
// game, stream, show or competition, else the first listening activity
// (custom statuses have their own badge).
func mainActivity(u *core.User) *core.Activity {
	acts := u.Activities()
	for i := range acts {
		switch acts[i].Type {
		case activityPlaying, activityStreaming, activityWatching, activityCompeting:
			return &acts[i]
		}
	}
	return listeningIn(acts)
}

// listening is the first listening activity of any app — Spotify or
// another player that reports one.
func listening(u *core.User) *core.Activity { return listeningIn(u.Activities()) }

// listeningIn is listening over activities already decoded.
func listeningIn(acts []core.Activity) *core.Activity {
	for i := range acts {
		if acts[i].Type == activityListening {
			return &acts[i]
		}
	}
	return nil
}

// activityVerb is the label Discord's client puts before an activity.
func activityVerb(typ int) string {
	switch typ {
	case activityStreaming:
		return "streaming"
	case activityListening:
		return "listening to"
	case activityWatching:
		return "watching"
	case activityCompeting:
		return "competing in"
	}
	return "playing"
}

// trackOf is "Artist – Song": Spotify (and the players that copy it) put
// the artist in state and the song in details; the app's name stands in
// when both are missing.
func trackOf(a *core.Activity) string {
	artist, song := strings.TrimSpace(a.State), strings.TrimSpace(a.Details)
	switch {
	case artist != "" && song != "":
		return artist + " – " + song
	case song != "":
		return song
	case artist != "":
		return artist
	}
	return a.Name
}

// customStatus is the custom status's emoji and text: a Unicode emoji as
// itself, a server emoji as :name:.
func customStatus(u *core.User) string {
	acts := u.Activities()
	for i := range acts {
		a := &acts[i]
		if a.Type != activityCustom {
			continue
		}
		var emoji string
		if a.Emoji != nil && a.Emoji.Name != "" {
			emoji = a.Emoji.Name
			if a.Emoji.ID != "" {
				emoji = ":" + emoji + ":"
			}
		}
		text := strings.TrimSpace(a.State)
		switch {
		case emoji != "" && text != "":
			return emoji + " " + text
		case emoji != "":
			return emoji
		}
		return text
	}
	return ""
}

// clip shortens s to maxMessage characters.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= maxMessage {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:maxMessage-1])) + "…"
}

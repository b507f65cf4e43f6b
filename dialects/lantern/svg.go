package lantern

import (
	"bytes"
	"strconv"
	"time"

	"github.com/halyardhq/halyard/core"
)

// cardTheme is one colour set of docs/compat/lantern.md §4.4 (config.toml's
// [user_svg_card.colors.*]; "card" is unused by the renderer).
type cardTheme struct {
	Background          string
	BackgroundSecondary string
	ServerTagBackground string
	TextPrimary         string
	TextSecondary       string
}

// cardThemes are Lantern's shipped colours.
var cardThemes = map[string]cardTheme{
	"dark": {
		Background:          "#17171c",
		BackgroundSecondary: "#1e1e24",
		ServerTagBackground: "#2c2c33",
		TextPrimary:         "#ffffff",
		TextSecondary:       "#999999",
	},
	"light": {
		Background:          "#e6e6e6",
		BackgroundSecondary: "#dcdcdc",
		ServerTagBackground: "#d5d5d5",
		TextPrimary:         "#242a31",
		TextSecondary:       "#6c757d",
	},
}

// cardImages are the inlined images of one card: data URIs, "" where the
// image is absent or could not be fetched.
type cardImages struct {
	Avatar  string
	Large   string
	Small   string
	TagIcon string
}

// svgCard writes one card. It has every input it needs, so it is a pure
// function of its arguments; text is escaped with cardEscape and every
// other interpolated value comes from this package.
type svgCard struct {
	b    bytes.Buffer
	user *cardUser
	opts cardOptions
	img  cardImages
	now  time.Time
	c    cardTheme
}

// writeCardSVG renders the card of docs/compat/lantern.md §4.3: an HTML card in a foreignObject,
// 1000 × 300, drawn the way Lantern lays it out.
func writeCardSVG(u *cardUser, opts cardOptions, img cardImages, now time.Time) []byte {
	theme, ok := cardThemes[opts.Theme]
	if !ok {
		theme = cardThemes[cardDefaultTheme]
	}
	w := &svgCard{user: u, opts: opts, img: img, now: now, c: theme}
	w.card()
	return w.b.Bytes()
}

func (w *svgCard) s(parts ...string) {
	for _, p := range parts {
		w.b.WriteString(p)
	}
}

// text writes escaped text.
func (w *svgCard) text(s string) { w.b.WriteString(cardEscape(s)) }

func (w *svgCard) card() {
	radius := strconv.FormatFloat(w.opts.BorderRadius, 'f', -1, 64) + "rem"
	w.s("\n<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xhtml=\"http://www.w3.org/1999/xhtml\" width=\"1000\" height=\"300\">\n",
		"<foreignObject x=\"0\" y=\"0\" width=\"1000\" height=\"300\">\n",
		`<div xmlns="http://www.w3.org/1999/xhtml" style="position: absolute; width: 600px; height: 225px; inset: 0; top: 3rem;`,
		` font-family: sans-serif; background-color: `, w.c.Background, `; color: `, w.c.TextPrimary,
		`; font-size: 16px; border-radius: `, radius, `; padding: .75rem;">`, "\n")

	w.s(`<div style="position: absolute; bottom: 1rem; right: 1rem; font-size: 0.75rem; font-weight: 500; color: `, w.c.TextSecondary,
		`; padding: .5rem 1rem; border-radius: `, radius, `; background-color: `, w.c.BackgroundSecondary,
		`; letter-spacing: 0.5px;">Powered by lantern.rest</div>`, "\n")

	w.avatar()
	w.names()
	w.s(`<div style="width: 100%; height: 1px; background-color: `, w.c.BackgroundSecondary,
		`; margin-top: 2rem; margin-bottom: 1rem;"></div>`, "\n")
	if a := w.user.Activity; a != nil && !w.opts.HideActivity {
		w.activity(a)
	} else {
		w.noActivity()
	}
	w.s("</div>\n</foreignObject>\n</svg>\n")
}

// avatar writes the avatar circle overlapping the card's top edge, with the
// status icon at its bottom right.
func (w *svgCard) avatar() {
	w.s(`<div style="pointer-events: none; position: relative; display: flex; align-items: center; width: 100%;`,
		` margin-bottom: -7rem; left: 2rem; bottom: 3.5rem;">`, "\n",
		`<div style="position: relative; width: 100px; height: 100px; border-radius: 50%; border: solid 8px `, w.c.Background,
		`; background-color: `, w.c.Background, `;">`, "\n",
		`<img alt="`)
	w.text(w.user.Username)
	src := w.img.Avatar
	if src == "" {
		src = svgDataURI(fallbackAvatarSVG(w.user.DefaultAvatar))
	}
	w.s(`'s avatar" width="100" height="100" style="border-radius: 50%; width: 100px; height: 100px; color: transparent;" src="`, src, `"/>`, "\n")
	if !w.opts.HideStatus {
		icon, ok := statusIconURI[w.user.PlatformStatus]
		if !ok {
			icon = statusIconURI[core.StatusOffline]
		}
		w.s(`<div style="position: absolute; width: 26px; height: 26px; border-radius: 50%; border: 6px solid `, w.c.Background,
			`; bottom: 0; right: 0; background-color: `, w.c.Background, `;">`,
			`<img alt="Status" width="26" height="26" style="display: block; width: 26px; height: 26px;" src="`, icon, `"/></div>`, "\n")
	}
	w.s("</div>\n</div>\n")
}

// names writes @username, the global name, the server tag chip, the badges
// and "Last seen". A user without a global name is drawn as with
// hideGlobalName=1 (Lantern fails, docs/compat/lantern.md §4.6), so the tag chip still shows.
func (w *svgCard) names() {
	showGlobal := !w.opts.HideGlobalName && w.user.GlobalName != ""
	w.s(`<div style="display: flex; width: 100%; justify-content: space-between;">`, "\n",
		`<div style="display: flex; flex-direction: column; gap: 0.25rem; margin-left: 27%;">`, "\n",
		`<div style="display: flex; align-items: center; gap: 0.5rem;">`, "\n")
	if showGlobal {
		w.s(`<div style="font-size: 0.875rem; font-weight: 500; color: `, w.c.TextSecondary,
			`; display: flex; align-items: center; justify-content: space-between; width: 100%;"><span>@`)
		w.text(w.user.Username)
		w.s("</span></div>\n")
	} else {
		w.s(`<div style="font-size: 1.125rem; font-weight: 600; color: `, w.c.TextPrimary,
			`; display: flex; align-items: center; justify-content: space-between; width: 100%;">`,
			`<div style="display: flex; align-items: center; gap: 0.25rem;"><span>@`)
		w.text(w.user.Username)
		w.s(`</span>`)
		w.serverTag()
		w.s("</div></div>\n")
	}
	if !w.opts.HideBadges {
		w.badges()
	}
	w.s("</div>\n")
	if showGlobal {
		w.s(`<div style="display: flex; align-items: center; font-size: 1.125rem; font-weight: 600; color: `, w.c.TextPrimary, `;">`)
		w.text(w.user.GlobalName)
		w.serverTag()
		w.s("</div>\n")
	}
	w.s("</div>\n")
	if w.user.Status == core.StatusOffline && !w.user.LastSeen.IsZero() && !w.opts.HideLastSeen {
		w.s(`<span style="font-size: 0.75rem; font-weight: 500; color: `, w.c.TextSecondary, `; padding-right: 1rem;">Last seen `)
		w.text(cardFormatDistance(w.user.LastSeen, w.now))
		w.s("</span>\n")
	}
	w.s("</div>\n")
}

// serverTag writes the tag chip unless it is hidden or the user has none.
func (w *svgCard) serverTag() {
	t := w.user.Tag
	if t == nil || w.opts.HideServerTag {
		return
	}
	w.s(`<div style="height: 22px; width: max-content; margin-left: 0.5rem; padding: 0 0.45rem; border-radius: 0.35rem;`,
		` background-color: `, w.c.ServerTagBackground, `; font-size: 0.75rem; display: flex; align-items: center;`,
		` gap: 0.25rem; font-weight: 600; color: `, w.c.TextPrimary, `;">`)
	if w.img.TagIcon != "" {
		w.s(`<img alt="Server tag icon" width="16" height="16" style="width: 16px; height: 16px; border-radius: 50%;" src="`,
			w.img.TagIcon, `"/>`)
	}
	w.text(t.Name)
	w.s(`</div>`)
}

// badges writes one 16 × 16 badge per known flag, in flag order.
func (w *svgCard) badges() {
	w.s(`<div style="display: flex; align-items: center; gap: 0.25rem; margin-left: 0.25rem;">`)
	for _, name := range w.user.Badges {
		uri, ok := badgeURI[name]
		if !ok {
			continue
		}
		w.s(`<img alt="Badge `, name, `" width="16" height="16" style="width: 16px; height: 16px;" src="`, uri, `"/>`)
	}
	w.s("</div>\n")
}

// activity writes the activity card: large image (or the placeholder
// glyph) with the small image on its corner, then name, details, state and
// elapsed time.
func (w *svgCard) activity(a *cardActivity) {
	w.s(`<div style="display: grid; gap: 1rem; margin-left: 0.5rem; grid-template-columns: 1fr 1fr;">`, "\n",
		`<div style="display: flex; flex-direction: column; gap: 0.5rem; min-width: 0;">`, "\n",
		`<div style="width: 100%; height: max-content; background-color: `, w.c.BackgroundSecondary,
		`; border-radius: 1rem; display: flex; flex-direction: column; padding: 1rem; gap: 1rem;">`, "\n",
		`<div style="display: flex; flex-direction: row; gap: 1rem; min-width: 0;">`, "\n",
		`<div style="min-width: 80px; min-height: 80px; border-radius: 1rem; background-color: `, w.c.Background,
		`; display: flex; align-items: center; justify-content: center; position: relative;">`, "\n",
		`<div style="position: relative; width: 80px; height: 80px; display: flex; align-items: center; justify-content: center;">`, "\n")
	if w.img.Large != "" && a.Name != "" {
		w.s(`<img alt="Large image" width="80" height="80" style="width: 100%; height: 100%; position: absolute; top: 0; left: 0;`,
			` color: transparent; border-radius: 1rem; object-fit: cover;" src="`, w.img.Large, `"/>`, "\n")
	} else {
		w.s(placeholderGlyph(w.c.TextSecondary), "\n")
	}
	if w.img.Small != "" {
		w.s(`<img alt="Small image" width="32" height="32" style="width: 32px; height: 32px; position: absolute; border-radius: 50%;`,
			` bottom: -0.5rem; right: -0.5rem; color: transparent;" src="`, w.img.Small, `"/>`, "\n")
	}
	w.s("</div>\n</div>\n",
		`<div style="display: flex; flex-direction: column; gap: 0.25rem; align-items: flex-start; justify-content: center; min-width: 0;">`, "\n",
		`<div style="font-weight: 600; color: `, w.c.TextPrimary, `; max-width: 100%; white-space: nowrap; overflow: hidden; text-overflow: ellipsis;">`)
	w.text(a.Name)
	w.s("</div>\n")
	w.line(a.Details, "max-width: 200px; ")
	w.line(a.State, "max-width: 100%; ")
	if a.Start > 0 {
		w.s(`<div style="color: `, w.c.TextSecondary, `; font-size: 0.875rem; font-weight: 500;">`)
		w.text(cardElapsed(a.Start, w.now))
		w.s("</div>\n")
	}
	w.s("</div>\n</div>\n</div>\n</div>\n</div>\n")
}

// line writes one single-line, ellipsised secondary text, if any.
func (w *svgCard) line(s, width string) {
	if s == "" {
		return
	}
	w.s(`<div style="color: `, w.c.TextSecondary, `; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; `,
		width, `font-size: 0.875rem;">`)
	w.text(s)
	w.s("</div>\n")
}

// noActivity writes the centred title and message.
func (w *svgCard) noActivity() {
	w.s(`<div style="margin-top: 3rem;">`, "\n",
		`<div style="display: flex; justify-content: center; align-items: center; font-size: 1.125rem; font-weight: 600; color: `,
		w.c.TextPrimary, `;">`)
	w.text(w.opts.NoActivityTitle)
	w.s("</div>\n",
		`<div style="display: flex; justify-content: center; align-items: center; font-size: 0.875rem; font-weight: 500; color: `,
		w.c.TextSecondary, `;">`)
	w.text(w.opts.NoActivityMessage)
	w.s("</div>\n</div>\n")
}

package lantern

import (
	"encoding/base64"
	"strings"

	"github.com/halyardhq/halyard/core"
)

// Halyard's own drawings for the card (docs/compat/lantern.md §4.5: Lantern's PNGs and SVGs are GPL
// and Discord's art). Each is a small standalone SVG inlined as a
// data:image/svg+xml URI; none is fetched.

// statusIconSVG draws the status icons on a 512 × 512 canvas, the shape
// spanning 64–448 like the originals (docs/compat/lantern.md §4.5): online a disc, idle a
// crescent, dnd a disc with a bar cut out, offline a ring.
var statusIconSVG = map[core.Status]string{
	core.StatusOnline: `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">` +
		`<circle cx="256" cy="256" r="192" fill="#3ba55d"/></svg>`,
	core.StatusIdle: `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">` +
		`<mask id="m"><rect width="512" height="512" fill="#fff"/><circle cx="154" cy="154" r="138" fill="#000"/></mask>` +
		`<circle cx="256" cy="256" r="192" fill="#faa61a" mask="url(#m)"/></svg>`,
	core.StatusDND: `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">` +
		`<mask id="m"><rect width="512" height="512" fill="#fff"/><rect x="136" y="222" width="240" height="68" rx="34" fill="#000"/></mask>` +
		`<circle cx="256" cy="256" r="192" fill="#ed4245" mask="url(#m)"/></svg>`,
	core.StatusOffline: `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">` +
		`<mask id="m"><rect width="512" height="512" fill="#fff"/><circle cx="256" cy="256" r="100" fill="#000"/></mask>` +
		`<circle cx="256" cy="256" r="192" fill="#747f8d" mask="url(#m)"/></svg>`,
}

// Badge shapes shared by several badges (60 × 60 canvas).
const (
	badgeOpen  = `<svg xmlns="http://www.w3.org/2000/svg" width="60" height="60" viewBox="0 0 60 60">`
	badgeCrest = `<path d="M30 3 L53 13 V33 C53 45 43 52 30 57 C17 52 7 45 7 33 V13 Z" fill="`
	badgeBug   = `<g fill="#fff"><circle cx="30" cy="18" r="6"/><ellipse cx="30" cy="34" rx="10" ry="13"/></g>` +
		`<g stroke="#fff" stroke-width="3" stroke-linecap="round">` +
		`<path d="M20 28 L12 24 M20 35 H11 M21 42 L13 47 M40 28 L48 24 M40 35 H49 M39 42 L47 47"/></g>`
)

// badgeSVG draws the badges Lantern knows (docs/compat/lantern.md §4.5), keyed by the
// flags.human_readable name. Other flags (Staff, VerifiedBot, …) have no
// badge and are skipped (§4.6).
var badgeSVG = map[string]string{
	"ActiveDeveloper": badgeOpen + `<circle cx="30" cy="30" r="27" fill="#23a55a"/>` +
		`<g fill="none" stroke="#fff" stroke-width="5" stroke-linecap="round" stroke-linejoin="round">` +
		`<path d="M21 20 L12 30 L21 40 M39 20 L48 30 L39 40 M33 16 L27 44"/></g></svg>`,
	"BugHunterLevel1": badgeOpen + `<circle cx="30" cy="30" r="28" fill="#3ba55c"/>` + badgeBug + `</svg>`,
	"BugHunterLevel2": badgeOpen + `<circle cx="30" cy="30" r="28" fill="#e8a424"/>` + badgeBug + `</svg>`,
	"CertifiedModerator": badgeOpen + `<path d="M30 3 L53 11 V30 C53 44 43 52 30 57 C17 52 7 44 7 30 V11 Z" fill="#4f5d95"/>` +
		`<path d="M30 15 L34 25 L45 26 L37 33 L39 44 L30 38 L21 44 L23 33 L15 26 L26 25 Z" fill="#fff"/></svg>`,
	"Hypesquad": badgeOpen + `<rect x="12" y="12" width="36" height="36" rx="8" fill="#f6b93b" transform="rotate(45 30 30)"/>` +
		`<path d="M30 18 L42 29 V41 H18 V29 Z" fill="#fff"/></svg>`,
	"HypeSquadOnlineHouse1": badgeOpen + badgeCrest + `#9c84ef"/>` +
		`<path d="M18 22 L30 34 L42 22 V32 L30 44 L18 32 Z" fill="#fff"/></svg>`,
	"HypeSquadOnlineHouse2": badgeOpen + badgeCrest + `#f47b67"/>` +
		`<path d="M30 16 L43 40 H17 Z" fill="#fff"/></svg>`,
	"HypeSquadOnlineHouse3": badgeOpen + badgeCrest + `#45ddc0"/>` +
		`<path d="M30 15 L42 29 L30 43 L18 29 Z" fill="#fff"/></svg>`,
	"Partner": badgeOpen + `<rect x="4" y="4" width="52" height="52" rx="15" fill="#5865f2"/>` +
		`<g fill="none" stroke="#fff" stroke-width="4.5"><circle cx="23" cy="30" r="9"/><circle cx="37" cy="30" r="9"/></g></svg>`,
	"PremiumEarlySupporter": badgeOpen + `<circle cx="30" cy="30" r="27" fill="#c77dff"/>` +
		`<path d="M30 45 C14 34 13 24 19 19 C24 15 29 18 30 22 C31 18 36 15 41 19 C47 24 46 34 30 45 Z" fill="#fff"/></svg>`,
	"VerifiedDeveloper": badgeOpen + `<g fill="#3e70dd"><rect x="9" y="9" width="42" height="42" rx="7"/>` +
		`<rect x="9" y="9" width="42" height="42" rx="7" transform="rotate(45 30 30)"/></g>` +
		`<path d="M20 31 L27 38 L41 23" fill="none" stroke="#fff" stroke-width="5.5" stroke-linecap="round" stroke-linejoin="round"/></svg>`,
}

// defaultAvatarColours are the colours of Discord's six default avatars, by
// index; the drawn fallback avatar uses the user's.
var defaultAvatarColours = [...]string{"#5865f2", "#757e8a", "#3ba55c", "#faa61a", "#ed4245", "#eb459f"}

// fallbackAvatarSVG draws the avatar shown when the real one cannot be
// fetched: a head-and-shoulders silhouette on the default avatar's colour.
func fallbackAvatarSVG(index int) string {
	colour := defaultAvatarColours[((index%6)+6)%6]
	return `<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128" viewBox="0 0 128 128">` +
		`<circle cx="64" cy="64" r="64" fill="` + colour + `"/>` +
		`<g fill="#fff"><circle cx="64" cy="50" r="21"/>` +
		`<path d="M26 104 C26 84 42 76 64 76 C86 76 102 84 102 104 Z"/></g></svg>`
}

// placeholderGlyph is the picture glyph drawn where an activity has no large
// image or it could not be fetched (Lantern draws Font Awesome's FaImage at
// 50 × 50 in text.secondary; this is Halyard's own).
func placeholderGlyph(fill string) string {
	return `<svg xmlns="http://www.w3.org/2000/svg" width="50" height="50" viewBox="0 0 24 24" fill="` + fill + `">` +
		`<path fill-rule="evenodd" d="M5 3 H19 A3 3 0 0 1 22 6 V18 A3 3 0 0 1 19 21 H5 A3 3 0 0 1 2 18 V6 A3 3 0 0 1 5 3 Z` +
		` M5 5.5 A.5 .5 0 0 0 4.5 6 V16.6 L9 11.8 L12.6 15.5 L15 13 L19.5 17.6 V6 A.5 .5 0 0 0 19 5.5 Z"/>` +
		`<circle cx="15.5" cy="9" r="1.9"/></svg>`
}

// svgDataURI inlines a drawn SVG as a data: URI.
func svgDataURI(svg string) string {
	var b strings.Builder
	b.WriteString("data:image/svg+xml;base64,")
	b.WriteString(base64.StdEncoding.EncodeToString([]byte(svg)))
	return b.String()
}

// Data URIs of the fixed drawings, built once.
var (
	statusIconURI = map[core.Status]string{}
	badgeURI      = map[string]string{}
)

func init() {
	for s, svg := range statusIconSVG {
		statusIconURI[s] = svgDataURI(svg)
	}
	for name, svg := range badgeSVG {
		badgeURI[name] = svgDataURI(svg)
	}
}

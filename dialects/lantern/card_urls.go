package lantern

import (
	"net/url"
	"strconv"
	"strings"
)

// imageHosts are the base URLs the card's images come from (docs/compat/lantern.md §3.6). Tests
// point them all at one stand-in server.
type imageHosts struct {
	CDN     string // Discord CDN: avatars, app assets, guild tag badges
	Media   string // mp: assets (Discord's media proxy)
	Spotify string // spotify: album art
	YouTube string // youtube: thumbnails
	Twitch  string // twitch: stream previews
}

// defaultImageHosts are the real hosts Lantern builds its URLs with.
var defaultImageHosts = imageHosts{
	CDN:     "https://cdn.discordapp.com",
	Media:   "https://media.discordapp.net",
	Spotify: "https://i.scdn.co",
	YouTube: "https://i.ytimg.com",
	Twitch:  "https://static-cdn.jtvnw.net",
}

// withDefaults fills empty bases from defaultImageHosts and drops trailing
// slashes.
func (h imageHosts) withDefaults() imageHosts {
	fill := func(v *string, def string) {
		if *v == "" {
			*v = def
		}
		*v = strings.TrimRight(*v, "/")
	}
	fill(&h.CDN, defaultImageHosts.CDN)
	fill(&h.Media, defaultImageHosts.Media)
	fill(&h.Spotify, defaultImageHosts.Spotify)
	fill(&h.YouTube, defaultImageHosts.YouTube)
	fill(&h.Twitch, defaultImageHosts.Twitch)
	return h
}

// allows reports whether raw is an http(s) URL on one of the hosts, so an
// asset string crafted by a user (Discord relays whatever an RPC client
// sets) can never make the server fetch from anywhere else.
func (h imageHosts) allows(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil {
		return false
	}
	for _, base := range []string{h.CDN, h.Media, h.Spotify, h.YouTube, h.Twitch} {
		b, err := url.Parse(base)
		if err == nil && b.Scheme == u.Scheme && b.Host == u.Host {
			return true
		}
	}
	return false
}

// avatarURL is display_avatar_url (docs/compat/lantern.md §3.3) with a size hint: the custom
// avatar (gif when animated, else webp), or the default avatar PNG.
func (h imageHosts) avatarURL(id, hash, discriminator string) string {
	if hash != "" {
		ext := "webp"
		if strings.HasPrefix(hash, "a_") {
			ext = "gif"
		}
		return h.CDN + "/avatars/" + id + "/" + hash + "." + ext + "?size=256"
	}
	return h.CDN + "/embed/avatars/" + strconv.Itoa(defaultAvatarIndex(id, discriminator)) + ".png"
}

// avatarStillURL is the still WebP of an animated avatar, used when the
// GIF is over the size limit; "" for other avatars.
func (h imageHosts) avatarStillURL(id, hash string) string {
	if !strings.HasPrefix(hash, "a_") {
		return ""
	}
	return h.CDN + "/avatars/" + id + "/" + hash + ".webp?size=256"
}

// largeImageURL translates an activity's large image asset (docs/compat/lantern.md §3.6); "" for
// none.
func (h imageHosts) largeImageURL(asset, applicationID string) string {
	return h.assetURL(asset, applicationID, true)
}

// smallImageURL translates a small image asset: like the large one, but
// only mp: prefixes are known (docs/compat/lantern.md §3.6).
func (h imageHosts) smallImageURL(asset, applicationID string) string {
	return h.assetURL(asset, applicationID, false)
}

func (h imageHosts) assetURL(asset, applicationID string, large bool) string {
	if asset == "" {
		return ""
	}
	prefix, rest, ok := strings.Cut(asset, ":")
	if !ok {
		if applicationID == "" {
			return "" // Lantern builds /app-assets/null/…, which is never an image
		}
		return h.CDN + "/app-assets/" + applicationID + "/" + asset + ".webp"
	}
	rest, _, _ = strings.Cut(rest, ":") // only the text up to a second colon counts
	switch {
	case prefix == "mp":
		return h.Media + "/" + rest
	case !large:
		return ""
	case prefix == "spotify":
		return h.Spotify + "/image/" + rest
	case prefix == "youtube":
		return h.YouTube + "/vi/" + rest + "/hqdefault_live.jpg"
	case prefix == "twitch":
		return h.Twitch + "/previews-ttv/live_user_" + rest + ".png"
	}
	return ""
}

// serverTagIconURL is the guild tag badge URL (docs/compat/lantern.md §3.8), "" without a badge.
func (h imageHosts) serverTagIconURL(guildID, badge string) string {
	if guildID == "" || badge == "" {
		return ""
	}
	return h.CDN + "/guild-tag-badges/" + guildID + "/" + badge + ".webp"
}

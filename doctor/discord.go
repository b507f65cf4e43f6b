package doctor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Application flags of GET /applications/@me that say a privileged
// intent is enabled (Discord's "Application flags"): the plain flag for
// verified apps (100 servers or more), the _LIMITED one for the rest.
const (
	flagGatewayPresence              = 1 << 12
	flagGatewayPresenceLimited       = 1 << 13
	flagGatewayGuildMembers          = 1 << 14
	flagGatewayGuildMembersLimited   = 1 << 15
	flagGatewayMessageContent        = 1 << 18
	flagGatewayMessageContentLimited = 1 << 19
)

// invitePermissions are the permissions the bot needs (docs/compat/discord.md
// §1): View Channels (1<<10) and Send Messages (1<<11).
const invitePermissions = 1<<10 | 1<<11

// guildsPage is Discord's largest page of GET /users/@me/guilds.
const guildsPage = 200

// maxGuildPages bounds the guild listing (200 000 guilds), in case a
// server keeps answering full pages.
const maxGuildPages = 1000

// intents are the privileged intents Halyard identifies with, each with
// the application flags that say it is enabled and its switch in the
// Developer Portal.
var intents = []struct {
	check, name, toggle string
	flags               uint64
	why                 string
}{
	{"discord.intent.presence", "Presence", "PRESENCE INTENT", flagGatewayPresence | flagGatewayPresenceLimited,
		"presences are what Halyard serves"},
	{"discord.intent.members", "Server Members", "SERVER MEMBERS INTENT", flagGatewayGuildMembers | flagGatewayGuildMembersLimited,
		"it lists every member of the watched guilds"},
	{"discord.intent.content", "Message Content", "MESSAGE CONTENT INTENT", flagGatewayMessageContent | flagGatewayMessageContentLimited,
		"prefix commands in guild channels read message content"},
}

// discordAPI is the few REST calls the checks make.
type discordAPI struct {
	base, token string
	hc          *http.Client
}

// apiError is a non-2xx answer from Discord.
type apiError struct {
	status  int
	code    int
	message string
}

func (e *apiError) Error() string {
	msg := fmt.Sprintf("HTTP %d", e.status)
	if e.message != "" {
		msg += ": " + e.message
	}
	if e.code != 0 {
		msg += fmt.Sprintf(" (code %d)", e.code)
	}
	return msg
}

// get fetches path (under /api/v10) into v and returns when the answer was
// sent by Discord's clock (its Date header; zero when absent).
func (d discordAPI) get(ctx context.Context, path string, v any) (time.Time, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.base+"/api/v10"+path, nil)
	if err != nil {
		return time.Time{}, err
	}
	req.Header.Set("Authorization", "Bot "+d.token)
	// Discord asks bots for a User-Agent of this form.
	req.Header.Set("User-Agent", "DiscordBot (https://github.com/halyardhq/halyard, doctor)")
	resp, err := d.hc.Do(req)
	if err != nil {
		return time.Time{}, err
	}
	defer resp.Body.Close()
	date, _ := http.ParseTime(resp.Header.Get("Date"))
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return date, err
	}
	if resp.StatusCode != http.StatusOK {
		e := &apiError{status: resp.StatusCode}
		var de struct {
			Message string `json:"message"`
			Code    int    `json:"code"`
		}
		if json.Unmarshal(body, &de) == nil {
			e.message, e.code = de.Message, de.Code
		}
		return date, e
	}
	if err := json.Unmarshal(body, v); err != nil {
		return date, fmt.Errorf("unexpected answer: %v", err)
	}
	return date, nil
}

// checkDiscord checks the token, then (when it is accepted) the
// application's intents, the guilds and the commands, and the clock
// against the first answer's Date.
func checkDiscord(ctx context.Context, cfg Config) []Finding {
	if cfg.Demo {
		return []Finding{{Check: "discord", Status: Skip,
			Message: "--demo: Discord is the built-in simulator, nothing to check",
			Fix:     "run doctor without --demo (and with BOT_TOKEN set) to check a real bot"}}
	}
	if cfg.BotToken == "" {
		return []Finding{{Check: "discord.token", Status: Fail, Message: "BOT_TOKEN is not set",
			Fix: "create a bot in the Discord Developer Portal (https://discord.com/developers/applications) and set BOT_TOKEN to its token"}}
	}
	api := discordAPI{base: cfg.APIURL, token: cfg.BotToken, hc: probeClient(cfg.RequestTimeout)}
	var out []Finding

	var me struct {
		ID       string `json:"id"`
		Username string `json:"username"`
		Bot      bool   `json:"bot"`
	}
	date, err := api.get(ctx, "/users/@me", &me)
	received := time.Now()
	out = append(out, tokenFinding(cfg, me.Username, me.ID, err))
	if !date.IsZero() {
		// Date is truncated to the second: Discord's clock read, on
		// average, half a second more.
		out = append(out, clockFinding(received.Sub(date.Add(500*time.Millisecond)), cfg.MaxClockSkew))
	} else {
		out = append(out, Finding{Check: "clock", Status: Skip, Message: "no answer from Discord to compare the clock with"})
	}
	if err != nil {
		for _, c := range []string{"discord.application", "discord.guilds", "discord.shards", "discord.commands"} {
			out = append(out, Finding{Check: c, Status: Skip, Message: "not checked: needs an accepted bot token"})
		}
		return out
	}

	var app struct {
		ID    string `json:"id"`
		Name  string `json:"name"`
		Flags uint64 `json:"flags"`
	}
	if _, err := api.get(ctx, "/applications/@me", &app); err != nil {
		out = append(out, Finding{Check: "discord.application", Status: Fail,
			Message: "cannot read the bot's application (GET /applications/@me): " + err.Error(),
			Fix:     "run doctor again; if it persists, check Discord's status (https://discordstatus.com)"})
		app.ID = me.ID // modern bots' application id is their user id
	} else {
		out = append(out, intentFindings(app.ID, app.Flags)...)
	}
	in, err := listGuilds(ctx, api)
	out = append(out, guildFindingsFrom(in, err, cfg.GuildIDs, app.ID)...)
	out = append(out, shardsFinding(ctx, api, cfg.ShardCount, in, err))
	out = append(out, commandsFinding(ctx, api, app.ID, cfg.SlashCommands))
	return out
}

// tokenFinding reports GET /users/@me.
func tokenFinding(cfg Config, name, id string, err error) Finding {
	f := Finding{Check: "discord.token"}
	var ae *apiError
	switch {
	case err == nil:
		f.Status, f.Message = Pass, fmt.Sprintf("BOT_TOKEN is valid: the bot is %s (id %s)", name, id)
	case errors.As(err, &ae) && ae.status == http.StatusUnauthorized:
		f.Status, f.Message = Fail, "Discord refuses BOT_TOKEN (401 Unauthorized)"
		f.Fix = "Developer Portal → your application → Bot → Reset Token, then set BOT_TOKEN to the new token (without \"Bot \")"
	case errors.As(err, &ae) && ae.status == http.StatusTooManyRequests:
		f.Status, f.Message = Fail, "Discord rate-limits this bot or this address (429): "+err.Error()
		f.Fix = "wait a few minutes and run doctor again; if Halyard is restarting in a loop, stop it first"
	case errors.As(err, &ae):
		f.Status, f.Message = Fail, "Discord answered GET /users/@me with "+err.Error()
		f.Fix = "check BOT_TOKEN and DISCORD_API_URL (" + cfg.APIURL + ")"
	default:
		f.Status, f.Message = Fail, fmt.Sprintf("cannot reach Discord at %s: %v", cfg.APIURL, err)
		f.Fix = "check this machine's network, DNS and firewall (HTTPS to discord.com), and DISCORD_API_URL"
	}
	return f
}

// clockFinding compares the local clock with Discord's: skew is how far
// ahead the local clock is, to within about half a second.
func clockFinding(skew, limit time.Duration) Finding {
	f := Finding{Check: "clock"}
	skew = skew.Round(time.Second)
	abs, dir := skew, "ahead of"
	if skew < 0 {
		abs, dir = -skew, "behind"
	}
	if abs <= limit {
		f.Status, f.Message = Pass, fmt.Sprintf("the local clock is within %v of Discord's (%v %s it)", limit, abs, dir)
		if abs == 0 {
			f.Message = fmt.Sprintf("the local clock is within %v of Discord's (in step to the second)", limit)
		}
		return f
	}
	f.Status = Fail
	f.Message = fmt.Sprintf("the local clock is %v %s Discord's (more than %v): activity times, \"monitoring since\" and rate-limit resets will be wrong", abs, dir, limit)
	f.Fix = "synchronise the clock: timedatectl set-ntp true (systemd-timesyncd), or install chrony; in a container, fix the host's clock"
	return f
}

// intentFindings reports each privileged intent from the application's
// flags. Halyard identifies with all three, so Discord closes its
// connection (4014) when any is off.
func intentFindings(appID string, flags uint64) []Finding {
	portal := "https://discord.com/developers/applications/" + appID + "/bot"
	out := make([]Finding, 0, len(intents))
	for _, in := range intents {
		f := Finding{Check: in.check}
		if flags&in.flags != 0 {
			f.Status, f.Message = Pass, "the "+in.name+" intent is enabled"
		} else {
			f.Status = Fail
			f.Message = "the " + in.name + " intent is disabled: " + in.why + ", and Discord refuses Halyard's connection (close 4014, disallowed intents) without it"
			f.Fix = "open " + portal + ", turn on " + in.toggle + " under Privileged Gateway Intents and save (bots in 100 servers or more need Discord's verification for it)"
		}
		out = append(out, f)
	}
	return out
}

// inviteURL invites the bot with the scopes and permissions it needs,
// into guildID when not empty.
func inviteURL(appID, guildID string) string {
	q := url.Values{"client_id": {appID}, "scope": {"bot applications.commands"},
		"permissions": {strconv.Itoa(invitePermissions)}}
	if guildID != "" {
		q.Set("guild_id", guildID)
		q.Set("disable_guild_select", "true")
	}
	return "https://discord.com/oauth2/authorize?" + q.Encode()
}

// guildFindings checks that the bot is in each GUILD_IDS guild, or in at
// least one guild when GUILD_IDS is empty (every guild is watched then).
func guildFindings(ctx context.Context, api discordAPI, want []string, appID string) []Finding {
	in, err := listGuilds(ctx, api)
	return guildFindingsFrom(in, err, want, appID)
}

// guildFindingsFrom is guildFindings on a listing already made.
func guildFindingsFrom(in map[string]string, err error, want []string, appID string) []Finding {
	if err != nil {
		return []Finding{{Check: "discord.guilds", Status: Fail,
			Message: "cannot list the bot's guilds (GET /users/@me/guilds): " + err.Error(),
			Fix:     "run doctor again; if it persists, check Discord's status (https://discordstatus.com)"}}
	}
	if len(want) == 0 {
		if len(in) == 0 {
			return []Finding{{Check: "discord.guilds", Status: Fail,
				Message: "the bot is in no guild, so there is nobody to watch",
				Fix:     "invite it to your server: " + inviteURL(appID, "")}}
		}
		return []Finding{{Check: "discord.guilds", Status: Pass,
			Message: fmt.Sprintf("the bot is in %d guilds; GUILD_IDS is empty, so it watches them all", len(in))}}
	}
	out := make([]Finding, 0, len(want))
	for i, id := range want {
		if slices.Contains(want[:i], id) {
			continue // listed twice in GUILD_IDS
		}
		f := Finding{Check: "discord.guild." + id}
		if name, ok := in[id]; ok {
			f.Status, f.Message = Pass, fmt.Sprintf("the bot is in guild %s (%s)", id, name)
		} else {
			f.Status = Fail
			f.Message = "the bot is not in guild " + id + " (listed in GUILD_IDS), so none of its members are watched"
			f.Fix = "invite it with " + inviteURL(appID, id) + " (whoever opens it needs Manage Server in that guild), or remove " + id + " from GUILD_IDS"
		}
		out = append(out, f)
	}
	return out
}

// listGuilds returns the bot's guilds, id → name, page by page.
func listGuilds(ctx context.Context, api discordAPI) (map[string]string, error) {
	in := map[string]string{}
	after := "0"
	for range maxGuildPages {
		var page []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		}
		if _, err := api.get(ctx, "/users/@me/guilds?limit="+strconv.Itoa(guildsPage)+"&after="+after, &page); err != nil {
			return nil, err
		}
		for _, g := range page {
			in[g.ID] = g.Name
			if snowflakeLess(after, g.ID) {
				after = g.ID
			}
		}
		if len(page) < guildsPage {
			return in, nil
		}
	}
	return in, nil
}

// snowflakeLess compares two snowflakes as numbers.
func snowflakeLess(a, b string) bool {
	x, _ := strconv.ParseUint(a, 10, 64)
	y, _ := strconv.ParseUint(b, 10, 64)
	return x < y
}

// commandsFinding checks that every slash command Halyard registers is a
// global command of the application.
func commandsFinding(ctx context.Context, api discordAPI, appID string, want []string) Finding {
	f := Finding{Check: "discord.commands"}
	var cmds []struct {
		Name string `json:"name"`
	}
	if _, err := api.get(ctx, "/applications/"+url.PathEscape(appID)+"/commands", &cmds); err != nil {
		f.Status, f.Message = Fail, "cannot list the application's commands: "+err.Error()
		f.Fix = "run doctor again; if it persists, check Discord's status (https://discordstatus.com)"
		return f
	}
	have := make([]string, 0, len(cmds))
	for _, c := range cmds {
		have = append(have, c.Name)
	}
	var missing []string
	for _, name := range want {
		if !slices.Contains(have, name) {
			missing = append(missing, "/"+name)
		}
	}
	switch {
	case len(missing) > 0:
		f.Status = Fail
		f.Message = fmt.Sprintf("slash commands not registered: %s (%d registered)", strings.Join(missing, ", "), len(have))
		f.Fix = "start Halyard with this BOT_TOKEN: it registers its slash commands each time its bot connects; " +
			"if they stay missing, look for \"slash commands\" in its log"
	case len(want) == 0 && len(have) == 0:
		f.Status, f.Message = Pass, "no slash commands expected, none registered"
	default:
		f.Status, f.Message = Pass, fmt.Sprintf("%d slash commands registered", len(have))
	}
	return f
}

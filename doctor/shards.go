package doctor

import (
	"context"
	"fmt"
)

// guildsPerShard is the most guilds Discord lets one shard hold; above it
// IDENTIFY is refused with close 4011 (sharding required).
const guildsPerShard = 2500

// AutoShards as Config.ShardCount is SHARD_COUNT=auto (the bot takes
// Discord's recommended count); discord.AutoShards has the same value.
const AutoShards = -1

// shardsFinding checks SHARD_COUNT against the bot's guilds and what GET
// /gateway/bot says: enough shards that none holds more than 2500 guilds
// (else Discord refuses the bot), as many as Discord recommends, and a
// session start for each.
func shardsFinding(ctx context.Context, api discordAPI, shardCount int, guilds map[string]string, listErr error) Finding {
	f := Finding{Check: "discord.shards"}
	var gw struct {
		Shards     int `json:"shards"`
		StartLimit *struct {
			Total      int `json:"total"`
			Remaining  int `json:"remaining"`
			ResetAfter int `json:"reset_after"`
		} `json:"session_start_limit"`
	}
	if _, err := api.get(ctx, "/gateway/bot", &gw); err != nil || gw.StartLimit == nil {
		if err == nil {
			err = fmt.Errorf("no session_start_limit in the answer")
		}
		f.Status, f.Message = Warn, "cannot read Discord's shard recommendation (GET /gateway/bot): "+err.Error()
		f.Fix = "run doctor again; if it persists, check Discord's status (https://discordstatus.com)"
		if shardCount == AutoShards {
			f.Status = Fail
			f.Fix = "SHARD_COUNT=auto asks this at every start: " + f.Fix
		}
		return f
	}
	recommended := max(gw.Shards, 1)
	n, setting := max(shardCount, 1), fmt.Sprintf("SHARD_COUNT=%d", max(shardCount, 1))
	if shardCount == AutoShards {
		n, setting = recommended, fmt.Sprintf("SHARD_COUNT=auto (%d)", recommended)
	}
	needed := 1
	if listErr == nil {
		needed = max(1, (len(guilds)+guildsPerShard-1)/guildsPerShard)
	}
	switch {
	case n < needed:
		f.Status = Fail
		f.Message = fmt.Sprintf("the bot is in %d guilds: %s leaves more than %d to a shard, which Discord refuses (close 4011)",
			len(guilds), setting, guildsPerShard)
		f.Fix = fmt.Sprintf("set SHARD_COUNT=auto (Discord recommends %d) or at least %d", recommended, needed)
	case gw.StartLimit.Remaining < n:
		f.Status = Fail
		f.Message = fmt.Sprintf("%d of %d session starts left today, fewer than the %d shards of %s", gw.StartLimit.Remaining,
			gw.StartLimit.Total, n, setting)
		f.Fix = fmt.Sprintf("wait %d minutes for Discord to reset the limit; restarting in a loop spends it (Discord resets the token once it is gone)",
			(gw.StartLimit.ResetAfter+59_999)/60_000)
	case n < recommended:
		f.Status = Warn
		f.Message = fmt.Sprintf("%s: fewer shards than the %d Discord recommends", setting, recommended)
		f.Fix = fmt.Sprintf("set SHARD_COUNT=auto or %d", recommended)
	default:
		count := fmt.Sprintf("%d guilds", len(guilds))
		if listErr != nil {
			count = "an unknown number of guilds"
		}
		f.Status = Pass
		f.Message = fmt.Sprintf("%s for %s (Discord recommends %d); %d of %d session starts left", setting, count,
			recommended, gw.StartLimit.Remaining, gw.StartLimit.Total)
	}
	return f
}

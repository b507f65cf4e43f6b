package doctor

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/halyardhq/halyard/discord/discordsim"
)

// The guild check pages through GET /users/@me/guilds (200 a page), so a
// guild past the first page is found.
func TestGuildsPastFirstPage(t *testing.T) {
	sim, err := discordsim.New(discordsim.Config{Guilds: 450})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	ids := sim.GuildIDs()
	api := discordAPI{base: sim.RESTURL(), token: sim.Token(), hc: probeClient(10 * time.Second)}
	in, err := listGuilds(context.Background(), api)
	if err != nil || len(in) != len(ids) {
		t.Fatalf("listGuilds: %d guilds, %v; the simulator has %d", len(in), err, len(ids))
	}
	want := []string{ids[0], ids[len(ids)-1], "42", ids[0]} // the last one listed twice
	fs := guildFindings(context.Background(), api, want, sim.ApplicationID())
	if len(fs) != 3 || fs[0].Status != Pass || fs[1].Status != Pass || fs[2].Status != Fail {
		t.Fatalf("findings %+v", fs)
	}
	if all := guildFindings(context.Background(), api, nil, sim.ApplicationID()); len(all) != 1 || all[0].Status != Pass ||
		!strings.Contains(all[0].Message, "450 guilds") {
		t.Errorf("GUILD_IDS empty: %+v", all)
	}
}

// NATS: not configured is skipped; configured and down fails; a server
// that does not greet like NATS fails.
func TestNATS(t *testing.T) {
	ctx := context.Background()
	if f := checkNATS(ctx, Config{}.withDefaults()); f.Status != Skip {
		t.Errorf("not configured: %+v", f)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
			c.Close()
		}
	}()
	if f := checkNATS(ctx, Config{NATSURL: "nats://" + addr}.withDefaults()); f.Status != Fail || !strings.Contains(f.Message, "not a NATS server") {
		t.Errorf("not NATS: %+v", f)
	}
	ln.Close()
	if f := checkNATS(ctx, Config{NATSURL: "nats://" + addr}.withDefaults()); f.Status != Fail || f.Fix == "" {
		t.Errorf("nothing listening: %+v", f)
	}
}

// The shard check: SHARD_COUNT against Discord's recommendation and
// session start limit, and against the 2500 guilds a shard may hold.
func TestShardsFinding(t *testing.T) {
	sim, err := discordsim.New(discordsim.Config{Guilds: 3, Shards: 4, SessionStartLimit: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	api := discordAPI{base: sim.RESTURL(), token: sim.Token(), hc: probeClient(10 * time.Second)}
	ctx := context.Background()
	in, err := listGuilds(ctx, api)
	if err != nil {
		t.Fatal(err)
	}
	many := map[string]string{}
	for i := range 2*guildsPerShard + 1 {
		many[strconv.Itoa(i)] = ""
	}
	for _, tt := range []struct {
		count  int
		guilds map[string]string
		status Status
		want   string
	}{
		{AutoShards, in, Pass, "SHARD_COUNT=auto (4) for 3 guilds (Discord recommends 4); 4 of 4 session starts left"},
		{4, in, Pass, "SHARD_COUNT=4 for 3 guilds"},
		{2, in, Warn, "SHARD_COUNT=2: fewer shards than the 4 Discord recommends"},
		{2, many, Fail, "close 4011"},
		{AutoShards, many, Pass, "SHARD_COUNT=auto (4)"},
		{0, in, Warn, "SHARD_COUNT=1"},
		{5, in, Fail, "4 of 4 session starts left today, fewer than the 5 shards"},
	} {
		f := shardsFinding(ctx, api, tt.count, tt.guilds, nil)
		if f.Status != tt.status || !strings.Contains(f.Message, tt.want) || (f.Status != Pass && f.Fix == "") {
			t.Errorf("SHARD_COUNT %d, %d guilds: %+v, want %s with %q", tt.count, len(tt.guilds), f, tt.status, tt.want)
		}
	}
	bad := discordAPI{base: sim.RESTURL(), token: "wrong", hc: api.hc}
	if f := shardsFinding(ctx, bad, AutoShards, in, nil); f.Status != Fail {
		t.Errorf("auto without GET /gateway/bot: %+v", f)
	}
	if f := shardsFinding(ctx, bad, 1, in, nil); f.Status != Warn {
		t.Errorf("a count without GET /gateway/bot: %+v", f)
	}
}

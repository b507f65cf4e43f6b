package doctor

import (
	"context"
	"net"
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

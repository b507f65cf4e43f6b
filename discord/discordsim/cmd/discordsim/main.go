// Command discordsim runs the Discord simulator on its own, for clients
// other than Halyard's bot: the Node suite in clients/ drives an
// unmodified discord.js against it, so the simulator cannot drift into
// agreeing only with arikawa.
//
//	go run ./discord/discordsim/cmd/discordsim --members 20
//
// It prints one JSON line on stdout once listening: the gateway and REST
// URLs, the bot token, the bot and application ids, the guilds with their
// member ids, and the control URL. The control API (plain HTTP, on its own
// listener, never part of Discord's surface) lets a test play Discord's
// users and faults:
//
//	POST /presence   a PRESENCE_UPDATE payload       → 202
//	POST /dm         {"user_id","content"}          → {"channel_id"}
//	POST /interact   {"guild_id","user_id","command","options"} → {"id"}
//	GET  /interaction?id=ID  the bot's callback body, 404 until answered
//	GET  /messages?user_id=ID  the bot's DMs to the user, oldest first
//	POST /reconnect  op 7 to every session
//	GET  /truth?user_id=ID  what the simulator holds about the user
//	GET  /stats      the gateway counters
//
// It stops on SIGINT or SIGTERM.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/halyardhq/halyard/discord/discordsim"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "discordsim:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("discordsim", flag.ContinueOnError)
	st := discordsim.Standalone{Addr: "127.0.0.1:0", Members: 20, Guilds: 1, Shards: 1, MaxConcurrency: 1,
		Seed: 1, Heartbeat: 41250 * time.Millisecond}
	st.Flags(fs)
	control := fs.String("control", "127.0.0.1:0", "control API listen address")
	verbose := fs.Bool("v", false, "log gateway activity to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	sim, err := discordsim.New(st.Config(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))))
	if err != nil {
		return err
	}
	defer sim.Close()
	ln, err := net.Listen("tcp", *control)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: controlAPI(sim), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	memberIDs := map[string][]string{}
	for _, g := range sim.GuildIDs() {
		memberIDs[g] = sim.MemberIDs(g)
	}
	info, _ := json.Marshal(map[string]any{
		"gateway": sim.GatewayURL(), "rest": sim.RESTURL() + "/api", "token": sim.Token(),
		"bot_id": sim.BotUserID(), "application_id": sim.ApplicationID(), "guilds": sim.GuildIDs(),
		"members": memberIDs, "control": "http://" + ln.Addr().String(),
	})
	fmt.Println(string(info))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}

// controlAPI serves the test-side controls listed in the package comment.
func controlAPI(sim *discordsim.Sim) http.Handler {
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	fail := func(w http.ResponseWriter, err error) {
		reply(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
	}
	body := func(w http.ResponseWriter, r *http.Request, v any) error {
		return json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(v)
	}
	mux.HandleFunc("POST /presence", func(w http.ResponseWriter, r *http.Request) {
		var d json.RawMessage
		if err := body(w, r, &d); err != nil {
			fail(w, err)
			return
		}
		if err := sim.UpdatePresence(d); err != nil {
			fail(w, err)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	mux.HandleFunc("POST /dm", func(w http.ResponseWriter, r *http.Request) {
		var d struct {
			UserID  string `json:"user_id"`
			Content string `json:"content"`
		}
		if err := body(w, r, &d); err != nil {
			fail(w, err)
			return
		}
		ch, err := sim.SendDM(d.UserID, d.Content)
		if err != nil {
			fail(w, err)
			return
		}
		reply(w, 200, map[string]string{"channel_id": ch})
	})
	mux.HandleFunc("POST /interact", func(w http.ResponseWriter, r *http.Request) {
		var d struct {
			GuildID string          `json:"guild_id"`
			UserID  string          `json:"user_id"`
			Command string          `json:"command"`
			Options json.RawMessage `json:"options"`
		}
		if err := body(w, r, &d); err != nil {
			fail(w, err)
			return
		}
		id, err := sim.Interact(d.GuildID, d.UserID, d.Command, d.Options)
		if err != nil {
			fail(w, err)
			return
		}
		reply(w, 200, map[string]string{"id": id})
	})
	mux.HandleFunc("GET /interaction", func(w http.ResponseWriter, r *http.Request) {
		resp, ok := sim.InteractionResponse(r.URL.Query().Get("id"))
		if !ok {
			reply(w, http.StatusNotFound, map[string]string{"error": "not answered"})
			return
		}
		reply(w, 200, resp)
	})
	mux.HandleFunc("GET /messages", func(w http.ResponseWriter, r *http.Request) {
		out := []map[string]any{}
		for _, m := range sim.DMMessages(r.URL.Query().Get("user_id")) {
			out = append(out, map[string]any{"channel_id": m.ChannelID, "content": m.Content, "embeds": m.Embeds})
		}
		reply(w, 200, out)
	})
	mux.HandleFunc("POST /reconnect", func(w http.ResponseWriter, r *http.Request) {
		sim.SendReconnect()
		w.WriteHeader(http.StatusAccepted)
	})
	mux.HandleFunc("GET /truth", func(w http.ResponseWriter, r *http.Request) {
		tr, ok := sim.Truth(r.URL.Query().Get("user_id"))
		if !ok {
			reply(w, http.StatusNotFound, map[string]string{"error": "unknown user"})
			return
		}
		reply(w, 200, tr)
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 200, sim.Stats())
	})
	return mux
}

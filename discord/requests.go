package discord

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/diamondburned/arikawa/v3/discord"
	"github.com/diamondburned/arikawa/v3/gateway"
	"github.com/diamondburned/arikawa/v3/utils/json/option"
)

// maxUserIDsPerRequest is Discord's cap on user_ids in one op 8.
const maxUserIDsPerRequest = 100

// requester sends Request Guild Members (op 8) commands from its own
// goroutine: arikawa throttles gateway sends (burst 5, then ~2/s), and the
// ordered event handler must never wait on that. User-id requests queued
// while it waits are merged into requests of up to 100 ids.
type requester struct {
	mu    sync.Mutex
	all   map[string]string   // guild → nonce of a pending all-members request
	users map[string][]string // guild → user ids to request
	wake  chan struct{}

	send func(ctx context.Context, cmd *gateway.RequestGuildMembersCommand) error
	// retry is how long to wait after a failed send (the connection is
	// down) unless woken sooner by a new connection.
	retry time.Duration
}

func newRequester(send func(context.Context, *gateway.RequestGuildMembersCommand) error) *requester {
	return &requester{
		all:   map[string]string{},
		users: map[string][]string{},
		wake:  make(chan struct{}, 1),
		send:  send,
		retry: time.Second,
	}
}

// requestAll queues an all-members request with presences for the guild.
func (r *requester) requestAll(guildID, nonce string) {
	r.mu.Lock()
	r.all[guildID] = nonce
	r.mu.Unlock()
	r.poke()
}

// requestUser queues a request for one member's presence.
func (r *requester) requestUser(guildID, userID string) {
	r.mu.Lock()
	if !slices.Contains(r.users[guildID], userID) {
		r.users[guildID] = append(r.users[guildID], userID)
	}
	r.mu.Unlock()
	r.poke()
}

// poke wakes the sender (after a new connection, or new work).
func (r *requester) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// run sends queued requests until ctx ends.
func (r *requester) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		}
		for r.flush(ctx) != nil {
			t := time.NewTimer(r.retry)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-r.wake:
			case <-t.C:
			}
			t.Stop()
		}
	}
}

// flush sends everything queued; on a send error the unsent requests stay
// queued and the error is returned.
func (r *requester) flush(ctx context.Context) error {
	for {
		cmd := r.next()
		if cmd == nil {
			return nil
		}
		if err := r.send(ctx, cmd); err != nil {
			r.requeue(cmd)
			return err
		}
	}
}

// next takes the next command to send off the queue, nil when empty.
func (r *requester) next() *gateway.RequestGuildMembersCommand {
	r.mu.Lock()
	defer r.mu.Unlock()
	for g, nonce := range r.all {
		delete(r.all, g)
		return allMembersCommand(g, nonce)
	}
	for g, ids := range r.users {
		n := min(len(ids), maxUserIDsPerRequest)
		batch := ids[:n:n]
		if n == len(ids) {
			delete(r.users, g)
		} else {
			r.users[g] = ids[n:]
		}
		return userCommand(g, batch)
	}
	return nil
}

// requeue puts back a command whose send failed, unless a newer request
// for the same guild replaced it meanwhile.
func (r *requester) requeue(cmd *gateway.RequestGuildMembersCommand) {
	r.mu.Lock()
	defer r.mu.Unlock()
	g := cmd.GuildIDs[0].String()
	if cmd.UserIDs == nil {
		if _, newer := r.all[g]; !newer {
			r.all[g] = cmd.Nonce
		}
		return
	}
	for _, id := range cmd.UserIDs {
		if s := id.String(); !slices.Contains(r.users[g], s) {
			r.users[g] = append(r.users[g], s)
		}
	}
}

func allMembersCommand(guildID, nonce string) *gateway.RequestGuildMembersCommand {
	g, _ := discord.ParseSnowflake(guildID)
	return &gateway.RequestGuildMembersCommand{
		GuildIDs:  []discord.GuildID{discord.GuildID(g)},
		Query:     option.NewString(""),
		Limit:     0,
		Presences: true,
		Nonce:     nonce,
	}
}

func userCommand(guildID string, userIDs []string) *gateway.RequestGuildMembersCommand {
	g, _ := discord.ParseSnowflake(guildID)
	ids := make([]discord.UserID, 0, len(userIDs))
	for _, s := range userIDs {
		if id, err := discord.ParseSnowflake(s); err == nil {
			ids = append(ids, discord.UserID(id))
		}
	}
	return &gateway.RequestGuildMembersCommand{
		GuildIDs:  []discord.GuildID{discord.GuildID(g)},
		UserIDs:   ids,
		Presences: true,
	}
}

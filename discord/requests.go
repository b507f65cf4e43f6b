package discord

import (
	"context"
	"errors"
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
	// shardOf is the shard a guild is on (nil: one shard): a shard whose
	// send failed waits for the retry without holding up the others.
	shardOf func(guildID string) int
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

// flush sends everything queued. A request for a shard not open on this
// node is dropped (opening the shard syncs its guilds anew). On another
// send error the shard's requests stay queued, the other shards' are
// still sent, and the error is returned.
func (r *requester) flush(ctx context.Context) error {
	var failed error
	blocked := map[int]bool{}
	for {
		cmd := r.nextExcept(blocked)
		if cmd == nil {
			return failed
		}
		err := r.send(ctx, cmd)
		switch {
		case err == nil, errors.Is(err, errShardClosed):
		default:
			r.requeue(cmd)
			blocked[r.shard(cmd.GuildIDs[0].String())] = true
			failed = err
		}
	}
}

// shard is the shard of a guild, 0 without shardOf.
func (r *requester) shard(guildID string) int {
	if r.shardOf == nil {
		return 0
	}
	return r.shardOf(guildID)
}

// next takes the next command to send off the queue, nil when empty.
func (r *requester) next() *gateway.RequestGuildMembersCommand { return r.nextExcept(nil) }

// nextExcept takes the next command for a shard not in skip.
func (r *requester) nextExcept(skip map[int]bool) *gateway.RequestGuildMembersCommand {
	r.mu.Lock()
	defer r.mu.Unlock()
	for g, nonce := range r.all {
		if skip[r.shard(g)] {
			continue
		}
		delete(r.all, g)
		return allMembersCommand(g, nonce)
	}
	for g, ids := range r.users {
		if skip[r.shard(g)] {
			continue
		}
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

// dropShard forgets the requests for the guilds of a shard closed on
// this node.
func (r *requester) dropShard(shard int, shardOf func(string) int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for g := range r.all {
		if shardOf(g) == shard {
			delete(r.all, g)
		}
	}
	for g := range r.users {
		if shardOf(g) == shard {
			delete(r.users, g)
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

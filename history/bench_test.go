package history

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/storage"
)

// BenchmarkHubUpdate is the hub's presence path (Hub.UpdatePresence, every
// call a change) over 10 000 users, with presence history off and on for
// all of them (the recorder running as in production, writing to the
// embedded store): the recorder must not slow the hot path down. On a
// cluster every node records and one writes: history-on is the shard
// holder (it writes), history-on-follower a node that records in memory
// only.
//
//	go test -run XXX -bench HubUpdate -benchtime 1000000x ./history/
func BenchmarkHubUpdate(b *testing.B) {
	for _, run := range []struct {
		name        string
		on, follows bool
	}{{"history-off", false, false}, {"history-on", true, false}, {"history-on-follower", true, true}} {
		on := run.on
		b.Run(run.name, func(b *testing.B) {
			const users = 10_000
			st, err := storage.Open(b.Context(), storage.Config{DataDir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			hub := core.NewHub(core.HubOptions{})
			if err := hub.Open(b.Context()); err != nil {
				b.Fatal(err)
			}
			defer hub.Close()
			ids := make([]string, users)
			for i := range ids {
				ids[i] = strconv.Itoa(1_000_000 + i)
				hub.UpsertMember("1", core.Member{User: core.DiscordUser{ID: ids[i], Raw: json.RawMessage(`{"id":"` + ids[i] + `"}`)},
					Presence: &core.Presence{Status: core.StatusOnline}, SetPresence: true})
			}
			opts := Options{Hub: hub, Store: st}
			if run.follows {
				opts.Writes = func(*core.User) bool { return false }
			}
			rec := New(opts)
			if err := rec.Open(b.Context()); err != nil {
				b.Fatal(err)
			}
			defer rec.Close()
			if on {
				for _, id := range ids {
					if err := rec.Enable(b.Context(), id); err != nil {
						b.Fatal(err)
					}
				}
			}
			statuses := []core.Status{core.StatusIdle, core.StatusDND, core.StatusOnline}
			presences := make([]*core.Presence, len(statuses))
			for i, s := range statuses {
				presences[i] = &core.Presence{Status: s}
			}
			// Every user's first change is recorded at once (the last was
			// long ago); after that a user's changes are folded into one
			// per DefaultResolution: the steady state of a long flood.
			// Warm up into it, so the timed part measures that.
			for i := range users {
				hub.UpdatePresence(ids[i], presences[len(presences)-1])
			}
			for i := range users {
				hub.UpdatePresence(ids[i], presences[0])
			}
			if err := rec.Flush(b.Context()); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := range b.N {
				hub.UpdatePresence(ids[i%users], presences[(i/users)%len(presences)])
			}
		})
	}
}

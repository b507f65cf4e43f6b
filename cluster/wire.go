package cluster

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"time"

	"github.com/halyardhq/halyard/core"
)

// Subjects. The node name is one subject token (NODE_NAME is checked to
// hold no dot or wildcard).
const (
	subjectHub       = "halyard.hub."  // + publishing node: batches of hub changes
	subjectSnapshot  = "halyard.snap." // + node: snapshot requests to that node
	subjectKV        = "halyard.kv"    // KV and token announcements
	subjectNodes     = "halyard.nodes" // heartbeats
	leaseBucket      = "halyard_leases"
	maxBatchOps      = 512     // changes per bus message at most
	maxMessageBytes  = 900_000 // below NATS's default 1 MiB payload limit
	snapshotChunkOps = 256
)

// opKind says which core.Hub method a change calls.
type opKind uint8

const (
	opUpsertMember opKind = iota + 1
	opUpdatePresence
	opRemoveMember
	opRemoveGuild
	opSynced
	opRecordsMark // records up to a mark are stored (records.go)
)

// op is one hub change, as the bot made it on the holder.
type op struct {
	Kind     opKind
	Guild    string
	User     string
	Member   core.Member
	Presence *core.Presence
	// opRecordsMark: Mark numbers a point of the stream (0: none), and
	// Durable says every record changed before that earlier mark is
	// stored (0: none yet).
	Mark, Durable uint64
}

// batch is one bus message of a node's stream of hub changes.
type batch struct {
	Stream string // the publishing node's stream id (fresh at each start)
	Node   string
	Seq    uint64
	Sent   int64 // Unix ns, for the apply lag
	Ops    []op
}

// snapshotChunk is one reply message to a snapshot request. The last one
// has Last set; Seq is the stream's sequence number the snapshot is at.
type snapshotChunk struct {
	Stream string
	Seq    uint64
	Ops    []op
	// Shards the node holds, of ShardCount; their guilds' members are
	// all in the snapshot, so the receiver drops the others.
	Shards     []int
	ShardCount int
	Synced     bool
	Last       bool
}

// announceKind says what a KV-subject announcement is about.
type announceKind uint8

const (
	announceKV announceKind = iota + 1
	announceToken
	announceOptOut  // a user hid or showed themselves (.optout / .optin)
	announceHistory // a presence history opt-in change (history.go)
	announcePurge   // an admin purge or .delete-my-data: forget the user's record
)

// announcement is one KV or token change on halyard.kv.
type announcement struct {
	Stream  string
	Seq     uint64
	Kind    announceKind
	User    string
	Version int64
	Pairs   [][2]string
	OptOut  bool      // announceOptOut: hidden (true) or shown again
	Since   time.Time // announceOptOut: when they opted out; announcePurge: when purged
	History string    // announceHistory: the change (history.Change*)
}

// heartbeat is a node's announcement of itself on halyard.nodes.
type heartbeat struct {
	Node     string
	Shards   []int
	Sockets  int
	SentUnix int64 // ms
}

func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		return nil, fmt.Errorf("cluster: encoding %T: %w", v, err)
	}
	return buf.Bytes(), nil
}

func decode(b []byte, v any) error {
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(v); err != nil {
		return fmt.Errorf("cluster: decoding %T: %w", v, err)
	}
	return nil
}

func kvPairs(kv core.KV) [][2]string {
	out := make([][2]string, 0, kv.Len())
	for k, v := range kv.All() {
		out = append(out, [2]string{k, v})
	}
	return out
}

func pairsKV(pairs [][2]string) core.KV {
	var kv core.KV
	for _, p := range pairs {
		kv.Set(p[0], p[1])
	}
	return kv
}

// ShardOf is the shard Discord routes a guild to: (guild_id >> 22) %
// shardCount. A guild id that is not a number goes to shard 0.
func ShardOf(guildID string, shardCount int) int {
	if shardCount <= 1 {
		return 0
	}
	var id uint64
	for _, c := range guildID {
		if c < '0' || c > '9' {
			return 0
		}
		id = id*10 + uint64(c-'0')
	}
	return int((id >> 22) % uint64(shardCount))
}

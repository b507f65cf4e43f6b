// Package cluster runs several Halyard nodes as one service over NATS
// (docs: DESIGN.md "Several nodes", README "Cluster"). Nothing here is a
// home-made protocol: it is NATS subjects, request/reply and a JetStream
// key/value bucket.
//
// Gateway. Each Discord shard has one holder: the node whose entry
// "shard-<id>" in the JetStream KV bucket halyard_leases names it. The
// bucket's entries live LeaseTTL after their last write; the holder
// rewrites its entries every LeaseTTL/3 with update-at-revision, and a
// node that fails to (lost the race, cut off from NATS) closes that shard
// at once. A free shard is taken with create-if-absent, so at most one
// node holds it; when a holder dies its entry expires and another node
// takes the shard within LeaseTTL plus one renewal period.
//
// Joining. Open connects with nats.go's RetryOnFailedConnect: servers that
// do not answer at start are not an error; the node serves what it has,
// answers /readyz 503 ("not joined"), and joins (lease bucket,
// subscriptions, a reload of KV and tokens, then the lease and heartbeat
// loops) once a server answers. KV, token and opt-out writes made meanwhile
// are announced through the client's reconnect buffer.
//
// Hub changes. The bot writes members and presences into a Tee: it
// applies each change to the local core.Hub and queues it for the bus.
// A Publisher sends the queue in batches (gob) on halyard.hub.<node>:
// a change after a quiet spell (no message for flushEvery) is sent at
// once on the caller's goroutine, and changes that come faster share a
// message sent flushEvery after the last one (or when maxBatchOps are
// queued). Batches are numbered by the node's stream (a fresh id at every start, and
// a sequence number from 1). Every other node applies the changes through
// the same core.Hub methods the bot calls. A node that sees a gap in a
// stream's sequence, a stream it joined in the middle, or a reconnect to
// NATS asks that node for a snapshot (request/reply on halyard.snap.<node>,
// answered in chunks to the requester's inbox). The snapshot carries the
// sequence number it is at; batches that arrive meanwhile are buffered and
// those after the snapshot are applied on top (replaying a change is
// harmless: every change sets a value). A node is ready once it has the
// state of every shard's holder.
//
// KV and tokens. A write is stored first (storage's versioned KV:
// compare-and-set on a per-user version, so concurrent writers on several
// nodes lose nothing), then announced on halyard.kv with the user, the
// version and the map; a node applies a version newer than its own.
// Compare-and-set was chosen over routing each user's writes to an owner
// node: it needs no owner election or hand-over, a write never waits on
// another node, and a node cut off from NATS can still write (the store
// decides). On FerretDB a filtered replace is not atomic, so a version is
// won by inserting a claim document (storage/kv_versions.go); every write
// first re-reads the stored map, so the answer reflects it. Claims are
// swept in windows 256 versions behind the last won (a claim of a swept
// version meets a document that far ahead and conflicts). A
// token change is announced with the user only and every node reloads
// that user's hash from the store. A gap in a node's announcements or a
// reconnect reloads every map and hash from the store.
//
// Records. One node writes each user record a change dirties: the node
// whose bot made the change (its hub's ordinary dirty mark). A node that
// applies a member change from the bus (core.Hub.ApplyMember) only notes
// the record as foreign, under the change's stream and a generation of
// its own count. Every RecordsEvery the node with changes of its own puts
// a records mark in its stream (opRecordsMark, numbered) and then flushes
// its hub's records; the next mark says up to which earlier mark every
// record is stored (Durable). Every change before a mark is, by then, in
// the hub's dirty set or stored, so a successful flush after queueing the
// mark makes it durable. A follower that applies mark m notes the
// generation it reached; on a later Durable m it forgets that stream's
// notes older than that generation. A node that takes a shard's lease
// adopts every note it still has (writes those records itself: what the
// old holder changed and did not say it stored), and a node forgets the
// notes of streams that hold no shard once every shard has a holder (the
// holder that took them over adopted its own). The gaps: two holders
// lost within one RecordsEvery of each other, or a holder that dies and
// takes its old lease back at once, can lose the last seconds of record
// changes (username, monitoring start, last seen; never presence, KV or
// tokens); a user in guilds of two shards held by two nodes has two
// writers; an opt-in applied from the bus marks the record on every node.
//
// Presence history. Every node records the opted-in users in memory from
// the hub changes it applies and answers their timelines; the holder of
// the shard of a user's guild (WritesHistoryOf) writes their intervals,
// so none is stored twice. A lease taken, lost or given back calls the
// recorder's Handover: the old holder stores the open intervals up to
// then, the new one from its takeover. Opt-in changes (on, off, clear,
// purge, restored) are announcements on halyard.kv (announceHistory), and
// a reload after a gap or reconnect reloads the opt-ins. The gaps are in
// history/cluster.go.
//
// Purges. Hub.Purge on a cluster stores the empty KV as a versioned
// write (announced as any KV write: the version keeps growing, so a write
// made later on any node is newer than every node's copy), then announces
// the purge (announcePurge), on which every node forgets the user's record
// (Hub.ApplyPurge) and keeps its KV. A node that misses the purge keeps the
// old record in memory until it restarts (records are not reloaded after a
// gap); the KV is reloaded as usual.
//
// Nodes. Every node announces itself on halyard.nodes every Heartbeat
// (its shards, its socket count); Nodes lists those seen lately.
package cluster

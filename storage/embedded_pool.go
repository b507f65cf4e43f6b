package storage

// FerretDB v1.24 serves every command from one database/sql pool of
// ferretSQLitePool SQLite connections (backends/sqlite/metadata/pool), and
// its update command keeps the query of each of its statements open — one
// pooled connection each — until the whole command ends, while every
// statement's write needs one more connection. An update command of n
// statements that all match existing documents therefore holds n
// connections and then waits for an (n+1)th; at n = 100 it waits forever,
// the pool is gone for every other writer, and each retry of the same batch
// jams it again. That is issue 12: a restart on a data dir with more than a
// hundred members' records rewrote them in batches of 100 replaces. (A
// fresh data dir never showed it: an upsert that matches nothing closes its
// query at once.)
//
// So, against the embedded server only, Halyard bounds both factors: the
// driver opens at most embeddedMaxCommands connections (so at most that many
// commands run at once), and a bulk write carries at most
// embeddedWriteBatch statements, so the worst case holds
// embeddedMaxCommands × (embeddedWriteBatch + 1) connections — under half
// the pool, which leaves room for the open cursors of loads. SQLite commits
// one write at a time anyway, and each record is its own transaction in
// FerretDB, so neither bound costs write throughput. A real MongoDB keeps
// the driver's defaults and saveUsersBatch.
const (
	// ferretSQLitePool is FerretDB v1.24's SQLite pool size (SetMaxOpenConns).
	ferretSQLitePool = 100
	// embeddedMaxCommands is the driver's connection pool size against the
	// embedded server.
	embeddedMaxCommands = 8
	// embeddedWriteBatch is the most statements one bulk write sends to the
	// embedded server.
	embeddedWriteBatch = 5
)

// This fails to compile (a negative constant converted to
// uint) if the bound above stops holding when a constant is changed.
const _ = uint(ferretSQLitePool/2 - embeddedMaxCommands*(embeddedWriteBatch+1))

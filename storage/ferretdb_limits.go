package storage

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// FerretDB v1 serves every command from one database/sql pool of backend
// connections (100 on SQLite, 50 by default on PostgreSQL), and its update
// command keeps the query of each of its statements open — one pooled
// connection each — until the whole command ends, while every statement's
// write needs one more connection. An update command of n statements that
// all match existing documents therefore holds n connections and then waits
// for an (n+1)th; once n reaches the pool size it waits forever, the pool
// is gone for every other writer, and each retry of the same batch jams it
// again. That is issue 12: a restart on a data dir with more than a hundred
// members' records rewrote them in batches of 100 replaces. (A fresh data
// dir never showed it: an upsert that matches nothing closes its query at
// once.) Concurrent single updates can exhaust the pool the same way.
//
// So against FerretDB — the embedded server, or a MONGODB_URI that
// answers buildInfo as FerretDB — Halyard bounds both factors: the driver
// opens at most ferretMaxCommands connections (so at most that many
// commands run at once), and a bulk write carries at most ferretWriteBatch
// statements. The worst case holds ferretMaxCommands × (ferretWriteBatch +
// 1) backend connections: at most half of the smallest default pool, which
// leaves room for the open cursors of loads. SQLite and FerretDB commit
// each record in its own transaction anyway, so neither bound costs write
// throughput. A MongoDB server keeps the driver's defaults and
// saveUsersBatch. A maxPoolSize in the URI still wins over ours.
const (
	// ferretSmallestPool is FerretDB v1's smallest default backend pool
	// (PostgreSQL's pool_max_conns; SQLite's is 100).
	ferretSmallestPool = 50
	// ferretMaxCommands is the driver's connection pool size against
	// FerretDB.
	ferretMaxCommands = 4
	// ferretWriteBatch is the most statements one bulk write sends to
	// FerretDB.
	ferretWriteBatch = 5
)

// This fails to compile (a negative constant converted to uint) if the
// bound above stops holding when a constant is changed.
const _ = uint(ferretSmallestPool/2 - ferretMaxCommands*(ferretWriteBatch+1))

// servesFerretDB reports whether the server behind client is FerretDB,
// which adds ferretdbVersion to buildInfo's answer.
func servesFerretDB(ctx context.Context, client *mongo.Client) (bool, error) {
	raw, err := client.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Raw()
	if err != nil {
		return false, err
	}
	_, err = raw.LookupErr("ferretdbVersion")
	return err == nil, nil
}

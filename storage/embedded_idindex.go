package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"go.mongodb.org/mongo-driver/v2/mongo"

	// The SQLite driver FerretDB itself uses (same module, same version).
	_ "modernc.org/sqlite"
)

// FerretDB v1.24's SQLite backend keeps every document as JSON text in one
// column, and pushes a filter {_id: <string>} down as
//
//	WHERE _ferretdb_sjson->'$._id' = ?
//
// (find, update, replace, delete and findAndModify alike), but the unique
// index it creates on _id is on the expression _ferretdb_sjson->"_id".
// SQLite matches an index to a query by the exact expression, so every
// lookup by _id scanned the whole table: one SaveKV cost 13 ms at 100 users
// and 2.3 s at 20 000. sqliteIDColumn is the pushed-down expression, and
// indexIDPaths gives each of our collections an index on it, so those
// lookups become index searches. FerretDB knows nothing of the index (it
// does not list it, and dropping the collection drops it with the table);
// it changes no result, only the query plan, and TestEmbeddedIDLookupsUseIndex
// fails if a FerretDB upgrade changes the pushed-down expression.
const (
	sqliteIDColumn       = `_ferretdb_sjson->'$._id'`
	sqliteCollectionsTab = "_ferretdb_collections" // FerretDB's collection → table map
	idPathIndexSuffix    = "_halyard_id_path"
)

// errNamespaceExists is MongoDB's (and FerretDB's) code for creating a
// collection that exists.
const errNamespaceExists = 48

// indexEmbeddedIDs creates the collections of db that are written by _id
// (so their SQLite tables exist) and indexes their pushed-down _id
// expression. It does nothing on a real MongoDB, whose _id index serves
// these lookups already.
func (s *Store) indexEmbeddedIDs(ctx context.Context, db *mongo.Database, colls ...*mongo.Collection) error {
	if s.embedded == nil {
		return nil
	}
	names := make([]string, len(colls))
	for i, c := range colls {
		names[i] = c.Name()
		cctx, cancel := s.opContext(ctx)
		err := db.CreateCollection(cctx, c.Name())
		cancel()
		var se mongo.ServerError
		if err != nil && !(errors.As(err, &se) && se.HasErrorCode(errNamespaceExists)) {
			return fmt.Errorf("creating collection %s: %w", c.Name(), err)
		}
	}
	// Not bounded by the operation timeout: the first start on a data dir
	// written before these indexes builds them over every document once.
	// Open's context bounds it, and SQLite's busy timeout any lock wait.
	return s.embedded.indexIDPaths(ctx, db.Name(), names)
}

// indexIDPaths creates, in the SQLite file of database, an index on
// sqliteIDColumn for each named collection's table (idempotent). It opens
// its own connection to the file, as a second process would; FerretDB's
// connections see the new schema at their next statement.
func (e *embeddedServer) indexIDPaths(ctx context.Context, database string, collections []string) error {
	file := filepath.Join(e.dbDir, database+".sqlite")
	dsn := (&url.URL{
		Scheme:   "file",
		Opaque:   file,
		RawQuery: url.Values{"_pragma": {"busy_timeout(10000)"}}.Encode(),
	}).String()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("opening %s: %w", file, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, name := range collections {
		var table string
		q := fmt.Sprintf(`SELECT table_name FROM %s WHERE name = ?`, quoteSQLiteIdent(sqliteCollectionsTab))
		if err := db.QueryRowContext(ctx, q, name).Scan(&table); err != nil {
			return fmt.Errorf("finding the table of collection %s in %s: %w", name, file, err)
		}
		q = fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON %s (%s)`,
			quoteSQLiteIdent(table+idPathIndexSuffix), quoteSQLiteIdent(table), sqliteIDColumn)
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("indexing _id of collection %s in %s: %w", name, file, err)
		}
	}
	return nil
}

// quoteSQLiteIdent quotes an SQLite identifier.
func quoteSQLiteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

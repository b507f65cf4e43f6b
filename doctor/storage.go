package doctor

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/halyardhq/halyard/storage"
)

// checkStorage opens the database as Halyard does, writes to it with the
// store's write concern, and checks that the concern waits for the
// journal. With no MONGODB_URI, a running node's embedded database is
// reached through its socket; otherwise the check starts the embedded
// database on DATA_DIR itself (creating it, as Halyard's first start
// would) and stops it again.
func checkStorage(ctx context.Context, cfg Config) Finding {
	f := Finding{Check: "database"}
	scfg := cfg.Storage
	scfg.Logger = slog.New(slog.DiscardHandler)
	what, note := "MongoDB", ""
	embedded := scfg.URI == ""
	if embedded {
		what, note = "the embedded database in "+scfg.DataDir, " (MONGODB_URI is empty)"
		uri, err := storage.RunningEmbeddedURI(scfg.DataDir)
		if err != nil {
			// Opening the files beside a running node would put two
			// servers on them.
			f.Status, f.Message = Warn, "not checked: "+err.Error()
			f.Fix = "use a shorter DATA_DIR (its absolute path under about 85 characters); the node's /readyz reports whether its database takes writes"
			return f
		}
		if uri != "" {
			scfg.URI = uri
			note = " (MONGODB_URI is empty; served by the running Halyard, reached through its socket)"
		}
	}
	s, err := storage.Open(ctx, scfg)
	if err != nil {
		f.Status, f.Message = Fail, fmt.Sprintf("cannot open %s%s: %v", what, note, err)
		switch {
		case embedded:
			f.Fix = "make DATA_DIR (" + scfg.DataDir + ") a directory the user running Halyard can write, on a disk with free space"
		case storage.IsUnreachable(err):
			f.Fix = "start MongoDB, or correct MONGODB_URI's host and port; check the firewall between this machine and the database"
		default:
			f.Fix = "check MONGODB_URI (scheme, credentials, authSource) and that its user has the readWrite role on MONGODB_NAME"
		}
		return f
	}
	defer s.Close()
	if !embedded {
		what = "MongoDB at " + s.URI()
	}
	if err := s.ProbeWrite(ctx); err != nil {
		f.Status, f.Message = Fail, fmt.Sprintf("%s answers but does not take writes: %v", what, err)
		f.Fix = "give MONGODB_URI's user the readWrite role on MONGODB_NAME; check the disk is not full and, for a replica set, that it has a primary"
		return f
	}
	name, journaled, err := s.WriteConcern(ctx)
	switch {
	case err != nil:
		f.Status, f.Message = Fail, fmt.Sprintf("%s takes writes, but its write concern cannot be checked: %v", what, err)
		f.Fix = "run doctor again; check the database's log"
	case !journaled:
		f.Status = Fail
		f.Message = fmt.Sprintf("%s takes writes only with %s, not a journaled write concern: an acknowledged write can be lost if it crashes", what, name)
		f.Fix = "run mongod with journaling (drop --nojournal / storage.journal.enabled: false; the in-memory engine has none)"
	default:
		f.Status, f.Message = Pass, fmt.Sprintf("%s is reachable and takes writes with write concern %s%s", what, name, note)
	}
	return f
}

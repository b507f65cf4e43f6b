package storage

import "errors"

// errNotEmbedded is returned by StartEmbedded on a store that uses an
// external MongoDB.
var errNotEmbedded = errors.New("storage: the store does not run an embedded database")

// StopEmbedded stops the embedded database server under the running store,
// as a crash of the database would, and waits until its files are closed.
// Every operation then fails within the operation timeout; the Store stays
// usable and recovers by itself once StartEmbedded has run. It is for fault
// drills (the end-to-end outage tests). It reports false, doing nothing,
// when the store uses an external MongoDB.
func (s *Store) StopEmbedded() bool {
	if s.embedded == nil {
		return false
	}
	s.embedded.stop()
	return true
}

// StartEmbedded starts the embedded database server again on the same
// address and files after StopEmbedded. The driver finds it again on its
// own within its heartbeat interval; nothing needs to reconnect.
func (s *Store) StartEmbedded() error {
	if s.embedded == nil {
		return errNotEmbedded
	}
	return s.embedded.start()
}

package storage

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/halyardhq/halyard/core"
)

// maxDocumentSize is MongoDB's limit on one BSON document (16 MiB).
const maxDocumentSize = 16 << 20

// errKVTooLarge is returned by SaveKV for a map whose document would not fit
// in one BSON document.
var errKVTooLarge = &core.Error{Code: core.ETOOLARGE, Message: "the user's key/value store would exceed 16 MiB"}

// errTokenTaken is returned by SaveTokenHash when another user already
// holds the same hash (the same token imported twice).
var errTokenTaken = &core.Error{Code: core.EINVALID, Message: "this token already belongs to another user"}

// redactURI returns uri with its password replaced, safe to log. It does
// not rely on uri parsing (a bad URI must be shown safely too), and treats
// everything up to the last "@" as user info, so a password holding an
// unescaped "/" or "@" is still hidden.
func redactURI(uri string) string {
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok || scheme == "" || strings.ContainsAny(scheme, "@:/") {
		return "<unparseable URI>"
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return uri
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if !hasPass {
		return uri
	}
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}

// uriSecrets returns the strings of uri that must never appear in an error
// or a log line: the password, raw and unescaped.
func uriSecrets(uri string) []string {
	_, rest, ok := strings.Cut(uri, "://")
	if !ok {
		rest = uri
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return nil
	}
	_, pass, ok := strings.Cut(rest[:at], ":")
	if !ok || pass == "" {
		return nil
	}
	secrets := []string{pass}
	if p, err := url.PathUnescape(pass); err == nil && p != pass {
		secrets = append(secrets, p)
	}
	return secrets
}

// cleanReason makes err one line and free of uri's password.
func cleanReason(err error, uri string) string {
	msg := err.Error()
	for _, s := range uriSecrets(uri) {
		msg = strings.ReplaceAll(msg, s, "xxxxx")
	}
	return strings.Join(strings.Fields(msg), " ")
}

// connectReason explains why the database did not answer: the server's
// last error when server selection gave up, not the whole topology dump.
func connectReason(err error) error {
	var sse topology.ServerSelectionError
	if errors.As(err, &sse) {
		for _, s := range sse.Desc.Servers {
			if s.LastError != nil {
				return s.LastError
			}
		}
		if sse.Wrapped != nil {
			err = sse.Wrapped
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return errors.New("no answer before the connect timeout")
	}
	return err
}

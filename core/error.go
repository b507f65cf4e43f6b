package core

import (
	"errors"
	"fmt"
)

// Error codes shared by every adapter. Each dialect maps them to its own
// wire format in one table.
const (
	EINVALID      = "invalid"       // bad input from a client or a Discord user
	ENOTFOUND     = "not_found"     // the thing asked for does not exist
	ENOTMONITORED = "not_monitored" // the user is in no watched guild
	EUNAUTHORIZED = "unauthorized"  // missing or wrong credentials
	ETOOLARGE     = "too_large"     // a body or value above a size limit
	EUNAVAILABLE  = "unavailable"   // a dependency (the database) is down
	EINTERNAL     = "internal"      // a bug or an unexpected failure
)

// Error is Halyard's domain error: a code adapters map to status codes and a
// message safe to show to a user.
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("halyard error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	var kv *KVError
	if errors.As(err, &kv) {
		return EINVALID
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err. Errors that are not
// *Error are internal and shown only as "internal error"; log them in full.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	var kv *KVError
	if errors.As(err, &kv) {
		return kv.Error()
	}
	return "internal error"
}

package lantern

import (
	"context"
	"encoding/json"
	"io"
	"mime"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/core"
)

// readValue reads the JSON body's "value" (docs/compat/lantern.md §1.8, §5.3): the body is parsed
// only with the application/json media type; an absent, malformed or
// non-object body has no value (§9 #14). It returns the value, or the
// validation message, or the read error (an oversized body).
func readValue(c echo.Context) (value, msg string, err error) {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return "", "", err
	}
	mt, _, _ := mime.ParseMediaType(c.Request().Header.Get("Content-Type"))
	if mt != "application/json" {
		return "", msgValueRequired, nil
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil || obj == nil {
		return "", msgValueRequired, nil
	}
	raw, ok := obj["value"]
	if !ok {
		return "", msgValueRequired, nil
	}
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &value) != nil {
		return "", msgValueString, nil
	}
	if utf16Length(value) > maxValueUTF16 {
		return "", msgValueTooLong, nil
	}
	return value, "", nil
}

// clearKV removes every pair of a user in one atomic, durable write (one
// STORAGE_UPDATE); on failure nothing is removed.
func (d *Dialect) clearKV(ctx context.Context, id string) error {
	return d.opts.Hub.ClearKV(ctx, id)
}

// validatePair checks a pair against Lantern's own rules, on top of the
// store-wide ones the hub applies (docs/compat/lantern.md §5.1): alphanumeric keys of 1–255
// characters, values of at most 30,000 UTF-16 units.
func validatePair(key, value string) error {
	if validateKey(key) != "" || utf16Length(value) > maxValueUTF16 {
		return &core.KVError{Reason: core.KVKeyInvalid, Key: key}
	}
	return nil
}

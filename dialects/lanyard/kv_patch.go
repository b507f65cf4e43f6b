package lanyard

import (
	"bytes"
	"encoding/json"
	"slices"

	"github.com/halyardhq/halyard/core"
)

// parsePatch reads a PATCH body as Lanyard does (docs/compat/lanyard.md §4.5):
// anything but a JSON object is invalid_kv_value; pairs are then checked in
// byte-wise sorted key order, and the first pair whose value is not a
// string (invalid_kv_value) or that breaks a KV rule (kv_validation_failed)
// decides the error. The pair limit is left to the hub, which checks it
// against the stored map under the user's write lock. The pairs keep the
// body's order, so new keys are stored in the order the client wrote them.
func parsePatch(body []byte) (core.KV, apiError, bool) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return core.KV{}, errInvalidKVValue, false
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &raw); err != nil {
		return core.KV{}, errInvalidKVValue, false
	}
	values := make(map[string]string, len(raw))
	keys := make([]string, 0, len(raw))
	for k, v := range raw {
		keys = append(keys, k)
		if len(v) == 0 || v[0] != '"' {
			continue // reported below in key order
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return core.KV{}, errInvalidKVValue, false
		}
		values[k] = s
	}
	slices.Sort(keys)
	for _, k := range keys {
		v, ok := values[k]
		if !ok {
			return core.KV{}, errInvalidKVValue, false
		}
		if err := core.ValidateKVPair(k, v); err != nil {
			e, _ := errorFor(err, true)
			return core.KV{}, e, false
		}
	}
	// Every value is a string now: read the pairs again in body order.
	var pairs core.KV
	if err := json.Unmarshal(trimmed, &pairs); err != nil {
		return core.KV{}, errInvalidKVValue, false
	}
	return pairs, apiError{}, true
}

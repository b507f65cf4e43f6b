package lanyard

import (
	"bytes"
	"encoding/json"

	"github.com/halyardhq/halyard/core"
)

// parsePatch reads a PATCH body as Lanyard does (docs/compat/lanyard.md §4.5):
// anything but a JSON object is invalid_kv_value; pairs are then checked in
// byte-wise sorted key order, and the first pair whose value is not a
// string (invalid_kv_value) or that breaks a KV rule (kv_validation_failed)
// decides the error. The pair limit is left to the hub, which checks it
// against the stored map under the user's write lock.
func parsePatch(body []byte) (core.KV, apiError, bool) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, errInvalidKVValue, false
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &raw); err != nil {
		return nil, errInvalidKVValue, false
	}
	pairs := make(core.KV, len(raw))
	for k, v := range raw {
		if len(v) == 0 || v[0] != '"' {
			pairs[k] = "" // placeholder; reported below in key order
			continue
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, errInvalidKVValue, false
		}
		pairs[k] = s
	}
	for _, k := range pairs.Keys() {
		if v := raw[k]; len(v) == 0 || v[0] != '"' {
			return nil, errInvalidKVValue, false
		}
		if err := core.ValidateKVPair(k, pairs[k]); err != nil {
			e, _ := errorFor(err, true)
			return nil, e, false
		}
	}
	return pairs, apiError{}, true
}

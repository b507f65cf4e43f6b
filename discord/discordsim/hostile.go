package discordsim

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// hostileActivities rewrites integer timestamps the way real payloads
// sometimes carry them: as strings or floats (alternating by user), and
// adds unknown fields. Used only with Config.Hostile.
func hostileActivities(raw json.RawMessage, uid uint64) json.RawMessage {
	var acts []map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&acts); err != nil {
		return raw
	}
	odd := uid%2 == 1
	conv := func(v any) any {
		n, ok := v.(json.Number)
		if !ok {
			return v
		}
		if odd {
			return n.String()
		}
		return json.RawMessage(n.String() + ".0")
	}
	for _, a := range acts {
		if v, ok := a["created_at"]; ok {
			a["created_at"] = conv(v)
		}
		if ts, ok := a["timestamps"].(map[string]any); ok {
			for k, v := range ts {
				ts[k] = conv(v)
			}
		}
		a["_sim_unknown_"+strconv.Itoa(int(uid%7))] = map[string]any{"future": true}
	}
	b, err := json.Marshal(acts)
	if err != nil {
		return raw
	}
	return b
}

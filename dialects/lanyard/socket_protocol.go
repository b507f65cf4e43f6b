package lanyard

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// Close codes and reasons of the Lanyard socket (docs/compat/lanyard.md §5.7).
const (
	closeUnknownOpcode = 4004
	closeRequiresData  = 4005
	closeInvalidData   = 4006
	// closeTooSlow ends a socket whose client does not read fast enough to
	// keep its bounded event queue from overflowing: 1013 "Try Again
	// Later", so clients reconnect (use-lanyard reconnects on any close).
	closeTooSlow = websocket.CloseTryAgainLater

	reasonUnknownOpcode = "unknown_opcode"
	reasonRequiresData  = "requires_data_object"
	reasonInvalidData   = "invalid_payload"
	reasonTooSlow       = "client_too_slow"
)

// cmdKind is what a client message asks of the socket.
type cmdKind int

const (
	cmdNone  cmdKind = iota // op 3, or an op 4 that changes nothing
	cmdInit                 // op 2
	cmdUnsub                // op 4
	cmdClose                // a message that ends the socket, or the end of reading
)

// initKind is the op 2 variant, also the metrics label.
type initKind int

const (
	initIDs initKind = iota
	initSingle
	initAll
)

var initLabels = [...]string{initIDs: "ids", initSingle: "single", initAll: "all"}

// clientCmd is one parsed client message (or the reader's last word).
type clientCmd struct {
	kind cmdKind
	init initKind
	ids  []string // op 2 ids / op 4 ids (strings only)
	all  bool     // op 4 unsubscribe_from_all

	// cmdClose: the close frame to send (code 0: none) and the label the
	// close is counted under.
	code   int
	reason string
	label  string
	linger bool // close the TCP connection gently even without a frame of ours
}

func closeCmd(code int, reason, label string) clientCmd {
	return clientCmd{kind: cmdClose, code: code, reason: reason, label: label}
}

// parseClientMessage applies docs/compat/lanyard.md §5.3's validation, in order, to one client
// message as amended by §9 (a non-array subscribe_to_ids is 4006).
func parseClientMessage(typ int, data []byte) clientCmd {
	if !utf8.Valid(data) {
		if typ == websocket.TextMessage {
			return closeCmd(websocket.CloseInvalidFramePayloadData, "", "1007")
		}
		return invalidPayload() // a binary frame must still be JSON
	}
	top, ok := decodeObject(data)
	if !ok {
		return invalidPayload()
	}
	switch string(top["op"]) {
	case "2":
	case "3":
		return clientCmd{kind: cmdNone}
	case "4":
		return parseUnsubscribe(top["d"])
	default:
		return closeCmd(closeUnknownOpcode, reasonUnknownOpcode, "4004")
	}
	d, ok := decodeObject(top["d"])
	if !ok || len(d) == 0 {
		return closeCmd(closeRequiresData, reasonRequiresData, "4005")
	}
	if raw, ok := d["subscribe_to_ids"]; ok {
		ids, ok := stringArray(raw)
		if !ok {
			return invalidPayload()
		}
		return clientCmd{kind: cmdInit, init: initIDs, ids: ids}
	}
	if raw, ok := d["subscribe_to_id"]; ok {
		cmd := clientCmd{kind: cmdInit, init: initSingle}
		var id string
		if json.Unmarshal(raw, &id) == nil && isString(raw) {
			cmd.ids = []string{id}
		}
		return cmd // a non-string id matches nobody: INIT_STATE {}
	}
	if string(d["subscribe_to_all"]) == "true" {
		return clientCmd{kind: cmdInit, init: initAll}
	}
	return invalidPayload()
}

// parseUnsubscribe reads op 4's d (docs/compat/lanyard.md §5.5); anything it does not understand
// changes nothing and never closes the socket.
func parseUnsubscribe(raw json.RawMessage) clientCmd {
	d, ok := decodeObject(raw)
	if !ok {
		return clientCmd{kind: cmdNone}
	}
	if raw, ok := d["unsubscribe_from_id"]; ok {
		var id string
		if !isString(raw) || json.Unmarshal(raw, &id) != nil {
			return clientCmd{kind: cmdNone}
		}
		return clientCmd{kind: cmdUnsub, ids: []string{id}}
	}
	if raw, ok := d["unsubscribe_from_ids"]; ok {
		var items []json.RawMessage
		if !isArray(raw) || json.Unmarshal(raw, &items) != nil {
			return clientCmd{kind: cmdNone}
		}
		cmd := clientCmd{kind: cmdUnsub}
		for _, it := range items {
			var id string
			if isString(it) && json.Unmarshal(it, &id) == nil {
				cmd.ids = append(cmd.ids, id)
			}
		}
		return cmd
	}
	if string(d["unsubscribe_from_all"]) == "true" {
		return clientCmd{kind: cmdUnsub, all: true}
	}
	return clientCmd{kind: cmdNone}
}

func invalidPayload() clientCmd { return closeCmd(closeInvalidData, reasonInvalidData, "4006") }

// decodeObject decodes a JSON object with exact (case-sensitive) keys, as
// Lanyard's decoder matches them; ok is false for anything but an object.
func decodeObject(raw []byte) (map[string]json.RawMessage, bool) {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 || raw[0] != '{' {
		return nil, false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil, false
	}
	return m, true
}

// stringArray decodes a JSON array whose items are all strings.
func stringArray(raw json.RawMessage) ([]string, bool) {
	var items []json.RawMessage
	if !isArray(raw) || json.Unmarshal(raw, &items) != nil {
		return nil, false
	}
	ids := make([]string, 0, len(items))
	for _, it := range items {
		var id string
		if !isString(it) || json.Unmarshal(it, &id) != nil {
			return nil, false
		}
		ids = append(ids, id)
	}
	return ids, true
}

func isArray(raw json.RawMessage) bool  { return len(raw) > 0 && raw[0] == '[' }
func isString(raw json.RawMessage) bool { return len(raw) > 0 && raw[0] == '"' }

// claimsFirstMessage is Lanyard's claim on the shared /socket
// (docs/compat/cross-dialect.md §2.3): op 2 with a subscribe_to_* key or without an
// object d, op 3, op 4, and anything that is not a JSON object. Messages
// left unclaimed by every dialect come back to Lanyard as the fallback,
// which covers the remaining ambiguous cases ({"op":2,"d":{}}, unknown ops).
func claimsFirstMessage(typ int, data []byte) bool {
	if typ == websocket.TextMessage && !utf8.Valid(data) {
		return true
	}
	top, ok := decodeObject(data)
	if !ok {
		return true
	}
	switch string(top["op"]) {
	case "3", "4":
		return true
	case "2":
		d, ok := decodeObject(top["d"])
		if !ok {
			return true
		}
		for _, k := range [...]string{"subscribe_to_ids", "subscribe_to_id", "subscribe_to_all"} {
			if _, ok := d[k]; ok {
				return true
			}
		}
	}
	return false
}

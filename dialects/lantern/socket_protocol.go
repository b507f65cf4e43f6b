package lantern

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// Lantern socket opcodes (docs/compat/lantern.md §6.2).
const (
	opHello          = 1
	opInit           = 2
	opInitAck        = 3
	opHeartbeat      = 4
	opHeartbeatAck   = 5
	opPresenceUpdate = 6
	opUserLeft       = 7
	opUserJoined     = 8
	opDisconnect     = 9
	opStorageUpdate  = 10
	opError          = 11
	opSubscribe      = 12
	opSubscribeAck   = 13
	opUnsubscribe    = 14
	opUnsubscribeAck = 15
)

// opNames are the frame names (`t`) by opcode.
var opNames = map[int]string{
	opHello: "HELLO", opInit: "INIT", opInitAck: "INIT_ACK", opHeartbeat: "HEARTBEAT",
	opHeartbeatAck: "HEARTBEAT_ACK", opPresenceUpdate: "PRESENCE_UPDATE", opUserLeft: "USER_LEFT",
	opUserJoined: "USER_JOINED", opDisconnect: "DISCONNECT", opStorageUpdate: "STORAGE_UPDATE",
	opError: "ERROR", opSubscribe: "SUBSCRIBE", opSubscribeAck: "SUBSCRIBE_ACK",
	opUnsubscribe: "UNSUBSCRIBE", opUnsubscribeAck: "UNSUBSCRIBE_ACK",
}

// The texts of docs/compat/lantern.md §6.9.
const (
	textInvalidOpcode    = "Invalid opcode."
	textOpcodeNotAllowed = "You are not allowed to send this opcode to the server."
	textInvalidConn      = "Invalid websocket connection."
	textTimedOut         = "Connection timed out."
	textNeedOneUser      = "You require at least one user to be subscribed. Connection closed."
	textNoUserLeft       = "There is no user to monitor anymore."
	textAlreadyAll       = "You are already subscribed to all users."
	textSubscribedAll    = "You are subscribed to all users."
)

// clientMessage is one parsed client message.
type clientMessage struct {
	ignore     bool   // not JSON, or JSON null: ignored (docs/compat/lantern.md §6.4 a)
	disconnect string // a DISCONNECT reason for a bad opcode
	op         int
	d          json.RawMessage // nil when absent
}

// parseClientMessage applies docs/compat/lantern.md §6.4 b–c.
func parseClientMessage(data []byte) clientMessage {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil || top == nil {
		return clientMessage{ignore: true}
	}
	var op int
	raw := bytes.TrimSpace(top["op"])
	if len(raw) == 0 || raw[0] == '"' || json.Unmarshal(raw, &op) != nil || bytes.ContainsAny(raw, ".eE") || op < 1 || op > 15 {
		return clientMessage{disconnect: textInvalidOpcode}
	}
	switch op {
	case opInit, opHeartbeat, opSubscribe, opUnsubscribe:
	default:
		return clientMessage{disconnect: textOpcodeNotAllowed}
	}
	m := clientMessage{op: op}
	if d, ok := top["d"]; ok {
		m.d = d
	}
	return m
}

// target is a validated INIT/SUBSCRIBE/UNSUBSCRIBE payload: one id (maybe
// "ALL"), or a list.
type target struct {
	single bool
	id     string
	ids    []string
}

// all reports whether the payload means every user: "ALL" in any case
// (Halyard accepts the docs' "All" too, docs/compat/lantern.md §9 #17).
func (t target) all() bool { return t.single && strings.EqualFold(t.id, "all") }

// validateTarget checks d with the messages of Lantern's zod schema (docs/compat/lantern.md §6.5).
func validateTarget(d json.RawMessage) (target, string) {
	if d == nil {
		return target{}, "Required"
	}
	var obj map[string]json.RawMessage
	if kind := jsonKind(d); kind != "object" {
		return target{}, "Expected object, received " + kind
	} else if err := json.Unmarshal(d, &obj); err != nil {
		return target{}, "Expected object, received " + kind
	}
	idRaw, hasID := obj["user_id"]
	idsRaw, hasIDs := obj["user_ids"]
	var t target
	if hasID {
		id, msg := validateID(idRaw)
		if msg != "" {
			return target{}, msg
		}
		t.single, t.id = true, id
	}
	if hasIDs {
		if kind := jsonKind(idsRaw); kind != "array" {
			return target{}, "Expected array, received " + kind
		}
		var elems []json.RawMessage
		_ = json.Unmarshal(idsRaw, &elems)
		t.ids = make([]string, 0, len(elems))
		for _, e := range elems {
			id, msg := validateID(e)
			if msg != "" {
				return target{}, msg
			}
			t.ids = append(t.ids, id)
		}
	}
	switch {
	case !hasID && !hasIDs:
		return target{}, "Either user_ids or user_id must be provided."
	case hasID && hasIDs:
		return target{}, "Only one of user_ids or user_id can be provided."
	}
	return t, ""
}

// validateID checks one id: a string of 3 to 19 characters.
func validateID(raw json.RawMessage) (string, string) {
	if kind := jsonKind(raw); kind != "string" {
		return "", "Expected string, received " + kind
	}
	var s string
	_ = json.Unmarshal(raw, &s)
	n := utf8.RuneCountInString(s)
	switch {
	case n < 3:
		return "", "String must contain at least 3 character(s)"
	case n > 19:
		return "", "String must contain at most 19 character(s)"
	}
	return s, ""
}

// jsonKind names a JSON value's type as zod does.
func jsonKind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "undefined"
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// claimsFirstMessage is Lantern's claim on the shared /socket: op 2 with
// user_id or user_ids, or op 12 or 14 (docs/compat/cross-dialect.md §2.3).
func claimsFirstMessage(data []byte) bool {
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) != nil {
		return false
	}
	switch string(bytes.TrimSpace(top["op"])) {
	case "12", "14":
		return true
	case "2":
		var d map[string]json.RawMessage
		if json.Unmarshal(top["d"], &d) != nil {
			return false
		}
		_, id := d["user_id"]
		_, ids := d["user_ids"]
		return id || ids
	}
	return false
}

// frame encodes a server frame with keys t, op, d; d is left out when nil.
func frame(op int, d []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(d) + 48)
	b.WriteString(`{"t":"`)
	b.WriteString(opNames[op])
	b.WriteString(`","op":`)
	b.WriteString(itoa(op))
	if d != nil {
		b.WriteString(`,"d":`)
		b.Write(d)
	}
	b.WriteByte('}')
	return b.Bytes()
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return string(rune('0'+n/10)) + string(rune('0'+n%10))
}

// jsonString encodes s as a JSON string without HTML escaping.
func jsonString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return bytes.TrimRight(b.Bytes(), "\n")
}

package core

// EventType says what changed about a user.
type EventType int

// The events the Hub publishes.
const (
	// PresenceUpdated: status, activities or profile changed.
	PresenceUpdated EventType = iota + 1
	// KVUpdated: a KV write or delete was stored (even one that changed nothing).
	KVUpdated
	// MemberJoined: the user became monitored.
	MemberJoined
	// MemberLeft: the user is in no watched guild any more; User is the
	// last snapshot before leaving.
	MemberLeft
)

// String returns the event type's name.
func (t EventType) String() string {
	switch t {
	case PresenceUpdated:
		return "PresenceUpdated"
	case KVUpdated:
		return "KVUpdated"
	case MemberJoined:
		return "MemberJoined"
	case MemberLeft:
		return "MemberLeft"
	}
	return "Unknown"
}

// Event is one change to one user, carrying the snapshot after the change.
type Event struct {
	Type EventType
	User *User
}

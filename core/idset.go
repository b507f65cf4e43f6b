package core

// IDSet is a set of user ids, such as the users one socket follows. Most
// sockets follow one user, and an idle socket's every byte counts
// (BENCHMARKS.md, "Performance round 2 — idle sockets"), so one id is
// kept inline and a map made only for a second. The zero value is empty;
// an IDSet is not safe for concurrent use.
type IDSet struct {
	one    string
	hasOne bool // one is set (an id may be "": it matches nobody, but is followed)
	many   map[string]struct{}
}

// Has reports whether id is in the set.
func (s *IDSet) Has(id string) bool {
	if s.many != nil {
		_, ok := s.many[id]
		return ok
	}
	return s.hasOne && s.one == id
}

// Add puts id in the set.
func (s *IDSet) Add(id string) {
	switch {
	case s.Has(id):
	case s.many != nil:
		s.many[id] = struct{}{}
	case !s.hasOne:
		s.one, s.hasOne = id, true
	default:
		s.many = map[string]struct{}{s.one: {}, id: {}}
		s.one, s.hasOne = "", false
	}
}

// Remove takes id out of the set.
func (s *IDSet) Remove(id string) {
	if s.many != nil {
		delete(s.many, id)
		return
	}
	if s.hasOne && s.one == id {
		s.one, s.hasOne = "", false
	}
}

// Len is the number of ids in the set.
func (s *IDSet) Len() int {
	if s.many != nil {
		return len(s.many)
	}
	if s.hasOne {
		return 1
	}
	return 0
}

// List returns the ids, in no order, in a new slice.
func (s *IDSet) List() []string {
	if s.many == nil {
		if s.hasOne {
			return []string{s.one}
		}
		return nil
	}
	ids := make([]string, 0, len(s.many))
	for id := range s.many {
		ids = append(ids, id)
	}
	return ids
}

// Clear empties the set.
func (s *IDSet) Clear() { *s = IDSet{} }

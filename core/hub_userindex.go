package core

import (
	"iter"
	"strconv"
)

// userIndex maps a monitored user's id to their snapshot. A Discord id (a
// decimal number below 2⁶⁴, written without leading zeros) is keyed by its
// value: 8 bytes instead of a 16-byte string header, and no key that
// holds on to the id's bytes, so the snapshot's ID can share its
// profile's packed JSON instead of a copy of its own (≈ 35 B per member
// at a million). Any other id (hand-built users in tests) is keyed by its
// text. The zero userIndex is empty and ready to use.
type userIndex struct {
	byNumber map[uint64]*User
	byText   map[string]*User
}

// IDNumber returns the value of a Discord id written in canonical decimal
// (no sign, no leading zero), so that two ids share a value only when
// they are the same text: the key of the sets and indexes that keep ids
// by value (userIndex, recordSet, the bot's sync member set).
func IDNumber(id string) (uint64, bool) {
	if id == "" || len(id) > 20 || id[0] == '0' && len(id) > 1 {
		return 0, false
	}
	n, err := strconv.ParseUint(id, 10, 64)
	return n, err == nil
}

func (x *userIndex) get(id string) (*User, bool) {
	if n, ok := IDNumber(id); ok {
		u, ok := x.byNumber[n]
		return u, ok
	}
	u, ok := x.byText[id]
	return u, ok
}

func (x *userIndex) put(u *User) {
	if n, ok := IDNumber(u.ID); ok {
		if x.byNumber == nil {
			x.byNumber = map[uint64]*User{}
		}
		x.byNumber[n] = u
		return
	}
	if x.byText == nil {
		x.byText = map[string]*User{}
	}
	x.byText[u.ID] = u
}

func (x *userIndex) del(id string) {
	if n, ok := IDNumber(id); ok {
		delete(x.byNumber, n)
		return
	}
	delete(x.byText, id)
}

func (x *userIndex) len() int { return len(x.byNumber) + len(x.byText) }

// all yields every user by id, in no particular order; the loop's body may
// delete the user it is given.
func (x *userIndex) all() iter.Seq2[string, *User] {
	return func(yield func(string, *User) bool) {
		for _, u := range x.byNumber {
			if !yield(u.ID, u) {
				return
			}
		}
		for id, u := range x.byText {
			if !yield(id, u) {
				return
			}
		}
	}
}

// recordSet is the set of user ids whose records are not yet written
// (Hub.dirty). After a full sync it holds every member until the store
// has caught up, which takes minutes at a million members: keyed like
// userIndex, a Discord id costs a map slot of 8 bytes and no copy of the
// id (≈ 35 B per member less). An id can be marked fresh — a record the
// store is not expected to hold, written as an insert — in the same slot
// (freshBit), not in a second set of a million. The zero recordSet is
// empty and ready.
type recordSet struct {
	byNumber map[uint64]struct{} // id, or id|freshBit
	byText   map[string]bool     // any other id → fresh
	fresh    int                 // how many ids are fresh
}

// freshBit marks a fresh id in recordSet.byNumber. Discord ids are far
// below it; a number that has it set is kept in byText.
const freshBit = 1 << 63

// setNumber is id's key in byNumber, if it has one.
func setNumber(id string) (uint64, bool) {
	n, ok := IDNumber(id)
	return n, ok && n&freshBit == 0
}

// add marks id; an id already marked fresh stays fresh.
func (s *recordSet) add(id string) {
	if n, ok := setNumber(id); ok {
		if _, fresh := s.byNumber[n|freshBit]; fresh {
			return
		}
		if s.byNumber == nil {
			s.byNumber = map[uint64]struct{}{}
		}
		s.byNumber[n] = struct{}{}
		return
	}
	if _, in := s.byText[id]; in {
		return
	}
	if s.byText == nil {
		s.byText = map[string]bool{}
	}
	s.byText[id] = false
}

// markFresh makes a marked id fresh; an unmarked one stays unmarked.
func (s *recordSet) markFresh(id string) {
	if n, ok := setNumber(id); ok {
		if _, in := s.byNumber[n]; in {
			delete(s.byNumber, n)
			s.byNumber[n|freshBit] = struct{}{}
			s.fresh++
		}
		return
	}
	if fresh, in := s.byText[id]; in && !fresh {
		s.byText[id] = true
		s.fresh++
	}
}

func (s *recordSet) has(id string) bool {
	if n, ok := setNumber(id); ok {
		_, in := s.byNumber[n]
		_, fresh := s.byNumber[n|freshBit]
		return in || fresh
	}
	_, in := s.byText[id]
	return in
}

func (s *recordSet) del(id string) {
	if n, ok := setNumber(id); ok {
		delete(s.byNumber, n)
		if _, fresh := s.byNumber[n|freshBit]; fresh {
			delete(s.byNumber, n|freshBit)
			s.fresh--
		}
		return
	}
	if fresh, in := s.byText[id]; in {
		if fresh {
			s.fresh--
		}
		delete(s.byText, id)
	}
}

func (s *recordSet) len() int { return len(s.byNumber) + len(s.byText) }

// all yields every id and whether it is fresh, in no particular order;
// the loop's body may delete the id it is given.
func (s *recordSet) all() iter.Seq2[string, bool] {
	return func(yield func(string, bool) bool) {
		for n := range s.byNumber {
			if !yield(strconv.FormatUint(n&^freshBit, 10), n&freshBit != 0) {
				return
			}
		}
		for id, fresh := range s.byText {
			if !yield(id, fresh) {
				return
			}
		}
	}
}

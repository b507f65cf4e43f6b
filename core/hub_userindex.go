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

// idNumber returns the value of a Discord id written in canonical decimal.
func idNumber(id string) (uint64, bool) {
	if id == "" || len(id) > 20 || id[0] == '0' && len(id) > 1 {
		return 0, false
	}
	n, err := strconv.ParseUint(id, 10, 64)
	return n, err == nil
}

func (x *userIndex) get(id string) (*User, bool) {
	if n, ok := idNumber(id); ok {
		u, ok := x.byNumber[n]
		return u, ok
	}
	u, ok := x.byText[id]
	return u, ok
}

func (x *userIndex) put(u *User) {
	if n, ok := idNumber(u.ID); ok {
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
	if n, ok := idNumber(id); ok {
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

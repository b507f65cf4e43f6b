package core

import (
	"bytes"
	"encoding/binary"
	"encoding/json"

	"github.com/halyardhq/halyard/internal/jsonread"
)

// PackedActivities holds a presence's activities as their JSON only, each
// packed (PackedJSON) behind its uvarint length, all in one string of
// exactly their size. The parsed fields (name, state, timestamps, …) are
// not kept: Decode reads them from the JSON when a rendering asks, which
// the render cache makes once per snapshot and dialect. A parsed
// core.Activity is 304 bytes for ≈ 150 bytes of packed JSON, so a million
// members' activities take half the memory this way.
type PackedActivities struct{ s string }

// PackActivities packs the activity objects raws (as DecodeActivity or
// NormalizeActivity left them) in one allocation.
func PackActivities(raws [][]byte) PackedActivities {
	if len(raws) == 0 {
		return PackedActivities{}
	}
	var scratch, one [2048]byte
	buf := scratch[:0]
	for _, raw := range raws {
		p := PackJSON(one[:0], raw)
		buf = binary.AppendUvarint(buf, uint64(len(p)))
		buf = append(buf, p...)
	}
	return PackedActivities{string(buf)}
}

// IsZero reports whether p holds no activity.
func (p PackedActivities) IsZero() bool { return p.s == "" }

// Len returns the number of activities p holds.
func (p PackedActivities) Len() int {
	n := 0
	p.each(func(PackedJSON) { n++ })
	return n
}

// each calls fn with every activity's packed JSON, in order; they share
// p's memory.
func (p PackedActivities) each(fn func(PackedJSON)) {
	for s := p.s; s != ""; {
		n, k := uvarint(s)
		fn(PackedJSON{s[k : k+n]})
		s = s[k+n:]
	}
}

// Decode returns the activities p holds, parsed into new values whose
// JSON (Packed) shares p's memory.
func (p PackedActivities) Decode() []Activity {
	if p.s == "" {
		return nil
	}
	acts := make([]Activity, 0, 2)
	p.each(func(j PackedJSON) {
		a, ok := DecodeActivity(j.Bytes())
		if !ok { // cannot happen: only objects DecodeActivity read are packed
			a = Activity{}
		}
		a.Raw, a.Packed = nil, j
		acts = append(acts, a)
	})
	return acts
}

// Equal reports whether p and q hold the same activities' JSON.
func (p PackedActivities) Equal(q PackedActivities) bool {
	if p.s == q.s {
		return true
	}
	var ps, qs []PackedJSON
	p.each(func(j PackedJSON) { ps = append(ps, j) })
	q.each(func(j PackedJSON) { qs = append(qs, j) })
	if len(ps) != len(qs) {
		return false
	}
	for i := range ps {
		if !ps[i].Equal(qs[i]) {
			return false
		}
	}
	return true
}

// GobEncode sends the activities as a JSON array (shape ids are this
// process's own).
func (p PackedActivities) GobEncode() ([]byte, error) {
	if p.s == "" {
		return nil, nil
	}
	out := []byte{'['}
	p.each(func(j PackedJSON) {
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = j.AppendTo(out)
	})
	return append(out, ']'), nil
}

// GobDecode packs the activities GobEncode sent.
func (p *PackedActivities) GobDecode(b []byte) error {
	*p = PackedActivities{}
	var raws [][]byte
	jsonread.EachElement(b, func(raw []byte) { raws = append(raws, bytes.Clone(raw)) })
	*p = PackActivities(raws)
	return nil
}

// NormalizeActivity returns raw as DecodeActivity would keep it (a numeric
// application_id or emoji id rewritten as a string) without parsing the
// other fields; ok is false when DecodeActivity would refuse raw. The
// common activity needs no rewrite and is returned as it is.
func NormalizeActivity(raw json.RawMessage) (json.RawMessage, bool) {
	d := jsonread.NewDecoder(raw)
	obj, numeric := readActivity(&d)
	if d.Finish() != nil || obj == nil {
		return raw, false
	}
	if !numeric {
		return raw, true
	}
	a, ok := DecodeActivity(raw)
	return a.Raw, ok
}

// ReadActivity is NormalizeActivity for the activity object at d, read
// in the pass d makes over a whole payload: the result is a slice of that
// payload unless it was rewritten.
func ReadActivity(d *jsonread.Decoder) (json.RawMessage, bool) {
	obj, numeric := readActivity(d)
	if obj == nil || !numeric {
		return obj, obj != nil
	}
	a, ok := DecodeActivity(obj)
	return a.Raw, ok
}

// readActivity reads the activity object at d (nil when it is not one)
// and reports whether it has an id DecodeActivity rewrites.
func readActivity(d *jsonread.Decoder) (obj []byte, numeric bool) {
	obj = d.Object(func(key string) {
		switch key {
		case "application_id":
			numeric = numeric || jsonread.IsNumber(d.Skip())
		case "emoji":
			d.Object(func(key string) {
				if key == "id" {
					numeric = numeric || jsonread.IsNumber(d.Skip())
				}
			})
		}
	})
	return obj, numeric
}

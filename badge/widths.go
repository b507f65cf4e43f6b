package badge

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/json"
	"io"
	"sort"
	"sync"
)

// The advance widths of Verdana at the sizes badge-maker measures with,
// from the anafanafo package (verdana/LICENSE): JSON arrays of
// [first code point, last code point, width in px] ranges, gzipped.
//
//go:embed verdana/*.json.gz
var widthFiles embed.FS

// font is one width table.
type font struct {
	file string
	once sync.Once
	rng  []widthRange
	m    float64 // the width of "m": anafanafo's guess for characters it has no width for
}

type widthRange struct {
	lo, hi rune
	w      float64
}

// The fonts the styles measure with.
var (
	verdana11     = &font{file: "verdana/verdana-11px-normal.json.gz"}
	verdana10     = &font{file: "verdana/verdana-10px-normal.json.gz"}
	verdana10Bold = &font{file: "verdana/verdana-10px-bold.json.gz"}
)

// load decodes the table on first use: most processes draw no badge.
func (f *font) load() {
	f.once.Do(func() {
		raw, _ := widthFiles.ReadFile(f.file) // embedded: always present
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			panic("badge: corrupt embedded width table " + f.file)
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			panic("badge: corrupt embedded width table " + f.file)
		}
		var rows [][3]float64
		if err := json.Unmarshal(b, &rows); err != nil {
			panic("badge: corrupt embedded width table " + f.file)
		}
		f.rng = make([]widthRange, len(rows))
		for i, r := range rows {
			f.rng[i] = widthRange{rune(r[0]), rune(r[1]), r[2]}
		}
		f.m, _ = f.lookup('m')
	})
}

func (f *font) lookup(r rune) (float64, bool) {
	i := sort.Search(len(f.rng), func(i int) bool { return f.rng[i].hi >= r })
	if i < len(f.rng) && f.rng[i].lo <= r {
		return f.rng[i].w, true
	}
	return 0, false
}

// width is the text's width in px, as anafanafo measures it: the sum of
// each character's advance, control characters counting nothing and
// characters the table lacks (most emoji) as wide as "m".
func (f *font) width(s string) float64 {
	f.load()
	var w float64
	for _, r := range s {
		if r < 0x20 || (r >= 0x7f && r < 0xa0) {
			continue
		}
		if cw, ok := f.lookup(r); ok {
			w += cw
		} else {
			w += f.m
		}
	}
	return w
}

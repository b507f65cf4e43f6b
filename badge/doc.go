// Package badge draws shields.io-style SVG badges of a user's presence —
// GET /badge/:id/{status,activity,listening,custom}.svg — for READMEs and
// pages (README.md, "Badges").
//
// The drawing follows badge-maker's (the library behind shields.io) flat,
// flat-square and for-the-badge layouts: a label on the left, a message on
// the right, each box as wide as its text measured with Verdana's advance
// widths (verdana/, anafanafo's tables, MIT), so badges line up with the
// shields.io badges next to them.
//
// Every error is answered with a badge too (an SVG body, never JSON):
// GitHub's image proxy shows images only, so a README shows "not
// monitored" or "bad color" rather than a broken image. Unknown or
// unmonitored users get 404, bad parameters 400.
package badge

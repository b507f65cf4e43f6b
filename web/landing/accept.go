package landing

import (
	"strconv"
	"strings"
)

// PrefersHTML reports whether an Accept header asks for HTML before JSON:
// text/html (or application/xhtml+xml) listed by name with a q above the
// one JSON gets (application/json, else application/*, else */*), or the
// same q and listed first. No Accept, */*, or JSON listed first: false, so
// API clients keep getting JSON from GET /.
func PrefersHTML(values []string) bool {
	htmlQ, htmlAt := -1.0, -1
	jsonQ, jsonAt, jsonBest := -1.0, -1, 0
	at := 0
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			media, params, _ := strings.Cut(item, ";")
			media = strings.ToLower(strings.TrimSpace(media))
			if media == "" {
				continue
			}
			q := quality(params)
			switch media {
			case "text/html", "application/xhtml+xml":
				if q > htmlQ {
					htmlQ, htmlAt = q, at
				}
			}
			if rank := jsonRank(media); rank > jsonBest {
				jsonQ, jsonAt, jsonBest = q, at, rank
			}
			at++
		}
	}
	switch {
	case htmlQ <= 0:
		return false
	case jsonBest == 0 || htmlQ > jsonQ:
		return true
	default:
		return htmlQ == jsonQ && htmlAt < jsonAt
	}
}

// jsonRank is how specifically a media range names JSON: 3 for
// application/json, 2 application/*, 1 */*, 0 not at all.
func jsonRank(media string) int {
	switch media {
	case "application/json":
		return 3
	case "application/*":
		return 2
	case "*/*":
		return 1
	}
	return 0
}

// quality reads q= from a media range's parameters (1 without one; a
// malformed q counts as 0, as the range is then unusable).
func quality(params string) float64 {
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || q < 0 || q > 1 {
			return 0
		}
		return q
	}
	return 1
}

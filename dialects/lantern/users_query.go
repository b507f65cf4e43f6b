package lantern

import (
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// queryParam is one query parameter with its values in request order.
type queryParam struct {
	name   string
	values []string
}

// query is a request's query string as Node's querystring reads it:
// parameters split on '&' only, '+' is a space, a malformed escape is kept
// as written, and a repeated name collects its values in order.
type query []queryParam

// parseQuery parses a raw query string.
func parseQuery(raw string) query {
	var q query
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, v = unescapeQuery(k), unescapeQuery(v)
		found := false
		for i := range q {
			if q[i].name == k {
				q[i].values = append(q[i].values, v)
				found = true
				break
			}
		}
		if !found {
			q = append(q, queryParam{name: k, values: []string{v}})
		}
	}
	return q
}

func unescapeQuery(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return strings.ReplaceAll(s, "+", " ")
}

// get returns the values of name; nil when absent.
func (q query) get(name string) []string {
	for _, p := range q {
		if p.name == name {
			return p.values
		}
	}
	return nil
}

// isNumeric is validator.js's isNumeric, the regular expression
// ^[+-]?([0-9]*[.])?[0-9]+$ written out: it is run on every user id of
// every request, where the regexp package took a quarter of the route's
// time (numeric_test.go holds the two to the same answers).
func isNumeric(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if dot := strings.IndexByte(s, '.'); dot >= 0 {
		return allDigits(s[:dot]) && s[dot+1:] != "" && allDigits(s[dot+1:])
	}
	return s != "" && allDigits(s)
}

// allDigits reports whether every byte of s is an ASCII digit (true for "").
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// textLength is validator.js's length: code points, not counting the
// variation selectors U+FE0E and U+FE0F.
func textLength(s string) int {
	n := utf8.RuneCountInString(s)
	n -= strings.Count(s, "\ufe0e") + strings.Count(s, "\ufe0f")
	return n
}

// Validation messages (docs/compat/lantern.md §2.4, §5.3), wire literals.
const (
	msgUserIDNumber   = "user_id must be a number."
	msgUserIDLength   = "user_id must be 17-19 characters long."
	msgKeyLength      = "key must be 1-255 characters long."
	msgKeyAlnum       = "key must be alphanumeric."
	msgValueRequired  = "value is required."
	msgValueString    = "value must be a string."
	msgValueTooLong   = "value must not exceed 30,000 characters."
	msgIDsRequired    = "user_ids is required."
	msgIDsLength      = "user_ids must be an array of strings with 17-19 characters long."
	msgIDsDuplicates  = "user_ids must not contain duplicates."
	msgThemeString    = "Theme must be a string."
	msgThemeValue     = `Theme must be either "light" or "dark".`
	maxBulkUsers      = 50
	maxValueUTF16     = 30000
	maxKeyLength      = 255
	minIDLen, maxIDLn = 17, 19
)

// validateUserID checks a path user id (docs/compat/lantern.md §2.4) and returns the failure
// message, or "".
func validateUserID(id string) string {
	if !isNumeric(id) {
		return msgUserIDNumber
	}
	if n := textLength(id); n < minIDLen || n > maxIDLn {
		return msgUserIDLength
	}
	return ""
}

// validateKey checks a storage key (docs/compat/lantern.md §5.3) and returns the failure message,
// or "".
func validateKey(key string) string {
	if n := textLength(key); n < 1 || n > maxKeyLength {
		return msgKeyLength
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return msgKeyAlnum
		}
	}
	return ""
}

// utf16Length is the length of s in UTF-16 code units, the value limit's
// unit (docs/compat/lantern.md §9 #12).
func utf16Length(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// validateBulkIDs checks GET /api/v1/users's ids (docs/compat/lantern.md §2.3 as decided in §9):
// one or more, each 17–19 characters long, no duplicates.
func validateBulkIDs(ids []string) string {
	if len(ids) == 0 {
		return msgIDsRequired
	}
	for _, id := range ids {
		if n := textLength(id); n < minIDLen || n > maxIDLn {
			return msgIDsLength
		}
	}
	seen := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		if _, dup := seen[id]; dup {
			return msgIDsDuplicates
		}
		seen[id] = struct{}{}
	}
	return ""
}

// cardFlags are the 0/1 card parameters, in validation order (docs/compat/lantern.md §2.4).
var cardFlags = []string{"hideGlobalName", "hideStatus", "hideBadges", "hideActivity", "hideLastSeen", "hideServerTag"}

// validateCardQuery checks the SVG parameters (docs/compat/lantern.md §2.4), in the route's
// order; they are checked even without svg. It returns the first failure,
// or "".
func validateCardQuery(q query) string {
	if msg := validateBinary(q, "svg"); msg != "" {
		return msg
	}
	if v := q.get("theme"); v != nil {
		if len(v) > 1 {
			return msgThemeString
		}
		if v[0] != "light" && v[0] != "dark" {
			return msgThemeValue
		}
	}
	for _, v := range q.get("borderRadius") {
		if !isNumeric(v) {
			return "borderRadius must be a number."
		}
	}
	for _, name := range cardFlags {
		if msg := validateBinary(q, name); msg != "" {
			return msg
		}
	}
	if msg := validateText(q, "noActivityTitle", 64); msg != "" {
		return msg
	}
	return validateText(q, "noActivityMessage", 256)
}

// validateBinary checks an optional 0/1 parameter: every value numeric,
// then every value exactly "0" or "1" (express-validator runs each rule over
// all of a repeated parameter's values before the next rule).
func validateBinary(q query, name string) string {
	values := q.get(name)
	for _, v := range values {
		if !isNumeric(v) {
			return name + " must be a number."
		}
	}
	for _, v := range values {
		if v != "0" && v != "1" {
			return name + " must be either 0 or 1."
		}
	}
	return ""
}

// validateText checks an optional single text parameter of 1–max characters.
func validateText(q query, name string, max int) string {
	v := q.get(name)
	if v == nil {
		return ""
	}
	if len(v) > 1 {
		return name + " must be a string."
	}
	if n := textLength(v[0]); n < 1 || n > max {
		return name + " must be 1-" + strconv.Itoa(max) + " characters long."
	}
	return ""
}

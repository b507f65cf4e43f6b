package lanyardredis

import (
	"fmt"
	"sort"
	"strings"
)

// Summary is what an import did (or, in a dry run, would do).
type Summary struct {
	DryRun bool
	// KVUsers is the number of users with a KV hash in Redis;
	// KVUsersWritten those whose Halyard KV changed.
	KVUsers, KVUsersWritten int
	// PairsWritten pairs were added or changed; PairsUnchanged already
	// held the Redis value.
	PairsWritten, PairsUnchanged int
	// TokensImported keys became their user's token (TokensReplaced of
	// them replaced a different Halyard token); TokensUnchanged already
	// were.
	TokensImported, TokensReplaced, TokensUnchanged int
	// SkippedPairs, SkippedTokens and SkippedKeys (whole Redis keys) count
	// what was not imported, by reason.
	SkippedPairs, SkippedTokens, SkippedKeys map[string]int
}

func newSummary(dryRun bool) *Summary {
	return &Summary{DryRun: dryRun, SkippedPairs: map[string]int{}, SkippedTokens: map[string]int{}, SkippedKeys: map[string]int{}}
}

func (s *Summary) skipPair(reason string)  { s.SkippedPairs[reason]++ }
func (s *Summary) skipToken(reason string) { s.SkippedTokens[reason]++ }
func (s *Summary) skipKey(reason string)   { s.SkippedKeys[reason]++ }

// Changed reports whether the import wrote (or would write) anything.
func (s *Summary) Changed() bool { return s.PairsWritten > 0 || s.TokensImported > 0 }

// String is the summary as one line, e.g. "imported: KV of 3 of 3 users (7
// pairs written, 2 unchanged), 4 API keys (0 replacing a Halyard key, 1
// unchanged); skipped: 1 pair (value must be valid UTF-8: 1)".
func (s *Summary) String() string {
	verb := "imported"
	if s.DryRun {
		verb = "dry run, nothing written: would import"
	}
	line := fmt.Sprintf("%s: KV of %d of %d users (%d pairs written, %d unchanged), %d %s (%d replacing a Halyard key, %d unchanged)",
		verb, s.KVUsersWritten, s.KVUsers, s.PairsWritten, s.PairsUnchanged, s.TokensImported, plural("API key", s.TokensImported),
		s.TokensReplaced, s.TokensUnchanged)
	var skipped []string
	for _, g := range []struct {
		what    string
		reasons map[string]int
	}{{"pair", s.SkippedPairs}, {"API key", s.SkippedTokens}, {"Redis key", s.SkippedKeys}} {
		if n := total(g.reasons); n > 0 {
			skipped = append(skipped, fmt.Sprintf("%d %s (%s)", n, plural(g.what, n), reasons(g.reasons)))
		}
	}
	if len(skipped) == 0 {
		return line + "; skipped: nothing"
	}
	return line + "; skipped: " + strings.Join(skipped, ", ")
}

func total(m map[string]int) int {
	n := 0
	for _, c := range m {
		n += c
	}
	return n
}

// reasons lists "reason: count" pairs, most frequent first.
func reasons(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", k, m[k])
	}
	return strings.Join(parts, "; ")
}

func plural(word string, n int) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

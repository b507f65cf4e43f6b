package lanyardredis

import (
	"fmt"
	"strings"

	"github.com/halyardhq/halyard/migrate/report"
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
	SkippedPairs, SkippedTokens, SkippedKeys report.Reasons
}

func newSummary(dryRun bool) *Summary {
	return &Summary{DryRun: dryRun, SkippedPairs: report.Reasons{}, SkippedTokens: report.Reasons{}, SkippedKeys: report.Reasons{}}
}

func (s *Summary) skipPair(reason string)  { s.SkippedPairs.Add(reason) }
func (s *Summary) skipToken(reason string) { s.SkippedTokens.Add(reason) }
func (s *Summary) skipKey(reason string)   { s.SkippedKeys.Add(reason) }

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
		verb, s.KVUsersWritten, s.KVUsers, s.PairsWritten, s.PairsUnchanged, s.TokensImported, report.Plural("API key", s.TokensImported),
		s.TokensReplaced, s.TokensUnchanged)
	var skipped []string
	for _, g := range []struct {
		what    string
		reasons report.Reasons
	}{{"pair", s.SkippedPairs}, {"API key", s.SkippedTokens}, {"Redis key", s.SkippedKeys}} {
		if n := g.reasons.Total(); n > 0 {
			skipped = append(skipped, fmt.Sprintf("%d %s (%s)", n, report.Plural(g.what, n), g.reasons))
		}
	}
	if len(skipped) == 0 {
		return line + "; skipped: nothing"
	}
	return line + "; skipped: " + strings.Join(skipped, ", ")
}

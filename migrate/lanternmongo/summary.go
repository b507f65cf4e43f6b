package lanternmongo

import (
	"fmt"
	"strings"

	"github.com/halyardhq/halyard/migrate/report"
)

// Summary is what an import read, wrote and skipped (or, in a dry run,
// would write).
type Summary struct {
	DryRun         bool
	StorageDocs    int // keyvaluestorages documents read
	UserDocs       int // users documents read
	Pairs          int // KV pairs imported or already equal
	KVUsersWritten int // users whose Halyard KV changed
	TokensImported int // tokens whose hash was stored
	TokensReplaced int // of those, users who had another Halyard token
	TokensPresent  int // tokens Halyard already had
	// RecordsWritten and RecordsUnchanged count user records.
	RecordsWritten   int
	RecordsUnchanged int
	// Skipped counts documents and tokens left out, by "collection: reason".
	Skipped report.Reasons
	// SkippedPairs counts pairs left out, by reason.
	SkippedPairs report.Reasons
}

func newSummary(dryRun bool) *Summary {
	return &Summary{DryRun: dryRun, Skipped: report.Reasons{}, SkippedPairs: report.Reasons{}}
}

func (s *Summary) skip(coll, reason string) { s.Skipped.Add(coll + ": " + reason) }
func (s *Summary) skipPair(reason string)   { s.SkippedPairs.Add(reason) }

// String is the summary for a person, one line per kind of data; what was
// skipped comes last, most frequent reason first.
func (s *Summary) String() string {
	verb := "imported"
	if s.DryRun {
		verb = "would import (dry run)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Lantern import: read %d storage documents and %d users documents\n", s.StorageDocs, s.UserDocs)
	fmt.Fprintf(&b, "  KV: %d pairs %s; %d users' KV changed\n", s.Pairs, verb, s.KVUsersWritten)
	fmt.Fprintf(&b, "  tokens: %d %s (%d replacing another Halyard token), %d already present\n",
		s.TokensImported, verb, s.TokensReplaced, s.TokensPresent)
	fmt.Fprintf(&b, "  user records: %d written, %d unchanged", s.RecordsWritten, s.RecordsUnchanged)
	for _, g := range []struct {
		title   string
		reasons report.Reasons
	}{{"skipped", s.Skipped}, {"skipped pairs", s.SkippedPairs}} {
		for _, k := range g.reasons.Sorted() {
			fmt.Fprintf(&b, "\n  %s: %d × %s", g.title, g.reasons[k], k)
		}
	}
	return b.String()
}

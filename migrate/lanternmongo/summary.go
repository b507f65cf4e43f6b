package lanternmongo

import (
	"fmt"
	"io"
	"sort"
)

// Summary is what an import read, wrote and skipped.
type Summary struct {
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
	Skipped map[string]int
	// SkippedPairs counts pairs left out, by reason.
	SkippedPairs map[string]int
}

func newSummary() *Summary {
	return &Summary{Skipped: map[string]int{}, SkippedPairs: map[string]int{}}
}

func (s *Summary) skip(coll, reason string) { s.Skipped[coll+": "+reason]++ }
func (s *Summary) skipPair(reason string)   { s.SkippedPairs[reason]++ }

// Write prints the summary for a person.
func (s *Summary) Write(w io.Writer, dryRun bool) {
	verb := "imported"
	if dryRun {
		verb = "would import (dry run)"
	}
	fmt.Fprintf(w, "Lantern import: read %d storage documents and %d users documents\n", s.StorageDocs, s.UserDocs)
	fmt.Fprintf(w, "  KV: %d pairs %s; %d users' KV changed\n", s.Pairs, verb, s.KVUsersWritten)
	fmt.Fprintf(w, "  tokens: %d %s (%d replacing another Halyard token), %d already present\n",
		s.TokensImported, verb, s.TokensReplaced, s.TokensPresent)
	fmt.Fprintf(w, "  user records: %d written, %d unchanged\n", s.RecordsWritten, s.RecordsUnchanged)
	writeCounts(w, "skipped", s.Skipped)
	writeCounts(w, "skipped pairs", s.SkippedPairs)
}

func writeCounts(w io.Writer, title string, m map[string]int) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %s: %d × %s\n", title, m[k], k)
	}
}

// Package report is what both importers (lanyardredis, lanternmongo) tell
// the person running them: progress while they read, and the counts of
// what they skipped, by reason, in their summaries.
package report

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Progress follows an import: Start once the work is known, Add as it is
// done, Finish at the end.
type Progress interface {
	Start(total int)
	Add(n int)
	Finish()
}

// None is a Progress that shows nothing.
var None Progress = nop{}

type nop struct{}

func (nop) Start(int) {}
func (nop) Add(int)   {}
func (nop) Finish()   {}

// LogInterval is how often NewFor's log lines come at most.
const LogInterval = 5 * time.Second

// NewFor shows progress on w as a bar when w is a terminal, else as log
// lines every LogInterval (a bar would be noise in a log or a pipe). unit
// names what is counted, e.g. "Redis keys".
func NewFor(w io.Writer, unit string) Progress {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return NewBar(w, unit)
	}
	return NewLog(w, unit, LogInterval)
}

// NewBar shows progress as a bar redrawn on w, for a terminal.
func NewBar(w io.Writer, unit string) Progress { return &bar{w: w, unit: unit} }

type bar struct {
	w    io.Writer
	unit string
	bar  *progressbar.ProgressBar
}

func (p *bar) Start(total int) {
	p.bar = progressbar.NewOptions(total,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription("importing "+p.unit),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.w) }),
	)
}

func (p *bar) Add(n int) {
	if p.bar != nil {
		_ = p.bar.Add(n) // only fails writing to the terminal
	}
}

func (p *bar) Finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

// NewLog writes a progress line to w at most every interval and once at
// the end: "import: 5/10 Redis keys read (50%)".
func NewLog(w io.Writer, unit string, interval time.Duration) Progress {
	return &logLines{w: w, unit: unit, interval: interval, now: time.Now}
}

type logLines struct {
	w         io.Writer
	unit      string
	interval  time.Duration
	now       func() time.Time
	total     int
	done      int
	lastWrite time.Time
}

func (p *logLines) Start(total int) {
	p.total, p.lastWrite = total, p.now()
	fmt.Fprintf(p.w, "import: %d %s to read\n", total, p.unit)
}

func (p *logLines) Add(n int) {
	p.done += n
	if now := p.now(); now.Sub(p.lastWrite) >= p.interval {
		p.lastWrite = now
		p.line()
	}
}

func (p *logLines) Finish() { p.line() }

func (p *logLines) line() {
	pct := 100
	if p.total > 0 {
		pct = p.done * 100 / p.total
	}
	fmt.Fprintf(p.w, "import: %d/%d %s read (%d%%)\n", p.done, p.total, p.unit, pct)
}

// Reasons counts what an import left out, by reason.
type Reasons map[string]int

// Add counts one more for reason.
func (r Reasons) Add(reason string) { r[reason]++ }

// Total is the count over every reason.
func (r Reasons) Total() int {
	n := 0
	for _, c := range r {
		n += c
	}
	return n
}

// Sorted lists the reasons most frequent first (ties by name), so a
// summary leads with what matters.
func (r Reasons) Sorted() []string {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if r[keys[i]] != r[keys[j]] {
			return r[keys[i]] > r[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}

// String lists "reason: count" pairs, most frequent first, joined by "; ".
func (r Reasons) String() string {
	keys := r.Sorted()
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", k, r[k])
	}
	return strings.Join(parts, "; ")
}

// Plural is word, with an s unless n is 1.
func Plural(word string, n int) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

package lanternmongo

import (
	"fmt"
	"io"
	"time"
)

// NewLogProgress writes a progress line to w at most every interval and
// once at the end.
func NewLogProgress(w io.Writer, interval time.Duration) Progress {
	return &logProgress{w: w, interval: interval}
}

type logProgress struct {
	w           io.Writer
	interval    time.Duration
	total, done int
	last        time.Time
}

func (p *logProgress) Start(total int) {
	p.total, p.last = total, time.Now()
	fmt.Fprintf(p.w, "import: %d Lantern documents to read\n", total)
}

func (p *logProgress) Add(n int) {
	p.done += n
	if time.Since(p.last) >= p.interval {
		p.last = time.Now()
		p.line()
	}
}

func (p *logProgress) Finish() { p.line() }

func (p *logProgress) line() {
	pct := 100
	if p.total > 0 {
		pct = p.done * 100 / p.total
	}
	fmt.Fprintf(p.w, "import: %d/%d Lantern documents read (%d%%)\n", p.done, p.total, pct)
}

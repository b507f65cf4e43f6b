package lanyardredis

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// NewBarProgress shows progress as a bar redrawn on w, for a terminal.
func NewBarProgress(w io.Writer) Progress { return &barProgress{w: w} }

type barProgress struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func (p *barProgress) Start(total int) {
	p.bar = progressbar.NewOptions(total,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription("importing Redis keys"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.w) }),
	)
}

func (p *barProgress) Add(n int) {
	if p.bar != nil {
		_ = p.bar.Add(n) // only fails writing to the terminal
	}
}

func (p *barProgress) Finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

// NewLogProgress writes a progress line to w at most every interval and
// once at the end, for logs and pipes where a bar would be noise.
func NewLogProgress(w io.Writer, interval time.Duration) Progress {
	return &logProgress{w: w, interval: interval, now: time.Now}
}

type logProgress struct {
	w         io.Writer
	interval  time.Duration
	now       func() time.Time
	total     int
	done      int
	lastWrite time.Time
}

func (p *logProgress) Start(total int) {
	p.total, p.lastWrite = total, p.now()
	fmt.Fprintf(p.w, "import: %d Redis keys to read\n", total)
}

func (p *logProgress) Add(n int) {
	p.done += n
	if now := p.now(); now.Sub(p.lastWrite) >= p.interval {
		p.lastWrite = now
		p.line()
	}
}

func (p *logProgress) Finish() { p.line() }

func (p *logProgress) line() {
	pct := 100
	if p.total > 0 {
		pct = p.done * 100 / p.total
	}
	fmt.Fprintf(p.w, "import: %d/%d Redis keys read (%d%%)\n", p.done, p.total, pct)
}

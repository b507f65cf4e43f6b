package report

import (
	"bytes"
	"testing"
	"time"
)

func TestLogProgress(t *testing.T) {
	var out bytes.Buffer
	now := time.Unix(0, 0)
	p := &logLines{w: &out, unit: "Redis keys", interval: 5 * time.Second, now: func() time.Time { return now }}
	p.Start(10)
	p.Add(3) // too soon for a line
	now = now.Add(6 * time.Second)
	p.Add(2)
	p.Add(5)
	p.Finish()
	want := "import: 10 Redis keys to read\nimport: 5/10 Redis keys read (50%)\nimport: 10/10 Redis keys read (100%)\n"
	if out.String() != want {
		t.Fatalf("got %q", out.String())
	}
}

// TestNewForPipe: output that is no terminal gets log lines, not a bar.
func TestNewForPipe(t *testing.T) {
	var out bytes.Buffer
	p := NewFor(&out, "Lantern documents")
	p.Start(0)
	p.Finish()
	if want := "import: 0 Lantern documents to read\nimport: 0/0 Lantern documents read (100%)\n"; out.String() != want {
		t.Fatalf("got %q", out.String())
	}
}

func TestReasons(t *testing.T) {
	r := Reasons{}
	for _, reason := range []string{"b rare", "a often", "a often", "c often", "c often"} {
		r.Add(reason)
	}
	if r.Total() != 5 {
		t.Fatalf("total %d", r.Total())
	}
	if got := r.String(); got != "a often: 2; c often: 2; b rare: 1" {
		t.Fatalf("got %q", got)
	}
	if Plural("pair", 1) != "pair" || Plural("pair", 0) != "pairs" {
		t.Fatal("plural")
	}
}

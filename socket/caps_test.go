package socket

import (
	"testing"
	"time"
)

// TestMessageCaps: a socket may send Burst messages per window of
// Burst/MessagesPerSecond seconds, counted apart from every other socket;
// its window is deleted when it ends; no rate means no cap.
func TestMessageCaps(t *testing.T) {
	e := NewEngine()
	defer e.Close()
	cfg := CapsConfig{MessagesPerSecond: 1, Burst: 3}
	if r := cfg.rate(); r.Limit != 3 || r.Period != 3*time.Second {
		t.Fatalf("window %+v, want 3 messages per 3 s", r)
	}
	a, b := e.limits.newCaps(cfg), e.limits.newCaps(cfg)
	for i := range 3 {
		if !a.AllowMessage() {
			t.Fatalf("message %d of the burst refused", i+1)
		}
	}
	if a.AllowMessage() {
		t.Fatal("a fourth message within the window was allowed")
	}
	if !b.AllowMessage() {
		t.Fatal("another socket's first message was refused")
	}
	a.release()
	if !a.AllowMessage() {
		t.Fatal("the window outlived its socket")
	}
	if c := e.limits.newCaps(CapsConfig{Burst: 5}); c != nil || !c.AllowMessage() {
		t.Fatalf("no rate gave caps %+v", c)
	}
	if r := (CapsConfig{MessagesPerSecond: 20}).rate(); r.Limit != 20 || r.Period != time.Second {
		t.Errorf("default burst: %+v, want 20 per second", r)
	}
}

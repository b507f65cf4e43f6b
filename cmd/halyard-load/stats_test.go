package main

import (
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	var l latencies
	for i := 1000; i >= 1; i-- {
		l = append(l, time.Duration(i)*time.Millisecond)
	}
	s := l.summarize()
	if s.N != 1000 || s.P50 != 500 || s.P99 != 990 || s.P999 != 999 || s.Max != 1000 {
		t.Fatalf("%+v", s)
	}
	if one := (latencies{3 * time.Millisecond}).summarize(); one.P50 != 3 || one.P999 != 3 {
		t.Fatalf("%+v", one)
	}
	if (latencies{}).summarize().N != 0 {
		t.Fatal("empty")
	}
}

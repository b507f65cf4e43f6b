package main

import (
	"slices"
	"time"
)

// latencies collects samples; percentiles sort a copy once.
type latencies []time.Duration

// summary is what a scenario reports of its latencies, in milliseconds.
type summary struct {
	N    int     `json:"n"`
	P50  float64 `json:"p50_ms"`
	P99  float64 `json:"p99_ms"`
	P999 float64 `json:"p999_ms"`
	Max  float64 `json:"max_ms"`
}

// summarize returns the nearest-rank percentiles of l.
func (l latencies) summarize() summary {
	if len(l) == 0 {
		return summary{}
	}
	s := slices.Clone(l)
	slices.Sort(s)
	return summary{N: len(s), P50: ms(rank(s, 0.50)), P99: ms(rank(s, 0.99)), P999: ms(rank(s, 0.999)), Max: ms(s[len(s)-1])}
}

// rank is the nearest-rank percentile q of the sorted s.
func rank(s []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(s))+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 3) }

// round keeps digits decimals, so the JSON stays readable.
func round(v float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	if v < 0 {
		return -float64(int64(-v*p+0.5)) / p
	}
	return float64(int64(v*p+0.5)) / p
}

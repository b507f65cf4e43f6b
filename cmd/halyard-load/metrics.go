package main

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// metrics is one scrape of the server's /metrics: each metric name with
// the sum of its samples over all label sets.
type metrics map[string]float64

// scrape reads base/metrics (Prometheus text format).
func scrape(client *http.Client, base string) (metrics, error) {
	resp, err := client.Get(base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/metrics: %s", resp.Status)
	}
	m := metrics{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, value := parseSample(line)
		if name == "" {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		m[name] += v
	}
	return m, sc.Err()
}

// parseSample splits `name{labels} value [timestamp]`.
func parseSample(line string) (name, value string) {
	end := strings.IndexAny(line, "{ ")
	if end <= 0 {
		return "", ""
	}
	name, rest := line[:end], line[end:]
	if rest[0] == '{' {
		close := strings.LastIndexByte(rest, '}')
		if close < 0 {
			return "", ""
		}
		rest = rest[close+1:]
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return "", ""
	}
	return name, fields[0]
}

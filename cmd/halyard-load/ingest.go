package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// ingestResult is the ingest scenario's figures.
type ingestResult struct {
	Events       int     `json:"events"`
	Absorbed     int64   `json:"absorbed"`
	Seconds      float64 `json:"seconds"`
	EventsPerSec float64 `json:"events_per_s"`
	Dispatches   int64   `json:"gateway_dispatches"`
}

// runIngest asks the simulator to flood events PRESENCE_UPDATEs over users
// members and times the hub's event counter from the request until it
// has grown by events (or stops growing).
func runIngest(ctx context.Context, srv *server, events, users int) (ingestResult, error) {
	client := &http.Client{Timeout: 10 * time.Second}
	before, err := scrape(client, srv.Base)
	if err != nil {
		return ingestResult{}, err
	}
	body := fmt.Sprintf(`{"events":%d,"users":%d}`, events, users)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.Base+"/admin/v1/demo/flood", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+srv.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	t0 := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return ingestResult{}, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return ingestResult{}, fmt.Errorf("POST /admin/v1/demo/flood: %s %s", resp.Status, b)
	}
	base := before["halyard_hub_events_total"]
	last, lastAt := base, t0
	var after metrics
	for ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
		m, err := scrape(client, srv.Base)
		if err != nil {
			return ingestResult{}, err
		}
		now := time.Now()
		after = m
		v := m["halyard_hub_events_total"]
		if v > last {
			last, lastAt = v, now
		}
		if v-base >= float64(events) || now.Sub(lastAt) > 5*time.Second {
			break
		}
	}
	absorbed := int64(last - base)
	el := lastAt.Sub(t0)
	res := ingestResult{Events: events, Absorbed: absorbed, Seconds: round(el.Seconds(), 3),
		Dispatches: int64(after["halyard_gateway_dispatches_total"] - before["halyard_gateway_dispatches_total"])}
	if el > 0 {
		res.EventsPerSec = round(float64(absorbed)/el.Seconds(), 0)
	}
	if absorbed == 0 {
		return res, fmt.Errorf("the hub absorbed no event of the flood")
	}
	return res, ctx.Err()
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// historyResult is what turning history on for the ingest scenario took.
type historyResult struct {
	Users   int     `json:"users"`
	Seconds float64 `json:"opt_in_seconds"`
}

// optInHistory turns presence history on for the first n monitored users
// (by id) the way a user does: a `.history on` DM to the bot through the
// demo admin API, 16 at a time; each is done once the history API answers
// 200 for that user.
func optInHistory(ctx context.Context, srv *server, n int) (historyResult, error) {
	ids, err := listUserIDs(ctx, srv, n+1) // one more: the bot's own member is listed too
	if err != nil {
		return historyResult{}, err
	}
	client := &http.Client{Timeout: 30 * time.Second}
	t0 := time.Now()
	work := make(chan string)
	var done atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				if done.Load() >= int64(n) {
					continue
				}
				if err := optIn(ctx, client, srv, id); errors.Is(err, errIsBot) {
					continue
				} else if err != nil {
					once.Do(func() { firstErr = fmt.Errorf("history on for %s: %v", id, err) })
					continue
				}
				done.Add(1)
			}
		}()
	}
	for _, id := range ids {
		if ctx.Err() != nil {
			break
		}
		work <- id
	}
	close(work)
	wg.Wait()
	res := historyResult{Users: int(done.Load()), Seconds: round(time.Since(t0).Seconds(), 1)}
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return res, firstErr
}

// errIsBot: the id is the bot's own member, which cannot DM itself.
var errIsBot = errors.New("the bot's own member")

// optIn sends `.history on` as the user and waits until it took.
func optIn(ctx context.Context, client *http.Client, srv *server, id string) error {
	body := fmt.Sprintf(`{"user_id":%q,"content":".history on"}`, id)
	status, b, err := postJSON(ctx, client, srv.Base+"/admin/v1/demo/messages", srv.AdminToken, body)
	if err != nil {
		return err
	}
	if status == http.StatusBadRequest && strings.Contains(string(b), "cannot DM itself") {
		return errIsBot
	}
	if status != http.StatusAccepted {
		return fmt.Errorf("POST /admin/v1/demo/messages: %d %s", status, b)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.Base+"/v1/users/"+id+"/history?from=0", nil)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("the history API never answered 200")
}

// listUserIDs returns up to n monitored user ids in id order, a page of
// the admin API at a time.
func listUserIDs(ctx context.Context, srv *server, n int) ([]string, error) {
	client := &http.Client{Timeout: 30 * time.Second}
	var ids []string
	after := ""
	for len(ids) < n {
		url := fmt.Sprintf("%s/admin/v1/users?limit=%d", srv.Base, min(1000, n-len(ids)))
		if after != "" {
			url += "&after=" + after
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		req.Header.Set("Authorization", "Bearer "+srv.AdminToken)
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		var page struct {
			Users []struct{ ID string }
			Next  *string
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET /admin/v1/users: %s %v", resp.Status, err)
		}
		for _, u := range page.Users {
			ids = append(ids, u.ID)
		}
		if page.Next == nil || len(page.Users) == 0 {
			break
		}
		after = page.Users[len(page.Users)-1].ID
	}
	return ids, nil
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/storage"
)

// TestRestartOnExistingDataDir is issue 12's drill: the real binary in demo
// mode with thousands of members, tokens issued and KV written, then
// stopped and started again on the same data dir — by SIGTERM, by kill -9,
// by SIGTERM — as operators do. After every start: no warning or error in
// the log, the first token issue and KV write succeed at once (no retry),
// every earlier KV is served and every earlier token still writes, and a
// graceful stop is prompt. Each start is watched for longer than the record
// flush that used to jam the embedded store. Finally the store itself is
// opened: every member's record and every KV map is there. HALYARD_LONG=1
// runs 5 000 members.
func TestRestartOnExistingDataDir(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGKILL needs a Unix")
	}
	members, writers := 2000, 60
	if storeFaultLong() {
		members, writers = 5000, 200
	}
	// Past the point where the jam showed (about 7 s after a start), with
	// the hub flushing records every 2 s.
	const watch = 9 * time.Second
	// A hang, not a speed goal: a healthy stop takes well under a second.
	const stopBound = 10 * time.Second
	bin := buildDurabilityBinary(t)
	dataDir := t.TempDir()

	p := startDemoProcess(t, bin, dataDir, members)
	c := client{t, p.base}
	ids := durabilityUserIDs(t, c, writers+3)
	kv := map[string]string{}     // the acknowledged value of key "n", by user
	tokens := map[string]string{} // by user
	write := func(c client, id, value, when string) {
		t.Helper()
		code, body := c.do("PUT", "/v1/users/"+id+"/kv/n", tokens[id], []byte(value))
		if code != http.StatusNoContent {
			t.Fatalf("%s: KV write for %s: %d %s\nwarnings: %q", when, id, code, body, p.logs.warnings())
		}
		kv[id] = value
	}
	for _, id := range ids[:writers] {
		tokens[id] = drillToken(t, c, id)
		write(c, id, "0", "first run")
	}

	for cycle, how := range []string{"SIGTERM", "kill -9", "SIGTERM"} {
		time.Sleep(watch)
		checkNoWarnings(t, p, fmt.Sprintf("run %d", cycle))
		checkReady(t, c, fmt.Sprintf("run %d", cycle))
		if how == "kill -9" {
			p.kill()
			p.wait()
		} else {
			stopPromptly(t, p, stopBound)
		}

		start := time.Now()
		p = startDemoProcess(t, bin, dataDir, members)
		ready := time.Since(start)
		c = client{t, p.base}
		// The first write after the start, for a user new to tokens.
		fresh := ids[writers+cycle]
		tokens[fresh] = drillToken(t, c, fresh)
		write(c, fresh, "first", fmt.Sprintf("after %s", how))
		t.Logf("after %s: ready in %v, first token and KV write accepted %v after exec", how, ready.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))

		for id, want := range kv {
			code, b := c.do("GET", "/v1/users/"+id, "", nil)
			var resp struct {
				Data struct{ KV map[string]string } `json:"data"`
			}
			if code != http.StatusOK || json.Unmarshal(b, &resp) != nil || resp.Data.KV["n"] != want {
				t.Fatalf("after %s: %s serves %d %s, want kv.n=%q", how, id, code, b, want)
			}
		}
		for _, id := range ids[:writers] {
			write(c, id, fmt.Sprint(cycle+1), fmt.Sprintf("after %s, with the token issued before", how))
		}
	}
	time.Sleep(watch)
	checkNoWarnings(t, p, "last run")
	checkReady(t, c, "last run")
	stopPromptly(t, p, stopBound)

	// The store itself, opened as the next start would.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := storage.Open(ctx, storage.Config{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	records := 0
	if err := s.LoadUsers(ctx, func(core.UserRecord) error { records++; return nil }); err != nil {
		t.Fatal(err)
	}
	if records < members {
		t.Errorf("%d user records stored, want every one of the %d members", records, members)
	}
	stored := map[string]string{}
	if err := s.LoadKV(ctx, func(id string, m core.KV) error { stored[id] = m.Value("n"); return nil }); err != nil {
		t.Fatal(err)
	}
	for id, want := range kv {
		if stored[id] != want {
			t.Errorf("stored KV of %s: n=%q, want %q", id, stored[id], want)
		}
	}
	hashes := 0
	if err := s.LoadTokenHashes(ctx, func(string, []byte) error { hashes++; return nil }); err != nil {
		t.Fatal(err)
	}
	if hashes != len(tokens) {
		t.Errorf("%d token hashes stored, want %d", hashes, len(tokens))
	}
}

// checkNoWarnings fails the test if the process logged a warning or an
// error (a store failure, a retry). The access log's lines are left out:
// the readiness polls of a start answer 503 until the gateway is ready, and
// every request the test makes checks its own status.
func checkNoWarnings(t *testing.T, p *durabilityProcess, when string) {
	t.Helper()
	var w []string
	for _, line := range p.logs.warnings() {
		if !strings.Contains(line, `msg="http request"`) {
			w = append(w, line)
		}
	}
	if len(w) > 0 {
		t.Fatalf("%s: %d warnings or errors logged:\n%s", when, len(w), strings.Join(w, "\n"))
	}
}

// checkReady fails the test unless /readyz answers 200, which now takes
// a durable write.
func checkReady(t *testing.T, c client, when string) {
	t.Helper()
	if code, body := c.do("GET", "/readyz", "", nil); code != http.StatusOK {
		t.Fatalf("%s: /readyz %d %s", when, code, body)
	}
}

// stopPromptly sends SIGTERM and fails if the process takes longer than
// bound to exit.
func stopPromptly(t *testing.T, p *durabilityProcess, bound time.Duration) {
	t.Helper()
	start := time.Now()
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.exited:
		t.Logf("stopped in %v", time.Since(start).Round(time.Millisecond))
	case <-time.After(bound):
		p.kill()
		p.wait()
		t.Fatalf("halyard took over %v to stop:\n%s", bound, p.logs)
	}
}

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestDurabilityKill9 is the kill -9 scenario of issue 7: the real binary
// runs in demo mode on a data dir, clients make acknowledged KV writes
// (PUT, PATCH, DELETE, several users at once), the process is SIGKILLed
// the moment the last counted write is acknowledged (others still in
// flight), and a restart on the same data dir must serve every
// acknowledged write and none of the acknowledged deletes. A write in
// flight at the kill was never acknowledged: it may or may not be there,
// but nothing else may differ. HALYARD_LONG=1 runs more writes and several
// kill cycles.
func TestDurabilityKill9(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGKILL needs a Unix")
	}
	cycles, writes, users := 1, 60, 3
	if storeFaultLong() {
		cycles, writes, users = 5, 400, 4
	}
	bin := buildDurabilityBinary(t)
	dataDir := t.TempDir()

	models := map[string]map[string]string{} // acknowledged KV by user
	tokens := map[string]string{}
	var total killReport
	// pending holds, per user, the state the write in flight at the last
	// kill would have produced, had it committed.
	pending := map[string]map[string]string{}
	for cycle := range cycles {
		p := startDurabilityProcess(t, bin, dataDir)
		c := client{t, p.base}
		if cycle == 0 {
			ids := durabilityUserIDs(t, c, users)
			for _, id := range ids {
				tokens[id] = drillToken(t, c, id)
				models[id] = map[string]string{}
			}
		} else {
			// After a kill: every acknowledged write is served, the
			// tokens (acknowledged writes too) still work.
			checkRecovered(t, c, models, pending, &total)
		}
		r := writeUntilKilled(t, c, p, cycle, writes, tokens, models, pending)
		total.add(r)
		t.Logf("cycle %d: %s", cycle, r)
	}
	// The last restart, checked without another kill.
	p := startDurabilityProcess(t, bin, dataDir)
	checkRecovered(t, client{t, p.base}, models, pending, &total)
	p.stop(t)
	t.Logf("total: %d kill cycles, %s", cycles, total)
	if total.lost > 0 {
		t.Errorf("%d acknowledged writes lost", total.lost)
	}
}

// killReport counts what one or more kill cycles did.
type killReport struct {
	acked, puts, patches, deletes int // acknowledged writes, by kind
	inFlight, inFlightApplied     int // writes in flight at the kill, and how many were found applied
	usersChecked, lost            int // users checked after restarts; acknowledged state not found
}

func (r *killReport) add(o killReport) {
	r.acked += o.acked
	r.puts += o.puts
	r.patches += o.patches
	r.deletes += o.deletes
	r.inFlight += o.inFlight
}

func (r killReport) String() string {
	return fmt.Sprintf("%d acknowledged writes (%d PUT, %d PATCH, %d DELETE); %d unacknowledged (in flight or sent at the kill), %d of them found applied; "+
		"%d user maps checked after restarts, %d differing from the acknowledged state",
		r.acked, r.puts, r.patches, r.deletes, r.inFlight, r.inFlightApplied, r.usersChecked, r.lost)
}

// writeUntilKilled runs one writer per user, each making PUT/PATCH/DELETE
// writes in turn and applying the acknowledged ones to its model, and
// SIGKILLs the process right after the writes-th acknowledgement.
func writeUntilKilled(t *testing.T, c client, p *durabilityProcess, cycle, writes int, tokens map[string]string,
	models, pending map[string]map[string]string) killReport {
	var (
		acked    atomic.Int64
		killOnce sync.Once
		mu       sync.Mutex
		r        killReport
		wg       sync.WaitGroup
	)
	kill := func() { killOnce.Do(p.kill) }
	hc := &http.Client{Timeout: 30 * time.Second}
	for _, id := range slices.Sorted(maps.Keys(models)) {
		model := models[id]
		wg.Go(func() {
			for n := 0; ; n++ {
				key := fmt.Sprintf("k%d", n%7)
				value := fmt.Sprintf("c%d-n%d-%s", cycle, n, strings.Repeat("v", n%50))
				next := maps.Clone(model)
				var req *http.Request
				kind := n % 4
				switch kind {
				case 0, 1: // PUT
					req, _ = http.NewRequest("PUT", c.base+"/v1/users/"+id+"/kv/"+key, strings.NewReader(value))
					next[key] = value
				case 2: // PATCH of two keys
					other := fmt.Sprintf("k%d", (n+3)%7)
					body, _ := json.Marshal(map[string]string{key: value, other: value + "-p"})
					req, _ = http.NewRequest("PATCH", c.base+"/v1/users/"+id+"/kv", bytes.NewReader(body))
					next[key], next[other] = value, value+"-p"
				case 3: // DELETE
					req, _ = http.NewRequest("DELETE", c.base+"/v1/users/"+id+"/kv/"+key, nil)
					delete(next, key)
				}
				req.Header.Set("Authorization", tokens[id])
				resp, err := hc.Do(req)
				if err != nil {
					// The process is gone: this write was never
					// acknowledged and may or may not have committed.
					mu.Lock()
					pending[id] = next
					r.inFlight++
					mu.Unlock()
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusNoContent {
					t.Errorf("user %s write %d: %d", id, n, resp.StatusCode)
					kill()
					return
				}
				clear(model)
				maps.Copy(model, next)
				mu.Lock()
				r.acked++
				switch kind {
				case 0, 1:
					r.puts++
				case 2:
					r.patches++
				case 3:
					r.deletes++
				}
				mu.Unlock()
				if acked.Add(1) == int64(writes) {
					kill() // right after the acknowledgement, others in flight
				}
			}
		})
	}
	wg.Wait()
	p.wait()
	return r
}

// checkRecovered checks each user's KV as served after a restart against
// the acknowledged model, or the model plus the write in flight at the
// kill; it adopts what is served as the new model.
func checkRecovered(t *testing.T, c client, models, pending map[string]map[string]string, r *killReport) {
	t.Helper()
	for id, model := range models {
		code, b := c.do("GET", "/v1/users/"+id, "", nil)
		var resp struct {
			Data struct{ KV map[string]string } `json:"data"`
		}
		if code != http.StatusOK || json.Unmarshal(b, &resp) != nil {
			t.Fatalf("GET %s after restart: %d %s", id, code, b)
		}
		got := resp.Data.KV
		if got == nil {
			got = map[string]string{}
		}
		r.usersChecked++
		inFlight, hasPending := pending[id]
		delete(pending, id)
		switch {
		case maps.Equal(got, model):
		case hasPending && maps.Equal(got, inFlight):
			r.inFlightApplied++
			clear(model)
			maps.Copy(model, got)
		default:
			r.lost++
			t.Errorf("user %s after kill -9: served %v, acknowledged %v (in flight: %v)", id, got, model, inFlight)
		}
	}
}

// durabilityUserIDs waits until the demo's gateway sync is served and returns n
// monitored user ids from the admin API.
func durabilityUserIDs(t *testing.T, c client, n int) []string {
	t.Helper()
	var ids []string
	eventually(t, fmt.Sprintf("%d users listed", n), func() bool {
		code, body := c.do("GET", fmt.Sprintf("/admin/v1/users?limit=%d", n), e2eAdmin, nil)
		var page struct {
			Users []struct{ ID string } `json:"users"`
		}
		if code != http.StatusOK || json.Unmarshal(body, &page) != nil || len(page.Users) < n {
			return false
		}
		ids = ids[:0]
		for _, u := range page.Users[:n] {
			ids = append(ids, u.ID)
		}
		return true
	})
	return ids
}

// buildDurabilityBinary builds this command into a temporary directory.
func buildDurabilityBinary(t *testing.T) string {
	t.Helper()
	// go test puts its own GOROOT/bin first in the test's PATH.
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "halyard")
	out, err := exec.Command(goBin, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// durabilityProcess is the binary running in demo mode as a child process.
type durabilityProcess struct {
	cmd    *exec.Cmd
	base   string
	logs   *durabilityLog
	exited chan struct{}
}

var servingAddr = regexp.MustCompile(`msg="serving HTTP" addr=(\S+)`)

// startDurabilityProcess runs bin --demo on dataDir and returns once it
// serves with the gateway and the database ready.
func startDurabilityProcess(t *testing.T, bin, dataDir string) *durabilityProcess {
	t.Helper()
	return startDemoProcess(t, bin, dataDir, 10)
}

// startDemoProcess runs bin --demo with the given number of simulated
// members (no churn) on dataDir and returns once /readyz answers 200.
func startDemoProcess(t *testing.T, bin, dataDir string, members int) *durabilityProcess {
	t.Helper()
	cmd := exec.Command(bin, "--demo", "--demo-users", strconv.Itoa(members), "--demo-churn", "0",
		"--addr", "127.0.0.1:0", "--data-dir", dataDir, "--log-level", "info")
	cmd.Env = append(os.Environ(), "ADMIN_TOKEN=test-admin-token", "MONGODB_URI=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &durabilityProcess{cmd: cmd, logs: &durabilityLog{}, exited: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.logs.add(line)
			if m := servingAddr.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
		_ = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() { p.kill(); p.wait() })
	select {
	case a := <-addr:
		p.base = "http://" + a
	case <-p.exited:
		t.Fatalf("halyard exited at start:\n%s", p.logs)
	case <-time.After(time.Minute):
		t.Fatalf("halyard did not serve within a minute:\n%s", p.logs)
	}
	c := client{t, p.base}
	eventually(t, "readyz 200", func() bool { code, _ := c.do("GET", "/readyz", "", nil); return code == http.StatusOK })
	return p
}

// kill sends SIGKILL: no shutdown code runs.
func (p *durabilityProcess) kill() { _ = p.cmd.Process.Kill() }

// wait waits until the process is gone.
func (p *durabilityProcess) wait() { <-p.exited }

// stop shuts the process down gracefully (SIGTERM).
func (p *durabilityProcess) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Errorf("halyard did not stop within 30 s:\n%s", p.logs)
		p.kill()
		p.wait()
	}
}

// durabilityLog keeps the last lines of a process's log for failure
// messages, and every warning and error line.
type durabilityLog struct {
	mu       sync.Mutex
	lines    []string
	problems []string // level=WARN and level=ERROR lines
}

func (b *durabilityLog) add(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
		b.problems = append(b.problems, line)
	}
	b.lines = append(b.lines, line)
	if len(b.lines) > 40 {
		b.lines = b.lines[len(b.lines)-40:]
	}
}

func (b *durabilityLog) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}

// warnings returns every warning and error line logged so far.
func (b *durabilityLog) warnings() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.problems)
}

package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of /proc's CPU times: 100 per second on every Linux
// the kernel's USER_HZ is not configured otherwise.
const userHZ = 100

// processCPU returns the CPU time (user and system, all threads) process
// pid has used so far, from /proc/<pid>/stat; false where there is no
// /proc or the process is gone.
func processCPU(pid int) (time.Duration, bool) {
	if pid <= 0 {
		return 0, false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name, in parentheses, may hold spaces: fields are
	// counted from after its closing one (field 3, the state, is f[0]).
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 > len(b) {
		return 0, false
	}
	f := strings.Fields(string(b[i+2:]))
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(utime+stime) * time.Second / userHZ, true
}

// cpuSpan is a process's CPU time from startCPU on.
type cpuSpan struct {
	pid   int
	start time.Duration
	ok    bool
}

// startCPU starts measuring process pid's CPU time.
func startCPU(pid int) cpuSpan {
	start, ok := processCPU(pid)
	return cpuSpan{pid: pid, start: start, ok: ok}
}

// used is the CPU time used since startCPU; false when it cannot be read.
// /proc counts in hundredths of a second, so a span should cover a
// second or more.
func (c cpuSpan) used() (time.Duration, bool) {
	now, ok := processCPU(c.pid)
	return now - c.start, ok && c.ok
}

// perEvent is used's time in µs per event (two decimals); 0 when it
// cannot be read or n is 0.
func (c cpuSpan) perEvent(n int) float64 {
	d, ok := c.used()
	if !ok || n <= 0 {
		return 0
	}
	return round(float64(d.Microseconds())/float64(n), 2)
}

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

// cpuMeter measures the CPU time a process spends over a span of load.
type cpuMeter struct {
	pid   int
	start time.Duration
	ok    bool
}

func startCPU(pid int) cpuMeter {
	t, ok := processCPU(pid)
	return cpuMeter{pid: pid, start: t, ok: ok}
}

// perRequest returns the process's CPU time since startCPU divided by n
// requests, in microseconds; 0 when it could not be read.
func (m cpuMeter) perRequest(n int64) float64 {
	t, ok := processCPU(m.pid)
	if !m.ok || !ok || n <= 0 {
		return 0
	}
	return round(float64(t-m.start)/float64(time.Microsecond)/float64(n), 1)
}

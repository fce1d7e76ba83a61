package bench

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is the unit of /proc/<pid>/stat's CPU times: USER_HZ, 100 on every Linux ABI.
const clockTick = 10 * time.Millisecond

// CPUTime returns the CPU time (user and system) the process has used so far.
func (p *Proc) CPUTime() (time.Duration, error) { return CPUTimeOf(p.Pid()) }

// CPUTimeOf returns the CPU time process pid has used so far: the sum over its threads of
// the run time the scheduler accounts in nanoseconds (/proc/<pid>/task/*/schedstat), or,
// on a kernel without scheduler statistics, user and system time from /proc/<pid>/stat in
// clock ticks (10 ms: too coarse for a window of a few ticks). The process's threads are
// counted while they live; Go programs keep theirs.
func CPUTimeOf(pid int) (time.Duration, error) {
	if d, err := schedTime(pid); err == nil {
		return d, nil
	}
	return statTime(pid)
}

// schedTime sums the first field of /proc/<pid>/task/<tid>/schedstat, each thread's time on
// a CPU in nanoseconds.
func schedTime(pid int) (time.Duration, error) {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("tasks of %d: %w", pid, err)
	}
	var total time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(dir + "/" + t.Name() + "/schedstat")
		if errors.Is(err, fs.ErrNotExist) {
			continue // the thread ended since the listing
		}
		if err != nil {
			return 0, fmt.Errorf("schedstat: %w", err)
		}
		f := strings.Fields(string(b))
		if len(f) < 1 {
			return 0, fmt.Errorf("schedstat of %d/%s: empty", pid, t.Name())
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("schedstat of %d/%s: %w", pid, t.Name(), err)
		}
		total += time.Duration(ns)
	}
	return total, nil
}

// statTime returns user and system time from fields 14 and 15 of /proc/<pid>/stat.
func statTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("proc stat: %w", err)
	}
	// The command name (field 2) is in parentheses and may hold spaces: count from after it.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("proc stat of %d: no command name", pid)
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, fmt.Errorf("proc stat of %d: %d fields", pid, len(f)+2)
	}
	var ticks int64
	for _, v := range f[11:13] { // fields 14 (utime) and 15 (stime)
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("proc stat of %d: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}

// CPUTimes returns the CPU time each of procs has used so far, in order, then this
// process's (SelfCPUTime).
func CPUTimes(procs ...*Proc) ([]time.Duration, error) {
	out := make([]time.Duration, 0, len(procs)+1)
	for _, p := range procs {
		d, err := p.CPUTime()
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	d, err := SelfCPUTime()
	return append(out, d), err
}

// SelfCPUTime returns the CPU time this process (the load generator) has used so far.
func SelfCPUTime() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

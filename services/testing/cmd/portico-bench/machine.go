package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// machine describes where the figures were measured.
type machine struct {
	cpu, kernel, goVersion, commit, memory string
	loadBefore, loadAfter                  string
	cores                                  int
}

func describeMachine(ctx context.Context) machine {
	m := machine{cores: runtime.NumCPU(), cpu: "unknown", kernel: "unknown", memory: "unknown"}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpu = strings.TrimSpace(v)
				break
			}
		}
		_ = f.Close()
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = strings.TrimSpace(string(b))
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		if sc.Scan() {
			m.memory = strings.TrimSpace(strings.TrimPrefix(sc.Text(), "MemTotal:"))
		}
		_ = f.Close()
	}
	m.loadBefore = loadAverage()
	m.goVersion = command(ctx, "go", "version")
	m.commit = command(ctx, "git", "rev-parse", "--short", "HEAD")
	if dirty := command(ctx, "git", "status", "--porcelain", "--untracked-files=no"); dirty != "" && dirty != "unknown" {
		m.commit += " + uncommitted changes"
	}
	return m
}

func command(ctx context.Context, name string, args ...string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).Output() //nolint:gosec // G204: callers pass fixed commands (go version, git rev-parse)
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// loadAverage returns the 1, 5 and 15 minute load averages of /proc/loadavg.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

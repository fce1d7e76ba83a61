package main

import (
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/portico-dev/portico/services/testing/bench"
)

// target is one of the performance goals each report is checked against (the project's
// issue on performance at the burst and at scale), with this run's figure.
type target struct {
	figure, goal string
	// measured is this run's figure, empty when the run did not measure it.
	measured string
	met      bool
	// bound says what limits the figure when the goal is not met, from this run's data.
	bound string
}

// targets returns the goals with this run's figures.
func (r *report) targets() []target {
	var out []target
	e := r.e2e
	burst := func(n int, p50Goal, p99Goal time.Duration) target {
		t := target{figure: fmt.Sprintf("added time to first token, %d streams at once, p50 / p99", n), goal: fmt.Sprintf("≤ %s / %s", msd(p50Goal), msd(p99Goal))}
		if e == nil {
			return t
		}
		for _, s := range e.streams {
			if s.n != n || len(s.addedTTFT50) == 0 {
				continue
			}
			p50, p99 := bench.Median(s.addedTTFT50), bench.Median(s.addedTTFT99)
			t.measured, t.met = msd(p50)+" / "+msd(p99), p50 <= p50Goal && p99 <= p99Goal
			if len(s.bffCPU) > 0 && medianBurst(s.bffCPU).Window >= minBusyWindow {
				t.bound = fmt.Sprintf("CPU: the machine's %d cores were %.0f %% busy from the release to the median first text through the BFF (%.0f %% for the direct calls)",
					runtime.NumCPU(), 100*medianBusy(s.bffCPU, runtime.NumCPU()), 100*medianBusy(s.directCPU, runtime.NumCPU()))
			}
		}
		return t
	}
	out = append(out, burst(500, 20*time.Millisecond, 60*time.Millisecond), burst(100, 5*time.Millisecond, 15*time.Millisecond))

	rate := target{figure: "highest sustainable Converse rate, chain ÷ direct", goal: "≥ 0.75"}
	if e != nil && e.maxRate != nil && len(e.maxRate.bff) > 0 && len(e.maxRate.direct) > 0 {
		ratio := bench.Median(e.maxRate.bff) / bench.Median(e.maxRate.direct)
		rate.measured, rate.met = fmt.Sprintf("%.2f", ratio), ratio >= 0.75
		if c := e.cpu; c != nil {
			chain := bench.Median(c.services) + bench.Median(c.bff) + bench.Median(c.aws) + bench.Median(c.gen)
			direct := bench.Median(c.directAWS) + bench.Median(c.directGen)
			rate.bound = fmt.Sprintf("CPU: %.2f ms per request through the chain against %.2f ms for the direct call, so the ceilings on this machine's cores stand at %.2f", chain, direct, direct/chain)
		}
	}
	out = append(out, rate)

	getMe := target{figure: "GetMe through the BFF ÷ a bare reverse proxy", goal: "≥ 0.80"}
	if e != nil {
		for _, p := range e.proxies {
			if strings.HasPrefix(p.route, "IdentityService.GetMe") && len(p.ratio) > 0 {
				ratio := bench.Median(p.ratio)
				getMe.measured, getMe.met = fmt.Sprintf("%.2f", ratio), ratio >= 0.80
				getMe.bound = "the BFF's own work per call: net/http's parsing of the request with its session cookie comes first in its profile (instruction counts above)"
			}
		}
	}
	out = append(out, getMe)

	boot := target{figure: "BFF Lambda bootstrap", goal: "≤ 20 MiB"}
	for _, b := range r.binaries {
		if b.pkg == "./bff/cmd/portico-bff" && b.err == nil {
			boot.measured, boot.met = mib(b.bytes), b.bytes <= 20<<20
		}
	}
	return append(out, boot)
}

// writeTargets writes the goals table.
func (r *report) writeTargets(w func(string, ...any)) {
	w("## Targets\n\nThe goals set for performance at the burst and at scale, and this run's figures (each explained in its section below). Usage reads that do not grow with history are in the micro-benchmarks (`BenchmarkUsageHistory`, `BenchmarkUsageReads`).\n\n")
	w("| figure | goal | this run | met | what bounds it |\n|---|---|---|---|---|\n")
	for _, t := range r.targets() {
		switch {
		case t.measured == "":
			w("| %s | %s | not measured | — | |\n", t.figure, t.goal)
		case t.met:
			w("| %s | %s | **%s** | yes | |\n", t.figure, t.goal, t.measured)
		default:
			w("| %s | %s | **%s** | no | %s |\n", t.figure, t.goal, t.measured, t.bound)
		}
	}
	w("\n")
}

package main

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/services/testing/bench"
)

// TestTargets checks each goal against figures on both sides of it, and that a goal the run
// did not measure says so.
func TestTargets(t *testing.T) {
	t.Parallel()
	ms := func(v ...float64) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x * float64(time.Millisecond))
		}
		return out
	}
	// 95 % of what the machine's cores give in 100 ms, whatever their number.
	busy := []bench.BurstCPU{{Window: 100 * time.Millisecond, CPU: []time.Duration{time.Duration(runtime.NumCPU()) * 95 * time.Millisecond}}}
	r := &report{
		e2e: &e2eResult{
			streams: []streamRow{
				{n: 500, addedTTFT50: ms(300, 320, 310), addedTTFT99: ms(500, 510, 490), bffCPU: busy, directCPU: busy},
				{n: 100, addedTTFT50: ms(4, 5, 3), addedTTFT99: ms(14, 15, 9)},
			},
			maxRate: &maxRateRow{bff: []float64{1000, 1500, 1000}, direct: []float64{3000, 3000, 3000}},
			proxies: []proxyRow{{route: "IdentityService.GetMe", ratio: []float64{0.79, 0.81, 0.85}}},
		},
		binaries: []binarySize{{pkg: "./bff/cmd/portico-bff", bytes: 21 << 20}},
	}
	got := map[string]target{}
	for _, tg := range r.targets() {
		got[tg.figure] = tg
	}
	want := []struct {
		prefix   string
		measured string
		met      bool
		bound    string
	}{
		{"added time to first token, 500", "310.00 ms / 500.00 ms", false, "95 % busy"},
		{"added time to first token, 100", "4.00 ms / 14.00 ms", true, ""},
		{"highest sustainable", "0.33", false, ""},
		{"GetMe", "0.81", true, ""},
		{"BFF Lambda bootstrap", "21.0 MiB", false, ""},
	}
	for _, w := range want {
		var tg target
		for fig, v := range got {
			if strings.HasPrefix(fig, w.prefix) {
				tg = v
			}
		}
		if tg.measured != w.measured || tg.met != w.met || !strings.Contains(tg.bound, w.bound) {
			t.Errorf("%s: measured %q met %v bound %q; want %q, %v, containing %q", w.prefix, tg.measured, tg.met, tg.bound, w.measured, w.met, w.bound)
		}
	}
	var b strings.Builder
	(&report{}).writeTargets(func(f string, a ...any) { b.WriteString(strings.TrimSpace(f)) })
	if strings.Count(b.String(), "not measured") != 5 {
		t.Errorf("a run that measured nothing: %q", b.String())
	}
}

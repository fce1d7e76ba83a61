package main

import (
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portico-dev/portico/services/testing/bench"
)

// report is everything measured, rendered as docs/benchmarks.md.
type report struct {
	started  time.Time
	took     time.Duration
	smoke    bool
	runs     int
	machine  machine
	micro    []microSet
	binaries []binarySize
	instr    *instrResult
	e2e      *e2eResult
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func msd(d time.Duration) string {
	if d < 0 {
		return fmt.Sprintf("−%.2f ms", bench.Ms(-d))
	}
	return fmt.Sprintf("%.2f ms", bench.Ms(d))
}

func med(ds []time.Duration) string {
	if len(ds) == 0 {
		return "—"
	}
	return msd(bench.Median(ds))
}

func medf(xs []float64, format string) string {
	if len(xs) == 0 {
		return "—"
	}
	return fmt.Sprintf(format, bench.Median(xs))
}

func medBytes(xs []int64) string {
	if len(xs) == 0 {
		return "—"
	}
	return mib(bench.Median(xs))
}

func (r *report) markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Benchmarks\n\n")
	if r.smoke {
		w("**Smoke run** (`-smoke`): one short run of every part to check the tool works; these figures mean nothing.\n\n")
	}
	w("Written by `make bench` (`go run ./services/testing/cmd/portico-bench`) on %s at commit `%s`; the run took %s. ",
		r.started.Format("2006-01-02 15:04 MST"), r.machine.commit, r.took.Round(time.Second))
	w("Each figure is the median of %d runs, and every run measures its baseline right before the figure it is compared with. ", r.runs)
	w("Everything runs on loopback on one machine: the load generator shares the CPU with the processes it measures, so absolute numbers are pessimistic and the added latencies include the generator's own scheduling noise.\n\n")

	w("## Machine\n\n| | |\n|---|---|\n")
	w("| CPU | %s |\n| cores | %d |\n| memory | %s |\n| kernel | Linux %s |\n| Go | %s |\n| date | %s |\n| load average (1, 5, 15 min) at start / end | %s / %s |\n\n",
		r.machine.cpu, r.machine.cores, r.machine.memory, r.machine.kernel, r.machine.goVersion, r.started.Format(time.RFC3339), r.machine.loadBefore, r.machine.loadAfter)
	w("The machine is shared: other work (builds, linters, browser tests) may run during the benchmark, which the load averages above show; figures measured against a baseline in the same run are the robust ones.\n\n")
	w("What the tests catch is measured apart: [mutations.md](mutations.md), written by `make mutate`, lists known-dangerous changes to the token, store, policy, returnTo and allowlist code and whether the tests failed for each.\n\n")

	w("## Reproduce\n\n```sh\nmake bench                                           # = go run ./services/testing/cmd/portico-bench -out docs/benchmarks.md\n")
	w("go run ./services/testing/cmd/portico-bench -runs 5   # more runs per figure\n")
	w("go run ./services/testing/cmd/portico-bench -skip micro,binaries   # end-to-end only\n")
	w("go run ./services/testing/cmd/portico-bench -smoke    # the check make test runs (< 30 s)\n")
	w("make bench BENCH_AGAINST=cc904fa                     # also count instructions per request of that revision's build, alternating\n")
	w("go run ./services/testing/cmd/portico-bench -skip micro,binaries,e2e,load -against cc904fa -profiles /tmp/profiles   # instruction counts only, profiles kept\n")
	for _, m := range micro {
		w("%s\n", m.bench.Command())
	}
	w("CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -trimpath -tags lambda.norpc -ldflags='-s -w' -o /tmp/x ./services/cmd/portico-services\n```\n\n")
	w("The tool builds the binaries, starts the dev IdP, the local AWS endpoint, the services (SQLite store, `services/testing/bench/policy.yaml`: the dev entitlements with quotas no run can reach) and the BFF on free loopback ports with their documented environment, and signs every virtual user in through `/auth/login`, the dev IdP's login form and `/auth/callback` (one session cookie per user, all as `alice`). Loads are open-loop at a constant rate (latency counted from each request's scheduled start, so a stalled server is not flattered), or N concurrent streams released together. Model: `%s`.\n\n", bench.Model)

	r.writeTargets(w)
	if r.instr != nil {
		r.instr.write(w)
	}
	if e := r.e2e; e != nil {
		r.writeE2E(w, e)
	} else {
		w("## End-to-end\n\nNot measured in this run (skipped).\n\n")
	}
	r.writeBinaries(w)
	r.writeMicro(w)
	return b.String()
}

func (r *report) writeE2E(w func(string, ...any), e *e2eResult) {
	if e.signIns > 0 {
		w("Signing in %d users took %s (%.1f sign-ins/s, four at a time).\n\n", e.signIns, e.signInDur.Round(time.Millisecond), float64(e.signIns)/e.signInDur.Seconds())
	}
	w("## Unary RPC: added latency\n\n")
	if len(e.unary) == 0 {
		w("Not measured: %s.\n\n", strings.Join(e.notes, "; "))
	} else {
		w("Route: %s. Baseline: %s, at the same rate in the same run. The local AWS endpoint answers at full speed (no pacing). Added = through the BFF − baseline, per run, then the median.\n\n", e.route, e.baseline)
		w("| rate (req/s) | baseline p50 | baseline p99 | through BFF p50 | through BFF p99 | **added p50** | **added p99** | achieved (BFF) | errors / dropped (BFF, baseline) |\n|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
		for _, u := range e.unary {
			over := ""
			if len(u.bffAchieved) > 0 && bench.Median(u.bffAchieved) < 0.95*u.rate {
				over = " (overloaded)"
			}
			w("| %.0f%s | %s | %s | %s | %s | **%s** | **%s** | %s | %d/%d, %d/%d |\n", u.rate, over, med(u.directP50), med(u.directP99), med(u.bffP50), med(u.bffP99),
				med(u.addedP50), med(u.addedP99), medf(u.bffAchieved, "%.0f/s"), u.bffErrors, u.bffDropped, u.directErrors, u.directDropped)
		}
		w("\n(overloaded): the chain completed less than 95 %% of the target rate, so requests queued and the latencies are queueing time. Each Converse through the chain costs a session-cookie open and CSRF checks in the BFF, a token verification, a policy decision, two SQLite write transactions (reserve, settle with the ledger row) and a SigV4-signed AWS SDK call in the services; the baseline is only the SDK call.\n\n")
		if m := e.maxRate; m != nil {
			w("**Highest sustainable rate** (%s steps of %s req/s; a step passes with no error or dropped request, ≥ 95 %% of the rate achieved and p99 ≤ 100 ms): through the BFF **%s req/s**, baseline %s req/s (medians; per run: BFF %v, baseline %v). The stack and the generator share two cores, so this is the machine's limit for the whole chain, not the BFF's alone.\n\n",
				e.plan.maxRateDur, rateList(e.plan.maxRateSteps), medf(m.bff, "%.0f"), medf(m.direct, "%.0f"), m.bff, m.direct)
		}
		if c := e.cpu; c != nil {
			chain := bench.Median(c.services) + bench.Median(c.bff) + bench.Median(c.aws) + bench.Median(c.gen)
			direct := bench.Median(c.directAWS) + bench.Median(c.directGen)
			w("**CPU per request** at %.0f req/s (user + system time of each process over a 4 s run ÷ the requests completed; medians of %d runs), which bounds the sustainable rate: two cores give at most 2,000 ms of CPU a second.\n\n", c.rate, len(c.services))
			w("| | services | BFF | local AWS | load generator | total | ceiling on two cores |\n|---|---:|---:|---:|---:|---:|---:|\n")
			w("| through the BFF | %.3f ms | %.3f ms | %.3f ms | %.3f ms | **%.3f ms** | %.0f req/s |\n", bench.Median(c.services), bench.Median(c.bff), bench.Median(c.aws), bench.Median(c.gen), chain, 2000/chain)
			w("| direct SDK call | — | — | %.3f ms | %.3f ms | **%.3f ms** | %.0f req/s |\n\n", bench.Median(c.directAWS), bench.Median(c.directGen), direct, 2000/direct)
			w("Ratio of the ceilings, chain ÷ direct: **%.2f**. A chain ÷ direct rate of 0.75 would need the chain's CPU per request within 1.33× the direct call's, while the chain does the direct call's work and the BFF's and the services' on top (session cookie, token, policy, two SQLite transactions, audit).\n\n", direct/chain)
		}
	}
	w("## BFF vs a bare `httputil.ReverseProxy`\n\n")
	if len(e.proxies) == 0 {
		w("Not measured.\n\n")
	} else {
		w("Closed loop, %d concurrent callers for %s each, same route, same services process, the two taking turns at going first. The bare proxy forwards `/api/X` to the services' `/X` over h2c with a machine token (no cookie, CSRF or allowlist work); the BFF opens the session cookie, checks CSRF and Fetch Metadata, the allowlist and limits, then forwards over h2c.\n\n", e.plan.proxyWorkers, e.plan.proxyDur)
		w("| route | bare proxy (req/s) | BFF (req/s) | **BFF / bare** | errors (BFF, bare) |\n|---|---:|---:|---:|---|\n")
		for _, p := range e.proxies {
			w("| %s | %s | %s | **%s** | %d, %d |\n", p.route, medf(p.bare, "%.0f"), medf(p.bff, "%.0f"), medf(p.ratio, "%.2f"), p.bffErrs, p.bareErrs)
		}
		w("\n")
	}
	w("## Streaming at 50 tokens/s\n\n")
	if len(e.streams) == 0 {
		w("Not measured: InferenceService was not available through the BFF in this build.\n\n")
	} else {
		w("The local AWS endpoint streams at 50 tokens/s (one token per event, so ~20 ms between chunks); each stream asks for 50 tokens. N streams are released at once. Baseline: the AWS SDK's ConverseStream against the local endpoint directly. TTFT is from the call to the first text delta; the chunk gap is the time between consecutive text deltas of a stream.\n\n")
		w("| streams | TTFT baseline p50 / p99 | TTFT through BFF p50 / p99 | **added TTFT p50 / p99** | gap baseline p50 / p99 | gap through BFF p50 / p99 | **added gap p50 / p99** | errors (BFF, baseline) |\n|---:|---|---|---|---|---|---|---|\n")
		for _, s := range e.streams {
			w("| %d | %s / %s | %s / %s | **%s / %s** | %s / %s | %s / %s | **%s / %s** | %d, %d |\n", s.n,
				med(s.directTTFT50), med(s.directTTFT99), med(s.bffTTFT50), med(s.bffTTFT99), med(s.addedTTFT50), med(s.addedTTFT99),
				med(s.directGap50), med(s.directGap99), med(s.bffGap50), med(s.bffGap99), med(s.addedGap50), med(s.addedGap99), s.bffErrs, s.directErrs)
		}
		w("\nWhere the added time to first token goes: the same streams against the services directly (h2c, machine token, no BFF), in the same run. Medians over runs of each run's p50.\n\n")
		w("| streams | TTFT services directly p50 / p99 | services − baseline (p50) | BFF − services (p50) | errors (services) |\n|---:|---|---:|---:|---:|\n")
		for _, s := range e.streams {
			w("| %d | %s / %s | %s | %s | %d |\n", s.n, med(s.svcTTFT50), med(s.svcTTFT99),
				medDiff(s.svcTTFT50, s.directTTFT50), medDiff(s.bffTTFT50, s.svcTTFT50), s.svcErrs)
		}
		writeBurstCPU(w, e.streams)
		w("\nThe OpenAI-compatible endpoint: the same streams as a streamed chat completion through the services' `/v1` (SSE, the same machine token), against Connect's ConverseStream on the services, in the same run.\n\n")
		w("| streams | TTFT /v1 p50 / p99 | **/v1 − Connect (p50)** | errors (/v1) |\n|---:|---|---:|---:|\n")
		for _, s := range e.streams {
			w("| %d | %s / %s | **%s** | %d |\n", s.n, med(s.v1TTFT50), med(s.v1TTFT99), medDiff(s.v1TTFT50, s.svcTTFT50), s.v1Errs)
		}
		w("\n")
	}
	w("## Memory (RSS) under concurrent users\n\n")
	if len(e.rss) == 0 {
		w("Not measured.\n\n")
	} else {
		w("VmRSS from `/proc/<pid>/status`, the highest of five samples taken over 0.5 s once every user's stream has delivered its first chunk (users stream 150 tokens at 50 tokens/s, one session each); 0 users is the idle stack after sign-in, before any load.\n\n| concurrent users | BFF RSS | services RSS | stream errors |\n|---:|---:|---:|---:|\n")
		for _, m := range e.rss {
			w("| %d | %s | %s | %d |\n", m.users, medBytes(m.bff), medBytes(m.services), m.errs)
		}
		w("\n")
	}
	w("## Load test: concurrent streaming users through the BFF\n\n")
	if l := e.load; l == nil {
		w("Not run: InferenceService was not available through the BFF in this build.\n\n")
	} else {
		verdict := "**holds**"
		if !l.holds() {
			verdict = "**does not hold**: " + l.problems()
		}
		w("%d users (one session each), each streaming 50-token answers at 50 tokens/s back to back for %s, after a warm-up of the same shape: %s.\n\n", l.users, l.dur, verdict)
		w("| | |\n|---|---|\n| streams completed | %d (%.1f/s) |\n| errors | %d |\n| text chunks received | %d |\n", l.streams-l.errs, float64(l.streams-l.errs)/l.dur.Seconds(), l.errs, l.chunks)
		w("| TTFT p50 / p99 | %s / %s |\n| chunk gap p50 / p99 | %s / %s |\n", msd(bench.Percentile(l.ttft, 0.5)), msd(bench.Percentile(l.ttft, 0.99)), msd(bench.Percentile(l.gaps, 0.5)), msd(bench.Percentile(l.gaps, 0.99)))
		w("| peak RSS during the run | BFF %s, services %s |\n", mib(l.peakBFF), mib(l.peakSvc))
		w("| after warm-up → after the run (idle connections closed, %s later) | BFF RSS %s → %s, open files %d → %d, threads %d → %d; services RSS %s → %s, open files %d → %d, threads %d → %d |\n",
			e.plan.settle, mib(l.before.bffRSS), mib(l.after.bffRSS), l.before.bffFDs, l.after.bffFDs, l.before.bffThreads, l.after.bffThreads,
			mib(l.before.svcRSS), mib(l.after.svcRSS), l.before.svcFDs, l.after.svcFDs, l.before.svcThreads, l.after.svcThreads)
		w("| goroutines after the run (SIGQUIT stack dump) vs a fresh process at rest | BFF %d vs %d; services %d vs %d |\n", l.bffGoroutines, l.idleBFFGoroutines, l.svcGoroutines, l.idleSvcGoroutines)
		if l.ledgerErr != nil {
			w("| quota counters vs ledger | not checked: %v |\n", l.ledgerErr)
		} else {
			w("| quota counters vs ledger (SQLite opened read-only after the processes ended, whole benchmark run) | %d ledger rows, %d counter series compared, %d mismatches, %d reservations in flight, %d reserved |\n",
				l.ledger.Rows, l.ledger.Counters, len(l.ledger.Mismatches), l.ledger.InFlight, l.ledger.Reserved)
		}
		w("\nThe services and the BFF expose no debug endpoint, so leaks are judged from outside: RSS (≤ +20 %% + 8 MiB), open files (≤ +8) and OS threads (≤ +4) against the state after the warm-up, and goroutines from a SIGQUIT stack dump at the end against a fresh process of the same binary at rest (≤ two per socket still open, for net/http's read and write loops).\n\n")
	}
	if len(e.ready) > 0 {
		w("## Process start to ready\n\nFrom exec to the first `200` of `GET /healthz` (polled every millisecond), local amd64 build, each process restarted in place with the stack's configuration:\n\n| process | median | max | runs |\n|---|---:|---:|---:|\n")
		for _, name := range []string{"devidp", "localaws", "services", "bff"} {
			d := e.ready[name]
			if len(d) == 0 {
				continue
			}
			w("| %s | %s | %s | %d |\n", name, med(d), msd(slices.Max(d)), len(d))
		}
		w("\n")
	}
	if len(e.notes) > 0 {
		w("### Notes\n\n")
		for _, n := range e.notes {
			w("- %s\n", n)
		}
		w("\n")
	}
}

func (r *report) writeBinaries(w func(string, ...any)) {
	w("## Lambda binary sizes\n\n")
	if len(r.binaries) == 0 {
		w("Not measured in this run.\n\n")
		return
	}
	w("`CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -trimpath -tags lambda.norpc -ldflags='-s -w'`:\n\n| command | size |\n|---|---:|\n")
	for _, s := range r.binaries {
		if s.err != nil {
			w("| `%s` | not built: %v |\n", s.pkg, firstLine(s.err.Error()))
			continue
		}
		w("| `%s` | %s (%d bytes) |\n", s.pkg, mib(s.bytes), s.bytes)
	}
	w("\n")
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func (r *report) writeMicro(w func(string, ...any)) {
	w("## Go micro-benchmarks\n\n")
	if len(r.micro) == 0 {
		w("Not run in this run.\n\n")
		return
	}
	w("`go test -run '^$' -bench … -count 5 -benchtime 300ms`; medians of the five counts.\n\n")
	all := bench.Samples{}
	for _, m := range r.micro {
		w("**%s** — `%s`\n\n", m.title, m.bench.Command())
		if m.err != nil {
			w("Failed: %s\n\n", firstLine(m.err.Error()))
			continue
		}
		w("| benchmark | ns/op | other (medians) |\n|---|---:|---|\n")
		for _, name := range slices.Sorted(maps.Keys(m.samples)) {
			units := m.samples[name]
			all[name] = units
			ns, _ := m.samples.Median(name, "ns/op")
			var other []string
			for _, u := range slices.Sorted(maps.Keys(units)) {
				if u == "ns/op" {
					continue
				}
				v, _ := m.samples.Median(name, u)
				other = append(other, fmt.Sprintf("%.4g %s", v, u))
			}
			w("| %s | %.0f | %s |\n", name, ns, strings.Join(other, ", "))
		}
		w("\n")
	}
	w("**Ratios against the baselines of the same run**\n\n| figure | ratio |\n|---|---:|\n")
	ratio := func(label, a, b string) {
		x, ok1 := all.Median(a, "ns/op")
		y, ok2 := all.Median(b, "ns/op")
		if ok1 && ok2 && y > 0 {
			w("| %s | %.2f |\n", label, x/y)
		} else {
			w("| %s | not measured |\n", label)
		}
	}
	if v, ok := all.Median("BenchmarkVerify/warm-vs-bare", "ratio"); ok {
		w("| token Verify (warm keys, no result cache) / bare RSA verify, interleaved | %.2f |\n", v)
	}
	ratio("token Verify (warm) / bare RSA verify, separate loops", "BenchmarkVerify/warm", "BenchmarkVerify/bare-rsa")
	ratio("token Verify (cached token) / bare RSA verify", "BenchmarkVerify/cached", "BenchmarkVerify/bare-rsa")
	ratio("cookie Seal / bare AES-256-GCM seal", "BenchmarkSeal", "BenchmarkAESGCMSeal")
	ratio("cookie Open / bare AES-256-GCM open", "BenchmarkOpen", "BenchmarkAESGCMOpen")
	ratio("store reserve+settle parallel / serial (per operation)", "BenchmarkReserveSettleParallel", "BenchmarkReserveSettle")
	w("\n")
}

func rateList(rates []float64) string {
	parts := make([]string, len(rates))
	for i, r := range rates {
		parts[i] = fmt.Sprintf("%.0f", r)
	}
	return strings.Join(parts, ", ")
}

// medDiff is the median over runs of a[i] − b[i].
func medDiff(a, b []time.Duration) string {
	n := min(len(a), len(b))
	if n == 0 {
		return "—"
	}
	d := make([]time.Duration, n)
	for i := range n {
		d[i] = a[i] - b[i]
	}
	return med(d)
}

// writeBurstCPU reports how busy the machine was while each burst of streams started: the
// CPU every process used from the release to the median stream's first text, as a share of
// what the machine's cores could give in that time.
func writeBurstCPU(w func(string, ...any), rows []streamRow) {
	cores := runtime.NumCPU()
	var saturated []string
	w("\nHow busy the machine was while a burst started: the CPU time each process used from the release of the streams to the median stream's first text delta (the scheduler's run time of each thread, `/proc/<pid>/task/*/schedstat`; the load generator's by getrusage), and its share of what %d cores give in that window. Medians over runs; a window under %s is too short for the share to mean much.\n\n", cores, msd(minBusyWindow))
	w("| streams | through the BFF: window | services / BFF / local AWS / generator CPU | **busy** | direct: window | local AWS / generator CPU | **busy** |\n|---:|---:|---|---:|---:|---|---:|\n")
	for _, s := range rows {
		if len(s.bffCPU) == 0 || len(s.directCPU) == 0 {
			continue
		}
		chain, direct := medianBurst(s.bffCPU), medianBurst(s.directCPU)
		busyChain, busyDirect := medianBusy(s.bffCPU, cores), medianBusy(s.directCPU, cores)
		w("| %d | %s | %s | **%.0f %%** | %s | %s | **%.0f %%** |\n", s.n, msd(chain.Window), cpuList(chain.CPU), 100*busyChain, msd(direct.Window), cpuList(direct.CPU), 100*busyDirect)
		if busyChain >= 0.9 && chain.Window >= minBusyWindow {
			saturated = append(saturated, strconv.Itoa(s.n))
		}
	}
	if len(saturated) > 0 {
		w("\nWith %s streams the cores were at least 90 %% busy until the median stream's first text through the BFF: the added time to first token there is time spent waiting for a core, and it shrinks only with less CPU per stream start (the instruction counts and profiles above) or more cores (in AWS each Lambda environment has its own).\n", strings.Join(saturated, " and "))
	}
}

// minBusyWindow is the shortest window whose share of the cores the report draws a
// conclusion from: in shorter ones, reading the processes' CPU times one after another and
// the scheduler's time slices weigh too much.
const minBusyWindow = 20 * time.Millisecond

// medianBurst returns the median window and, per process, the median CPU time of bursts.
func medianBurst(bs []bench.BurstCPU) bench.BurstCPU {
	var out bench.BurstCPU
	windows := make([]time.Duration, len(bs))
	for i, b := range bs {
		windows[i] = b.Window
	}
	out.Window = bench.Median(windows)
	for p := range bs[0].CPU {
		cpu := make([]time.Duration, len(bs))
		for i, b := range bs {
			cpu[i] = b.CPU[p]
		}
		out.CPU = append(out.CPU, bench.Median(cpu))
	}
	return out
}

// medianBusy returns the median over bursts of their utilisation of cores.
func medianBusy(bs []bench.BurstCPU, cores int) float64 {
	u := make([]float64, len(bs))
	for i, b := range bs {
		u[i] = b.Utilisation(cores)
	}
	return bench.Median(u)
}

// cpuList formats CPU times as "a / b / c" in milliseconds.
func cpuList(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
	}
	return strings.Join(parts, " / ")
}

package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/portico-dev/portico/services/testing/bench"
)

// e2eResult holds the end-to-end figures; a figure that could not be measured leaves a note.
type e2eResult struct {
	notes     []string
	route     string // the unary route measured: Converse, or GetMe when inference is missing
	baseline  string // what the unary baseline is
	unary     []unaryRow
	maxRate   *maxRateRow
	cpu       *cpuRow
	proxies   []proxyRow
	streams   []streamRow
	rss       []rssRow
	ready     map[string][]time.Duration
	load      *loadResult
	signInDur time.Duration
	signIns   int
	smokeErrs []string
	plan      plan
	// idleGoroutines are the goroutines of the services and the BFF at rest, by process name.
	idleGoroutines map[string]int
}

func (e *e2eResult) note(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	logf("note: %s", msg)
	e.notes = append(e.notes, msg)
}

func (e *e2eResult) smokeOK() bool { return e != nil && len(e.smokeErrs) == 0 && len(e.unary) > 0 }

func (e *e2eResult) smokeProblems() string {
	if e == nil {
		return "no end-to-end result"
	}
	if len(e.unary) == 0 {
		return strings.Join(append(e.smokeErrs, "no unary figure"), "; ")
	}
	return strings.Join(e.smokeErrs, "; ")
}

type unaryRow struct {
	rate                        float64
	directP50, directP99        []time.Duration
	bffP50, bffP99              []time.Duration
	addedP50, addedP99          []time.Duration
	directErrors, bffErrors     int
	directDropped, bffDropped   int
	directFirstErr, bffFirstErr error
	directAchieved, bffAchieved []float64
}

type maxRateRow struct {
	bff, direct []float64
}

// cpuRow is the CPU time each process spends per request at a steady rate, through the chain
// and for the direct call, in milliseconds (medians of the runs).
type cpuRow struct {
	rate                    float64
	services, bff, aws, gen []float64 // through the chain
	directAWS, directGen    []float64 // the direct call
}

// cpuPerRequest runs call at rate for dur and returns the CPU milliseconds per completed
// request that each of procs (and the generator, last) spent meanwhile.
func cpuPerRequest(ctx context.Context, rate float64, dur time.Duration, call bench.Call, procs ...*bench.Proc) ([]float64, error) {
	before, err := bench.CPUTimes(procs...)
	if err != nil {
		return nil, err
	}
	r := bench.Constant(ctx, rate, dur, 2000, 10*time.Second, call)
	after, err := bench.CPUTimes(procs...)
	if err != nil {
		return nil, err
	}
	n := float64(len(r.Latencies))
	if n == 0 || !r.OK() {
		return nil, fmt.Errorf("at %v/s: %d completed, first error %v", rate, len(r.Latencies), r.FirstErr)
	}
	ms := make([]float64, len(after))
	for i := range after {
		ms[i] = float64((after[i] - before[i]).Microseconds()) / 1000 / n
	}
	return ms, nil
}

type proxyRow struct {
	route             string
	bff, bare, ratio  []float64
	bffErrs, bareErrs int
	firstErr          error
}

type streamRow struct {
	n                          int
	directTTFT50, directTTFT99 []time.Duration
	bffTTFT50, bffTTFT99       []time.Duration
	addedTTFT50, addedTTFT99   []time.Duration
	directGap50, directGap99   []time.Duration
	bffGap50, bffGap99         []time.Duration
	addedGap50, addedGap99     []time.Duration
	directErrs, bffErrs        int
	firstErr                   error
	// The services called directly (h2c, machine token), to split the added time.
	svcTTFT50, svcTTFT99 []time.Duration
	svcErrs              int
	// The same streams through the OpenAI-compatible endpoint (/v1) of the services.
	v1TTFT50, v1TTFT99 []time.Duration
	v1Errs             int
	// The CPU the processes used from each burst's release to its median first message:
	// through the BFF (services, BFF, local AWS, generator) and direct (local AWS, generator).
	bffCPU, directCPU []bench.BurstCPU
}

type rssRow struct {
	users         int
	bff, services []int64
	errs          int
	firstErr      error
}

// plan sizes the runs: the full benchmark or the smoke check.
type plan struct {
	runs         int
	rates        []float64
	rateDur      time.Duration
	maxRateSteps []float64
	maxRateDur   time.Duration
	proxyDur     time.Duration
	proxyWorkers int
	streamSizes  []int
	streamTokens int32
	rssUsers     []int
	rssTokens    int32
	loadUsers    int
	loadDur      time.Duration
	readyRuns    int
	unaryTokens  int32
	settle       time.Duration
	warmUp       time.Duration
}

func newPlan(opts options) plan {
	if opts.smoke {
		return plan{
			runs: 1, rates: []float64{20}, rateDur: time.Second,
			proxyDur: 500 * time.Millisecond, proxyWorkers: 4,
			streamSizes: []int{1, 5}, streamTokens: 10,
			rssUsers: []int{0, 5}, rssTokens: 20,
			loadUsers: 5, loadDur: 2 * time.Second, readyRuns: 1, unaryTokens: 8, settle: 500 * time.Millisecond, warmUp: 300 * time.Millisecond,
		}
	}
	return plan{
		runs: opts.runs, rates: []float64{100, 500, 1000}, rateDur: 5 * time.Second,
		maxRateSteps: []float64{100, 200, 300, 400, 500, 750, 1000, 1500, 2000, 3000}, maxRateDur: 2 * time.Second,
		proxyDur: 4 * time.Second, proxyWorkers: 32,
		streamSizes: []int{1, 100, 500}, streamTokens: 50,
		rssUsers: []int{0, 100, 1000}, rssTokens: 150,
		loadUsers: 200, loadDur: 60 * time.Second, readyRuns: 5, unaryTokens: 16, settle: 3 * time.Second, warmUp: time.Second,
	}
}

// runEndToEnd starts the stack and measures every end-to-end figure.
func runEndToEnd(ctx context.Context, root, dir string, opts options) (*e2eResult, error) {
	p := newPlan(opts)
	e := &e2eResult{ready: map[string][]time.Duration{}, plan: p}
	bins, err := bench.BuildBinaries(ctx, root, dir)
	if err != nil {
		return e, err
	}
	stack, err := bench.StartStack(ctx, bins, dir, 0)
	if err != nil {
		return e, err
	}
	defer func() {
		if stack != nil {
			_ = stack.Stop()
		}
	}()

	// Start-to-ready: restart each server process a few times (they keep their addresses).
	// The first time, the services and the BFF are ended with SIGQUIT instead: the goroutine
	// count of a process at rest is the reference of the load test's leak check.
	e.idleGoroutines = map[string]int{}
	for i := range p.readyRuns {
		for _, pp := range []**bench.Proc{&stack.IdP, &stack.AWS, &stack.Services, &stack.BFF} {
			old := *pp
			var np *bench.Proc
			var err error
			if i == 0 && (old == stack.Services || old == stack.BFF) {
				n, gerr := old.Goroutines()
				if gerr != nil {
					e.note("goroutines of %s at rest: %v", old.Name, gerr)
				}
				e.idleGoroutines[old.Name] = n
				np, err = old.Respawn(ctx)
			} else {
				np, err = old.Restart(ctx)
			}
			if err != nil {
				return e, fmt.Errorf("restart %s: %w", old.Name, err)
			}
			*pp = np
			e.ready[np.Name] = append(e.ready[np.Name], np.Ready)
		}
	}

	token, err := bench.MachineToken(ctx, stack.IdP.URL)
	if err != nil {
		return e, err
	}
	transport := bench.NewTransport()
	maxUsers := max(p.loadUsers, p.rssUsers[len(p.rssUsers)-1], 1)
	logf("signing in %d users through the BFF and the dev IdP form", maxUsers)
	browsers, took, err := signIn(ctx, stack.BFF.URL, transport, maxUsers)
	if err != nil {
		return e, err
	}
	e.signIns, e.signInDur = len(browsers), took
	first := browsers[0]

	bffInf := bench.NewInference(first.HTTPClient(), stack.BFF.URL+"/api", true)
	direct := bench.NewBedrock(stack.AWS.URL)
	svcHTTP := &http.Client{Transport: bench.Bearer{Token: token, Base: bench.H2CTransport()}}
	svcIdentity := bench.NewIdentity(svcHTTP, stack.Services.URL, false)
	bffIdentity := bench.NewIdentity(first.HTTPClient(), stack.BFF.URL+"/api", true)

	// Which route can be measured: Converse end to end, or GetMe (BFF → services) when this
	// build has no InferenceService.
	inference := true
	if err := bffInf.Available(ctx); err != nil {
		inference = false
		e.note("InferenceService did not answer through the BFF (%v): the unary figures use IdentityService.GetMe (BFF → services) with the services called directly as baseline, and the streaming, RSS-under-streams and load figures are not measured", err)
	}
	var bffCall, directCall bench.Call
	if inference {
		e.route, e.baseline = "InferenceService.Converse (max 16 tokens) through BFF → services → local AWS", "the AWS SDK's Converse against the local AWS endpoint directly"
		bffCall = func(ctx context.Context) error { return bffInf.Converse(ctx, p.unaryTokens) }
		directCall = func(ctx context.Context) error { return direct.Converse(ctx, p.unaryTokens) }
	} else {
		e.route, e.baseline = "IdentityService.GetMe through BFF → services", "GetMe on the services directly (machine token, h2c)"
		bffCall = bffIdentity.GetMe
		directCall = svcIdentity.GetMe
	}

	// Idle memory (0 users) before any load.
	idle := rssRow{users: 0}
	if err := sampleRSS(stack, &idle); err != nil {
		e.note("RSS: %v", err)
	}

	// Warm-up: connections, caches, JIT-free but allocator-warm.
	bench.Constant(ctx, 200, p.warmUp, 1000, 10*time.Second, bffCall)
	bench.Constant(ctx, 200, p.warmUp, 1000, 10*time.Second, directCall)

	logf("unary at fixed rates (%d runs)", p.runs)
	for _, rate := range p.rates {
		row := unaryRow{rate: rate}
		for range p.runs {
			d := bench.Constant(ctx, rate, p.rateDur, 2000, 10*time.Second, directCall)
			b := bench.Constant(ctx, rate, p.rateDur, 2000, 10*time.Second, bffCall)
			row.directP50 = append(row.directP50, d.P(0.5))
			row.directP99 = append(row.directP99, d.P(0.99))
			row.bffP50 = append(row.bffP50, b.P(0.5))
			row.bffP99 = append(row.bffP99, b.P(0.99))
			row.addedP50 = append(row.addedP50, b.P(0.5)-d.P(0.5))
			row.addedP99 = append(row.addedP99, b.P(0.99)-d.P(0.99))
			row.directAchieved = append(row.directAchieved, d.Achieved())
			row.bffAchieved = append(row.bffAchieved, b.Achieved())
			row.directErrors += d.Errors
			row.bffErrors += b.Errors
			row.directDropped += d.Dropped
			row.bffDropped += b.Dropped
			if row.directFirstErr == nil {
				row.directFirstErr = d.FirstErr
			}
			if row.bffFirstErr == nil {
				row.bffFirstErr = b.FirstErr
			}
		}
		if row.bffErrors+row.directErrors > 0 {
			e.note("unary at %v/s: first BFF error %v; first baseline error %v", rate, row.bffFirstErr, row.directFirstErr)
			e.smokeErrs = append(e.smokeErrs, fmt.Sprintf("unary at %v/s: %d BFF errors (%v), %d direct errors (%v)", rate, row.bffErrors, row.bffFirstErr, row.directErrors, row.directFirstErr))
		}
		e.unary = append(e.unary, row)
	}

	if len(p.maxRateSteps) > 0 {
		logf("highest sustainable unary rate")
		m := &maxRateRow{}
		for range p.runs {
			m.bff = append(m.bff, maxSustainable(ctx, p, bffCall))
			m.direct = append(m.direct, maxSustainable(ctx, p, directCall))
		}
		e.maxRate = m
	}

	if len(p.maxRateSteps) > 0 {
		// What each process spends per request, at a rate the chain sustains: what bounds the
		// highest sustainable rate on two cores.
		logf("CPU per request")
		c := &cpuRow{rate: 300}
		for range p.runs {
			chain, err := cpuPerRequest(ctx, c.rate, 4*time.Second, bffCall, stack.Services, stack.BFF, stack.AWS)
			if err != nil {
				e.note("CPU per request through the chain: %v", err)
				break
			}
			direct, err := cpuPerRequest(ctx, c.rate, 4*time.Second, directCall, stack.AWS)
			if err != nil {
				e.note("CPU per request of the direct call: %v", err)
				break
			}
			c.services, c.bff, c.aws, c.gen = append(c.services, chain[0]), append(c.bff, chain[1]), append(c.aws, chain[2]), append(c.gen, chain[3])
			c.directAWS, c.directGen = append(c.directAWS, direct[0]), append(c.directGen, direct[1])
		}
		if len(c.services) > 0 {
			e.cpu = c
		}
	}

	logf("BFF vs a bare reverse proxy")
	bareURL, stopBare, err := startBareProxy(ctx, stack.Services.URL, token)
	if err != nil {
		return e, err
	}
	defer stopBare()
	plainHTTP := &http.Client{Transport: bench.NewTransport()}
	routes := []struct {
		name      string
		bff, bare bench.Call
	}{{
		name: "IdentityService.GetMe",
		bff:  bffIdentity.GetMe,
		bare: bench.NewIdentity(plainHTTP, bareURL+"/api", true).GetMe,
	}}
	if inference {
		bareInf := bench.NewInference(plainHTTP, bareURL+"/api", true)
		routes = append(routes, struct {
			name      string
			bff, bare bench.Call
		}{
			name: "InferenceService.Converse (max 16 tokens, local AWS unpaced)",
			bff:  func(ctx context.Context) error { return bffInf.Converse(ctx, p.unaryTokens) },
			bare: func(ctx context.Context) error { return bareInf.Converse(ctx, p.unaryTokens) },
		})
	}
	for _, rt := range routes {
		row := proxyRow{route: rt.name}
		for i := range p.runs {
			// The two alternate which goes first, so that a machine warming up or cooling
			// down during the comparison favours neither.
			var bare, bff float64
			var bareErrs, bffErrs int
			var err1, err2 error
			if i%2 == 0 {
				bare, bareErrs, err1 = bench.Throughput(ctx, p.proxyWorkers, p.proxyDur, 10*time.Second, rt.bare)
				bff, bffErrs, err2 = bench.Throughput(ctx, p.proxyWorkers, p.proxyDur, 10*time.Second, rt.bff)
			} else {
				bff, bffErrs, err2 = bench.Throughput(ctx, p.proxyWorkers, p.proxyDur, 10*time.Second, rt.bff)
				bare, bareErrs, err1 = bench.Throughput(ctx, p.proxyWorkers, p.proxyDur, 10*time.Second, rt.bare)
			}
			row.bare, row.bff = append(row.bare, bare), append(row.bff, bff)
			if bare > 0 {
				row.ratio = append(row.ratio, bff/bare)
			}
			row.bareErrs += bareErrs
			row.bffErrs += bffErrs
			if row.firstErr == nil {
				row.firstErr = errors.Join(err1, err2)
			}
		}
		if row.bareErrs+row.bffErrs > 0 {
			e.note("proxy comparison %s: first error %v", rt.name, row.firstErr)
			e.smokeErrs = append(e.smokeErrs, fmt.Sprintf("proxy comparison %s: %d BFF errors, %d bare errors (%v)", rt.name, row.bffErrs, row.bareErrs, row.firstErr))
		}
		e.proxies = append(e.proxies, row)
	}

	if !inference {
		e.rss = append(e.rss, idle)
		e.smokeErrs = append(e.smokeErrs, "InferenceService unavailable")
		return e, nil
	}

	logf("streaming at 50 tokens/s")
	if err := stack.RestartAWS(ctx, 50); err != nil {
		return e, err
	}
	direct = bench.NewBedrock(stack.AWS.URL)
	everyone := browserInference(browsers, stack)
	svcInf := bench.NewInference(svcHTTP, stack.Services.URL, false)
	svcV1 := bench.NewOpenAI(svcHTTP, stack.Services.URL+"/v1")
	for _, n := range p.streamSizes {
		row := streamRow{n: n}
		for range p.runs {
			d, dCPU, dErr := bench.StreamsCPU(ctx, n, time.Minute, func(ctx context.Context, on func()) error {
				return direct.ConverseStream(ctx, p.streamTokens, on)
			}, stack.AWS)
			b, bCPU, bErr := bench.StreamsCPU(ctx, n, time.Minute, func(ctx context.Context, on func()) error {
				return everyone.next().ConverseStream(ctx, p.streamTokens, on)
			}, stack.Services, stack.BFF, stack.AWS)
			if err := errors.Join(dErr, bErr); err != nil {
				e.note("CPU of a burst of %d streams: %v", n, err)
			} else {
				row.directCPU, row.bffCPU = append(row.directCPU, dCPU), append(row.bffCPU, bCPU)
			}
			sv := bench.Streams(ctx, n, time.Minute, func(ctx context.Context, on func()) error {
				return svcInf.ConverseStream(ctx, p.streamTokens, on)
			}, nil)
			v1 := bench.Streams(ctx, n, time.Minute, func(ctx context.Context, on func()) error {
				return svcV1.ChatStream(ctx, p.streamTokens, on)
			}, nil)
			row.v1TTFT50 = append(row.v1TTFT50, bench.Percentile(v1.TTFT, 0.5))
			row.v1TTFT99 = append(row.v1TTFT99, bench.Percentile(v1.TTFT, 0.99))
			row.v1Errs += v1.Errors
			row.svcTTFT50 = append(row.svcTTFT50, bench.Percentile(sv.TTFT, 0.5))
			row.svcTTFT99 = append(row.svcTTFT99, bench.Percentile(sv.TTFT, 0.99))
			row.svcErrs += sv.Errors
			row.directTTFT50 = append(row.directTTFT50, bench.Percentile(d.TTFT, 0.5))
			row.directTTFT99 = append(row.directTTFT99, bench.Percentile(d.TTFT, 0.99))
			row.bffTTFT50 = append(row.bffTTFT50, bench.Percentile(b.TTFT, 0.5))
			row.bffTTFT99 = append(row.bffTTFT99, bench.Percentile(b.TTFT, 0.99))
			row.directGap50 = append(row.directGap50, bench.Percentile(d.Gaps, 0.5))
			row.directGap99 = append(row.directGap99, bench.Percentile(d.Gaps, 0.99))
			row.bffGap50 = append(row.bffGap50, bench.Percentile(b.Gaps, 0.5))
			row.bffGap99 = append(row.bffGap99, bench.Percentile(b.Gaps, 0.99))
			row.addedTTFT50 = append(row.addedTTFT50, bench.Percentile(b.TTFT, 0.5)-bench.Percentile(d.TTFT, 0.5))
			row.addedTTFT99 = append(row.addedTTFT99, bench.Percentile(b.TTFT, 0.99)-bench.Percentile(d.TTFT, 0.99))
			row.addedGap50 = append(row.addedGap50, bench.Percentile(b.Gaps, 0.5)-bench.Percentile(d.Gaps, 0.5))
			row.addedGap99 = append(row.addedGap99, bench.Percentile(b.Gaps, 0.99)-bench.Percentile(d.Gaps, 0.99))
			row.directErrs += d.Errors
			row.bffErrs += b.Errors
			if row.firstErr == nil {
				row.firstErr = errors.Join(d.FirstErr, b.FirstErr, sv.FirstErr, v1.FirstErr)
			}
		}
		if row.directErrs+row.bffErrs+row.svcErrs+row.v1Errs > 0 {
			e.note("%d streams: first error %v", n, row.firstErr)
			e.smokeErrs = append(e.smokeErrs, fmt.Sprintf("%d streams: %d BFF errors, %d direct errors, %d services errors, %d /v1 errors (%v)", n, row.bffErrs, row.directErrs, row.svcErrs, row.v1Errs, row.firstErr))
		}
		e.streams = append(e.streams, row)
	}

	logf("memory under concurrent streaming users")
	for _, users := range p.rssUsers {
		if users == 0 {
			e.rss = append(e.rss, idle)
			continue
		}
		row := rssRow{users: users}
		for range p.runs {
			users := users
			pick := browserInference(browsers[:users], stack)
			var sampleErr error
			res := bench.Streams(ctx, users, 2*time.Minute, func(ctx context.Context, on func()) error {
				return pick.next().ConverseStream(ctx, p.rssTokens, on)
			}, func() { sampleErr = sampleRSS(stack, &row) })
			if sampleErr != nil {
				e.note("RSS at %d users: %v", users, sampleErr)
			}
			row.errs += res.Errors
			if row.firstErr == nil {
				row.firstErr = res.FirstErr
			}
		}
		if row.errs > 0 {
			e.note("RSS at %d users: first stream error %v", users, row.firstErr)
			e.smokeErrs = append(e.smokeErrs, fmt.Sprintf("RSS at %d users: %d stream errors (%v)", users, row.errs, row.firstErr))
		}
		e.rss = append(e.rss, row)
	}

	if !opts.skipped("load") {
		logf("load test: %d streaming users for %s", p.loadUsers, p.loadDur)
		lr := runLoad(ctx, stack, browsers[:p.loadUsers], transport, p)
		lr.idleBFFGoroutines, lr.idleSvcGoroutines = e.idleGoroutines["bff"], e.idleGoroutines["services"]
		dbPath := stack.DBPath
		e.load = lr
		// Goroutines left after the run: the BFF and the services end with a SIGQUIT stack
		// dump. Every stream has ended and settled by now (the settle pause), and the ledger is
		// read from the file afterwards.
		var gerr1, gerr2 error
		lr.bffGoroutines, gerr1 = stack.BFF.Goroutines()
		lr.svcGoroutines, gerr2 = stack.Services.Goroutines()
		if err := errors.Join(gerr1, gerr2); err != nil {
			lr.snapErr = errors.Join(lr.snapErr, err)
		}
		stack.BFF, stack.Services = nil, nil
		err := stack.Stop()
		stack = nil
		if err != nil {
			e.note("stopping the stack: %v", err)
		}
		lr.ledger, lr.ledgerErr = bench.CheckLedger(ctx, dbPath)
		// The smoke run is too short to judge growth: it fails on errors and on the books only.
		if problems := lr.failures(!opts.smoke); problems != "" {
			e.smokeErrs = append(e.smokeErrs, "load test: "+problems)
		}
	}
	return e, nil
}

// sampleRSS adds the BFF's and the services' RSS, sampled five times over half a second
// (the highest sample), to row.
func sampleRSS(stack *bench.Stack, row *rssRow) error {
	var hb, hs int64
	for i := range 5 {
		if i > 0 {
			time.Sleep(100 * time.Millisecond)
		}
		b, err := stack.BFF.RSS()
		if err != nil {
			return err
		}
		s, err := stack.Services.RSS()
		if err != nil {
			return err
		}
		hb, hs = max(hb, b), max(hs, s)
	}
	row.bff = append(row.bff, hb)
	row.services = append(row.services, hs)
	return nil
}

// maxSustainable steps the rate up until a step fails (an error, a dropped request, less
// than 95 % of the rate achieved, or p99 above 100 ms) and returns the last passing step.
func maxSustainable(ctx context.Context, p plan, call bench.Call) float64 {
	best := 0.0
	for _, rate := range p.maxRateSteps {
		r := bench.Constant(ctx, rate, p.maxRateDur, 4000, 10*time.Second, call)
		if !r.OK() || r.Achieved() < 0.95*rate || r.P(0.99) > 100*time.Millisecond {
			break
		}
		best = rate
	}
	return best
}

// startBareProxy serves a bare httputil.ReverseProxy on a free loopback port: /api/X is
// forwarded to the services' /X over h2c with the machine token, nothing else.
func startBareProxy(ctx context.Context, servicesURL, token string) (string, func(), error) {
	up, err := url.Parse(servicesURL)
	if err != nil {
		return "", nil, err
	}
	rp := &httputil.ReverseProxy{
		Transport:     bench.H2CTransport(),
		FlushInterval: -1,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(up)
			pr.Out.URL.Path = strings.TrimPrefix(pr.In.URL.Path, "/api")
			pr.Out.URL.RawPath = ""
			pr.Out.Header.Set("Authorization", "Bearer "+token)
		},
	}
	addr, err := bench.FreeAddr(ctx)
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Addr: addr, Handler: rp, ReadHeaderTimeout: 10 * time.Second}
	ln, err := listen(ctx, addr)
	if err != nil {
		return "", nil, err
	}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + addr, func() { _ = srv.Close() }, nil
}

// signIn signs n browsers in as alice through the BFF, four at a time.
func signIn(ctx context.Context, bffURL string, transport http.RoundTripper, n int) ([]*bench.Browser, time.Duration, error) {
	start := time.Now()
	browsers := make([]*bench.Browser, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			b := bench.NewBrowser(bffURL, transport)
			errs[i] = b.SignIn(ctx, "alice")
			browsers[i] = b
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, 0, err
	}
	return browsers, time.Since(start), nil
}

// roundRobin hands out one Inference client per browser in turn.
type roundRobin struct {
	mu      sync.Mutex
	i       int
	clients []*bench.Inference
}

func (r *roundRobin) next() *bench.Inference {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.clients[r.i%len(r.clients)]
	r.i++
	return c
}

func browserInference(browsers []*bench.Browser, stack *bench.Stack) *roundRobin {
	r := &roundRobin{}
	for _, b := range browsers {
		r.clients = append(r.clients, bench.NewInference(b.HTTPClient(), stack.BFF.URL+"/api", true))
	}
	return r
}

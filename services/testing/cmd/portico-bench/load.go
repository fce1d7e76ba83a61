package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/portico-dev/portico/services/testing/bench"
)

// snapshot is the state of the BFF and services processes at one moment.
type snapshot struct {
	bffRSS, svcRSS         int64
	bffFDs, svcFDs         int
	bffThreads, svcThreads int
}

func takeSnapshot(stack *bench.Stack) (snapshot, error) {
	var s snapshot
	var err error
	if s.bffRSS, err = stack.BFF.RSS(); err != nil {
		return s, err
	}
	if s.svcRSS, err = stack.Services.RSS(); err != nil {
		return s, err
	}
	if s.bffFDs, err = stack.BFF.FDs(); err != nil {
		return s, err
	}
	if s.svcFDs, err = stack.Services.FDs(); err != nil {
		return s, err
	}
	if s.bffThreads, err = stack.BFF.Threads(); err != nil {
		return s, err
	}
	s.svcThreads, err = stack.Services.Threads()
	return s, err
}

// loadResult is the outcome of the load test.
type loadResult struct {
	users            int
	dur              time.Duration
	streams, errs    int
	chunks           int
	firstErr         error
	ttft, gaps       []time.Duration
	before, after    snapshot
	peakBFF, peakSvc int64
	snapErr          error
	ledger           bench.LedgerCheck
	// Goroutines of a fresh process at rest and after the run (SIGQUIT stack dumps).
	idleBFFGoroutines, idleSvcGoroutines int
	bffGoroutines, svcGoroutines         int
	ledgerErr                            error
}

// Growth limits after the run, against the state after the warm-up: memory may not grow
// more than 20 % + 8 MiB (the Go heap is sized by the peak and returned lazily), open files
// by more than 8, threads by more than 4.
const (
	growthRSSFactor = 1.2
	growthRSSSlack  = 8 << 20
	growthFDs       = 8
	growthThreads   = 4
)

func (l *loadResult) grew() []string {
	var out []string
	check := func(name string, before, after int64) {
		if float64(after) > float64(before)*growthRSSFactor+growthRSSSlack {
			out = append(out, fmt.Sprintf("%s RSS grew from %s to %s", name, mib(before), mib(after)))
		}
	}
	check("BFF", l.before.bffRSS, l.after.bffRSS)
	check("services", l.before.svcRSS, l.after.svcRSS)
	if l.after.bffFDs > l.before.bffFDs+growthFDs || l.after.svcFDs > l.before.svcFDs+growthFDs {
		out = append(out, fmt.Sprintf("open files grew: BFF %d → %d, services %d → %d", l.before.bffFDs, l.after.bffFDs, l.before.svcFDs, l.after.svcFDs))
	}
	// Each socket still open explains at most two goroutines (net/http's read and write
	// loops); anything beyond is left over from the run's thousands of requests.
	if l.bffGoroutines > l.idleBFFGoroutines+2*l.after.bffFDs || l.svcGoroutines > l.idleSvcGoroutines+2*l.after.svcFDs {
		out = append(out, fmt.Sprintf("goroutines left: BFF %d (at rest %d, %d open files), services %d (at rest %d, %d open files)",
			l.bffGoroutines, l.idleBFFGoroutines, l.after.bffFDs, l.svcGoroutines, l.idleSvcGoroutines, l.after.svcFDs))
	}
	if l.after.bffThreads > l.before.bffThreads+growthThreads || l.after.svcThreads > l.before.svcThreads+growthThreads {
		out = append(out, fmt.Sprintf("threads grew: BFF %d → %d, services %d → %d", l.before.bffThreads, l.after.bffThreads, l.before.svcThreads, l.after.svcThreads))
	}
	return out
}

func (l *loadResult) holds() bool { return l.problems() == "" }

func (l *loadResult) problems() string { return l.failures(true) }

// failures describes what went wrong: errors, unreadable process state, the books, and
// when growth is true, any growth past the limits.
func (l *loadResult) failures(growth bool) string {
	var p []string
	if l.streams == 0 {
		p = append(p, "no stream completed")
	}
	if l.errs > 0 {
		p = append(p, fmt.Sprintf("%d errors (first: %v)", l.errs, l.firstErr))
	}
	if l.snapErr != nil {
		p = append(p, fmt.Sprintf("process state: %v", l.snapErr))
	}
	if growth {
		p = append(p, l.grew()...)
	}
	switch {
	case l.ledgerErr != nil:
		p = append(p, fmt.Sprintf("ledger check: %v", l.ledgerErr))
	case !l.ledger.OK():
		p = append(p, fmt.Sprintf("ledger check: %d counters, %d mismatches %v, %d reservations in flight, %d reserved",
			l.ledger.Counters, len(l.ledger.Mismatches), l.ledger.Mismatches, l.ledger.InFlight, l.ledger.Reserved))
	}
	return strings.Join(p, "; ")
}

// runLoad runs users streaming users through the BFF for p.loadDur, each starting its next
// stream when the last one ends, after a warm-up of the same shape.
func runLoad(ctx context.Context, stack *bench.Stack, browsers []*bench.Browser, transport *http.Transport, p plan) *loadResult {
	lr := &loadResult{users: len(browsers), dur: p.loadDur}
	clients := make([]*bench.Inference, len(browsers))
	for i, b := range browsers {
		clients[i] = bench.NewInference(b.HTTPClient(), stack.BFF.URL+"/api", true)
	}
	loop := func(d time.Duration, record bool) {
		deadline := time.Now().Add(d)
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, c := range clients {
			wg.Go(func() {
				for time.Now().Before(deadline) && ctx.Err() == nil {
					begin := time.Now()
					last := begin
					var ttft time.Duration
					var gaps []time.Duration
					n := 0
					cctx, cancel := context.WithTimeout(ctx, time.Minute)
					err := c.ConverseStream(cctx, p.streamTokens, func() {
						now := time.Now()
						if n == 0 {
							ttft = now.Sub(begin)
						} else {
							gaps = append(gaps, now.Sub(last))
						}
						last = now
						n++
					})
					cancel()
					if !record {
						continue
					}
					mu.Lock()
					lr.streams++
					lr.chunks += n
					if err != nil {
						lr.errs++
						if lr.firstErr == nil {
							lr.firstErr = err
						}
					} else {
						lr.ttft = append(lr.ttft, ttft)
						lr.gaps = append(lr.gaps, gaps...)
					}
					mu.Unlock()
				}
			})
		}
		if record {
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for {
				select {
				case <-done:
					return
				case <-tick.C:
					if b, err := stack.BFF.RSS(); err == nil {
						lr.peakBFF = max(lr.peakBFF, b)
					}
					if s, err := stack.Services.RSS(); err == nil {
						lr.peakSvc = max(lr.peakSvc, s)
					}
				}
			}
		}
		wg.Wait()
	}
	settle := func() {
		transport.CloseIdleConnections()
		time.Sleep(p.settle)
	}
	loop(min(10*time.Second, p.loadDur/4), false)
	settle()
	var err error
	if lr.before, err = takeSnapshot(stack); err != nil {
		lr.snapErr = err
	}
	loop(p.loadDur, true)
	settle()
	if lr.after, err = takeSnapshot(stack); err != nil {
		lr.snapErr = err
	}
	slices.Sort(lr.ttft)
	slices.Sort(lr.gaps)
	return lr
}

func listen(ctx context.Context, addr string) (net.Listener, error) {
	var lc net.ListenConfig
	return lc.Listen(ctx, "tcp", addr)
}

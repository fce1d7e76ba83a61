package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// StreamCall runs one server-streaming call, calling onChunk as each content message
// arrives, and returns when the stream ends.
type StreamCall func(ctx context.Context, onChunk func()) error

// StreamResult is the outcome of a set of concurrent streams.
type StreamResult struct {
	// Streams is the number of streams started; Errors of them failed.
	Streams, Errors int
	// FirstErr is the first error seen.
	FirstErr error
	// TTFT are the successful streams' times from the call to the first content message, sorted.
	TTFT []time.Duration
	// Gaps are the times between consecutive content messages of every successful stream, sorted.
	Gaps []time.Duration
	// Chunks is the number of content messages received.
	Chunks int
}

// Streams starts n streams at once (each with its own goroutine, released together) and
// waits for all of them. Each call gets a context bounded by timeout. When during is not nil
// it runs once every stream has started and while they are all still open, as far as the
// timing allows (the memory probe of the RSS figures).
func Streams(ctx context.Context, n int, timeout time.Duration, call StreamCall, during func()) StreamResult {
	return streams(ctx, n, timeout, call, during, nil, nil)
}

// BurstCPU is the CPU time processes used from the release of a burst of streams until
// half of the streams had their first content message: while the burst starts, how busy
// the machine was.
type BurstCPU struct {
	// Window is the time from the release to the median stream's first message.
	Window time.Duration
	// CPU is each process's CPU time in the window, in the order given, then this
	// process's (the load generator's).
	CPU []time.Duration
}

// Total returns the CPU time of all the processes in the window.
func (b BurstCPU) Total() time.Duration {
	var t time.Duration
	for _, c := range b.CPU {
		t += c
	}
	return t
}

// Utilisation returns Total as a share of what cores could give in the window.
func (b BurstCPU) Utilisation(cores int) float64 {
	if b.Window <= 0 || cores <= 0 {
		return 0
	}
	return float64(b.Total()) / (float64(b.Window) * float64(cores))
}

// StreamsCPU is Streams (without during), also measuring BurstCPU over procs (CPUTimeOf
// each, and SelfCPUTime).
func StreamsCPU(ctx context.Context, n int, timeout time.Duration, call StreamCall, procs ...*Proc) (StreamResult, BurstCPU, error) {
	var (
		before, after []time.Duration
		start, median time.Time
		errBefore     error
		errAfter      error
	)
	release := func() {
		before, errBefore = CPUTimes(procs...)
		start = time.Now()
	}
	halfway := func() {
		median = time.Now()
		after, errAfter = CPUTimes(procs...)
	}
	res := streams(ctx, n, timeout, call, nil, release, halfway)
	if err := errors.Join(errBefore, errAfter); err != nil {
		return res, BurstCPU{}, err
	}
	if after == nil {
		return res, BurstCPU{}, fmt.Errorf("fewer than half of %d streams had a first message", n)
	}
	b := BurstCPU{Window: median.Sub(start), CPU: make([]time.Duration, len(after))}
	for i := range after {
		b.CPU[i] = after[i] - before[i]
	}
	return res, b, nil
}

// streams is Streams with two more hooks: atRelease runs just before the streams are
// released, atHalf when the ⌈n/2⌉th stream receives its first message (on that stream's
// goroutine, which waits for it).
func streams(ctx context.Context, n int, timeout time.Duration, call StreamCall, during, atRelease, atHalf func()) StreamResult {
	res := StreamResult{Streams: n}
	var firsts atomic.Int64
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		started sync.WaitGroup
	)
	gate := make(chan struct{})
	started.Add(n)
	for range n {
		wg.Go(func() {
			<-gate
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			begin := time.Now()
			last := begin
			var ttft time.Duration
			var gaps []time.Duration
			first := true
			once := sync.Once{}
			err := call(cctx, func() {
				once.Do(started.Done)
				now := time.Now()
				if first {
					ttft, first = now.Sub(begin), false
					if firsts.Add(1) == int64((n+1)/2) && atHalf != nil {
						atHalf()
					}
				} else {
					gaps = append(gaps, now.Sub(last))
				}
				last = now
			})
			once.Do(started.Done)
			mu.Lock()
			defer mu.Unlock()
			res.Chunks += len(gaps)
			if !first {
				res.Chunks++
			}
			if err == nil && first {
				err = errNoChunk
			}
			if err != nil {
				res.Errors++
				if res.FirstErr == nil {
					res.FirstErr = err
				}
				return
			}
			res.TTFT = append(res.TTFT, ttft)
			res.Gaps = append(res.Gaps, gaps...)
		})
	}
	if atRelease != nil {
		atRelease()
	}
	close(gate)
	if during != nil {
		started.Wait()
		during()
	}
	wg.Wait()
	slices.Sort(res.TTFT)
	slices.Sort(res.Gaps)
	return res
}

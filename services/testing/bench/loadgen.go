package bench

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Call is one request of a load run. It returns when the answer is complete.
type Call func(ctx context.Context) error

// RateResult is the outcome of a constant-rate run.
type RateResult struct {
	// Rate is the target rate in requests per second.
	Rate float64
	// Sent is the number of requests scheduled; Errors of them failed and Dropped were not
	// sent because MaxInFlight calls were already outstanding (the target could not keep up).
	Sent, Errors, Dropped int
	// FirstErr is the first error seen.
	FirstErr error
	// Elapsed runs from the first scheduled request to the last answer.
	Elapsed time.Duration
	// Latencies are the successful calls' latencies, sorted, measured from each request's
	// scheduled start (so a stalled generator counts against the target, not for it).
	Latencies []time.Duration
}

// P returns the q-quantile of the successful calls' latencies.
func (r RateResult) P(q float64) time.Duration { return Percentile(r.Latencies, q) }

// Achieved returns the rate of successful calls over the run, in requests per second.
func (r RateResult) Achieved() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(len(r.Latencies)) / r.Elapsed.Seconds()
}

// OK reports whether every scheduled request was sent and succeeded.
func (r RateResult) OK() bool { return r.Errors == 0 && r.Dropped == 0 }

// Constant drives call open-loop at rate requests per second for d: requests start on
// schedule whether or not earlier ones have answered, up to maxInFlight outstanding calls
// (beyond that a scheduled request is dropped and counted). Each call gets a context bounded
// by timeout.
func Constant(ctx context.Context, rate float64, d time.Duration, maxInFlight int, timeout time.Duration, call Call) RateResult {
	res := RateResult{Rate: rate}
	total := int(rate * d.Seconds())
	interval := time.Duration(float64(time.Second) / rate)
	lat := make([]time.Duration, 0, total)
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		sem = make(chan struct{}, maxInFlight)
	)
	start := time.Now()
	for i := range total {
		due := start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
		}
		if ctx.Err() != nil {
			break
		}
		res.Sent++
		select {
		case sem <- struct{}{}:
		default:
			res.Dropped++
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			cctx, cancel := context.WithTimeout(ctx, timeout)
			err := call(cctx)
			cancel()
			took := time.Since(due)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.Errors++
				if res.FirstErr == nil {
					res.FirstErr = err
				}
				return
			}
			lat = append(lat, took)
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	slices.Sort(lat)
	res.Latencies = lat
	return res
}

// Throughput runs call in a closed loop from workers goroutines for d and returns the
// successful calls per second and the number of errors.
func Throughput(ctx context.Context, workers int, d time.Duration, timeout time.Duration, call Call) (perSecond float64, errs int, firstErr error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		mu sync.Mutex
		ok int
		wg sync.WaitGroup
	)
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
				err := call(cctx)
				ccancel()
				mu.Lock()
				switch {
				case err == nil:
					ok++
				case ctx.Err() == nil:
					errs++
					if firstErr == nil {
						firstErr = err
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return float64(ok) / time.Since(start).Seconds(), errs, firstErr
}

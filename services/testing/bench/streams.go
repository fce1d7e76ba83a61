package bench

import (
	"context"
	"slices"
	"sync"
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
	res := StreamResult{Streams: n}
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

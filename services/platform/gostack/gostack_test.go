package gostack_test

import (
	"runtime"
	"runtime/debug"
	"sync"
	"testing"

	"github.com/portico-dev/portico/services/platform/gostack"
)

// TestGrow checks that goroutines that called Grow hold stacks of Bytes each: 64 of them,
// parked, take at least 64 × 3/4 Bytes more stack memory than before (at a 2 KiB start they
// would take 128 KiB). The collector is off meanwhile, as it shrinks the stacks of parked
// goroutines that use little of them; so this test is not parallel.
func TestGrow(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	const n = 64
	before := stackInuse()
	var ready, done sync.WaitGroup
	release := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for range n {
		go func() {
			defer done.Done()
			gostack.Grow()
			ready.Done()
			<-release
		}()
	}
	ready.Wait()
	grown := stackInuse() - before
	close(release)
	done.Wait()
	if want := uint64(n * gostack.Bytes * 3 / 4); grown < want {
		t.Errorf("%d goroutines after Grow hold %d more bytes of stack, want at least %d", n, grown, want)
	}
}

// TestGrowAllocatesNothing checks that the buffer stays on the stack (AllocsPerRun may not
// run in a parallel test).
func TestGrowAllocatesNothing(t *testing.T) {
	if n := testing.AllocsPerRun(100, gostack.Grow); n != 0 {
		t.Errorf("Grow allocated %v times per call, want 0 (the buffer must stay on the stack)", n)
	}
}

func stackInuse() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.StackInuse
}

// BenchmarkDeepGoroutine runs goroutines that use about 40 KiB of stack, as a request does,
// with their stacks grown as they go and grown at once by Grow.
func BenchmarkDeepGoroutine(b *testing.B) {
	for _, bc := range []struct {
		name string
		grow bool
	}{{"on-demand", false}, {"grow", true}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				done := make(chan int)
				go func() {
					if bc.grow {
						gostack.Grow()
					}
					done <- deep(40)
				}()
				<-done
			}
		})
	}
}

// deep recurses n times through frames of about 1 KiB.
//
//go:noinline
func deep(n int) int {
	var pad [1000]byte
	pad[n%len(pad)] = byte(n)
	if n == 0 {
		return int(pad[0])
	}
	return deep(n-1) + int(pad[(n+1)%len(pad)])
}

package bench

import (
	"context"
	"os"
	"testing"
	"time"
)

// TestCPUTimeOf reads this process's own CPU time from /proc while it spins: the figure
// grows (within ten seconds however busy the machine is), and getrusage reports some too.
func TestCPUTimeOf(t *testing.T) {
	t.Parallel()
	before, err := CPUTimeOf(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	after := before
	for after <= before && time.Now().Before(deadline) {
		for x := 0; x < 1_000_000; x++ {
			_ = x * x
		}
		if after, err = CPUTimeOf(os.Getpid()); err != nil {
			t.Fatal(err)
		}
	}
	if after <= before {
		t.Fatalf("CPU time stayed %v while spinning for ten seconds", before)
	}
	if self, err := SelfCPUTime(); err != nil || self <= 0 {
		t.Fatalf("SelfCPUTime = %v, %v", self, err)
	}
	if ticks, err := statTime(os.Getpid()); err != nil || ticks > after+time.Second {
		t.Errorf("statTime = %v, %v; schedstat said %v", ticks, err, after)
	}
	if _, err := CPUTimeOf(-1); err == nil {
		t.Error("CPUTimeOf(-1) = nil error")
	}
}

// TestStreamsCPU measures the CPU a burst of streams uses before half of them have a first
// message: streams that spin first show some (the load generator's, this process), and a
// burst where no stream gets a message is an error.
func TestStreamsCPU(t *testing.T) {
	t.Parallel()
	spin := func(ctx context.Context, on func()) error {
		start, err := SelfCPUTime()
		if err != nil {
			return err
		}
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
			for x := 0; x < 100_000; x++ {
				_ = x * x
			}
			if now, _ := SelfCPUTime(); now-start >= 20*time.Millisecond {
				break
			}
		}
		on()
		return nil
	}
	res, b, err := StreamsCPU(context.Background(), 4, time.Minute, spin)
	if err != nil || res.Errors != 0 {
		t.Fatalf("StreamsCPU: %v, %d stream errors", err, res.Errors)
	}
	if len(b.CPU) != 1 || b.CPU[0] < 20*time.Millisecond || b.Window <= 0 || b.Total() != b.CPU[0] || b.Utilisation(2) <= 0 {
		t.Fatalf("burst CPU %+v (utilisation of 2 cores %v), want ≥ 20 ms of this process's CPU in a positive window", b, b.Utilisation(2))
	}
	if _, _, err := StreamsCPU(context.Background(), 2, time.Minute, func(context.Context, func()) error { return nil }); err == nil {
		t.Error("a burst without a first message: nil error")
	}
}

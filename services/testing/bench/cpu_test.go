package bench

import (
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
	if _, err := CPUTimeOf(-1); err == nil {
		t.Error("CPUTimeOf(-1) = nil error")
	}
}

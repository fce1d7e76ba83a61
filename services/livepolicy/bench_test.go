package livepolicy_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/portico-dev/portico/services/livepolicy"
	"github.com/portico-dev/portico/services/principal"
)

var dana = &principal.Principal{Kind: principal.KindPerson, Username: "dana", Groups: []string{"Administrators", "MLUsers"}}

const sonnet = "us.anthropic.claude-sonnet-4-20250514-v1:0"

// BenchmarkDecision is a policy decision through the run-time getter (the same decision as
// services/policy's BenchmarkEntitlements, plus the getter's clock read and atomic loads).
func BenchmarkDecision(b *testing.B) {
	s := benchSource(b)
	b.ReportAllocs()
	for b.Loop() {
		e := s.Policy().Entitlements(dana)
		if !e.AllowsModel(sonnet) || len(e.QuotasFor(sonnet)) != 3 {
			b.Fatal("wrong decision")
		}
	}
}

// BenchmarkDecisionDuringReloads is BenchmarkDecision while another goroutine writes and
// applies a new version as fast as it can: a reload costs the decisions nothing but the
// cache traffic of one pointer.
func BenchmarkDecisionDuringReloads(b *testing.B) {
	s := benchSource(b)
	var stop atomic.Bool
	done := make(chan int)
	go func() {
		n := 0
		for base := s.Snapshot().Version.Version; !stop.Load(); base++ {
			if _, err := s.Update(context.Background(), edit(base, withTokensPerDay(fmt.Sprint(1000+base)))); err != nil {
				panic(err)
			}
			n++
		}
		done <- n
	}()
	b.ReportAllocs()
	for b.Loop() {
		e := s.Policy().Entitlements(dana)
		if !e.AllowsModel(sonnet) || len(e.QuotasFor(sonnet)) != 3 {
			b.Fatal("wrong decision")
		}
	}
	stop.Store(true)
	b.ReportMetric(float64(<-done), "reloads")
}

func benchSource(b *testing.B) *livepolicy.Source {
	b.Helper()
	return open(b, sqliteStore(b, filepath.Join(b.TempDir(), "bench.db")), livepolicy.ModeStore, nil)
}

// Package gcpace sets the garbage collector's pacing of a Portico process from its
// environment: on Lambda, a soft memory limit below the function's memory and a GC percent
// of LambdaPercent; anywhere, the GC percent PORTICO_GC_PERCENT names.
//
// Why: with Go's default (GOGC=100) the collector runs each time the heap doubles over what
// survived the last cycle, and a services process keeps a small heap (tens of MiB) while it
// allocates a lot per request (the AWS SDK's event decoding, protobuf, net/http), so it
// collects every few requests: callgrind counted the marking (runtime.scanObjectsSmall,
// tryDeferToSpanScan, findObject) as the largest part of the services' instructions per
// streamed answer. The marking costs in proportion to what survives, and cycles come in
// proportion to percent, so percent 400 does about a quarter of the marking: with the
// percent set to 400 for the experiment, portico-bench's callgrind counts on the local stack
// fell 19 % for GetMe, 12 % for Converse and 27 % for a burst of streams (services'
// instructions per request; the local stack itself runs with Go's default).
//
// The price is memory: the heap may grow to (1 + percent/100) times what survives. On Lambda
// the function's memory is reserved for the one request an execution environment serves at
// a time, and the soft limit (LimitPercent of AWS_LAMBDA_FUNCTION_MEMORY_SIZE) makes the
// collector run as often as it must to stay below it, whatever the percent; so a percent of
// LambdaPercent costs nothing there and the limit keeps the function from running out of
// memory. Off Lambda the process's memory is not known, so Go's defaults stay unless
// PORTICO_GC_PERCENT (or Go's own GOGC and GOMEMLIMIT) says otherwise.
//
// Go's own variables win: GOGC set keeps its percent unless PORTICO_GC_PERCENT is also set;
// GOMEMLIMIT set keeps its limit.
package gcpace

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"strings"
)

// Environment variables read by FromEnv.
const (
	// EnvPercent is the GC percent (an integer from 10 to 10000), for a process that should
	// trade memory for less collection; default: LambdaPercent on Lambda, Go's elsewhere.
	EnvPercent = "PORTICO_GC_PERCENT"
	// EnvLambdaMemory is set by Lambda: the function's memory in MiB.
	EnvLambdaMemory = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"
	// envGOGC and envGOMEMLIMIT are Go's own, which the runtime has applied already.
	envGOGC       = "GOGC"
	envGOMEMLIMIT = "GOMEMLIMIT"
)

const (
	// LambdaPercent is the GC percent on Lambda, under the soft limit.
	LambdaPercent = 400
	// LimitPercent is the soft memory limit on Lambda, in percent of the function's memory:
	// the rest is for what the limit does not count (the binary, C libraries' memory) and
	// headroom.
	LimitPercent = 80
	// minPercent and maxPercent bound EnvPercent: below 10 the collector runs almost
	// continuously; above 10000 the heap is left to grow a hundredfold.
	minPercent, maxPercent = 10, 10000
)

// Settings are the collector's pacing. The zero value changes nothing.
type Settings struct {
	// Percent is the GC percent to set (debug.SetGCPercent); 0 keeps the runtime's.
	Percent int
	// Limit is the soft memory limit in bytes to set (debug.SetMemoryLimit); 0 keeps the
	// runtime's.
	Limit int64
}

// FromEnv returns the settings for a process whose environment getenv reads (os.Getenv),
// with every problem in the one error.
func FromEnv(getenv func(string) string) (Settings, error) {
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	var (
		s    Settings
		errs []error
	)
	if raw := get(EnvLambdaMemory); raw != "" {
		mib, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || mib <= 0 || mib > 1<<20 {
			errs = append(errs, fmt.Errorf("%s=%q is not a memory size in MiB", EnvLambdaMemory, raw))
		} else {
			if get(envGOMEMLIMIT) == "" {
				s.Limit = mib << 20 * LimitPercent / 100
			}
			if get(envGOGC) == "" {
				s.Percent = LambdaPercent
			}
		}
	}
	if raw := get(EnvPercent); raw != "" {
		p, err := strconv.Atoi(raw)
		if err != nil || p < minPercent || p > maxPercent {
			errs = append(errs, fmt.Errorf("%s=%q is not a GC percent from %d to %d", EnvPercent, raw, minPercent, maxPercent))
		} else {
			s.Percent = p
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Settings{}, err
	}
	return s, nil
}

// Apply sets the process's GC percent and soft memory limit to s's, where s sets them.
func (s Settings) Apply() {
	if s.Percent != 0 {
		debug.SetGCPercent(s.Percent)
	}
	if s.Limit != 0 {
		debug.SetMemoryLimit(s.Limit)
	}
}

// LogValue describes the settings for the start-up log; "runtime" stands for a value s
// leaves to the runtime (Go's default, or GOGC / GOMEMLIMIT).
func (s Settings) LogValue() slog.Value {
	percent, limit := slog.String("percent", "runtime"), slog.String("memory_limit", "runtime")
	if s.Percent != 0 {
		percent = slog.Int("percent", s.Percent)
	}
	if s.Limit != 0 {
		limit = slog.String("memory_limit", fmt.Sprintf("%d MiB", s.Limit>>20))
	}
	return slog.GroupValue(percent, limit)
}

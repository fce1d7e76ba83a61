package gcpace_test

import (
	"log/slog"
	"math"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/portico-dev/portico/services/platform/gcpace"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFromEnv(t *testing.T) {
	t.Parallel()
	const mib = 1 << 20
	for _, tc := range []struct {
		name string
		env  map[string]string
		want gcpace.Settings
	}{
		{"standalone keeps Go's defaults", nil, gcpace.Settings{}},
		{"Lambda: limit below the function's memory, higher percent",
			map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512"},
			gcpace.Settings{Percent: gcpace.LambdaPercent, Limit: 512 * mib * gcpace.LimitPercent / 100}},
		{"Lambda with GOMEMLIMIT keeps Go's limit",
			map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512", "GOMEMLIMIT": "300MiB"},
			gcpace.Settings{Percent: gcpace.LambdaPercent}},
		{"Lambda with GOGC keeps Go's percent",
			map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": " 256 ", "GOGC": "150"},
			gcpace.Settings{Limit: 256 * mib * gcpace.LimitPercent / 100}},
		{"PORTICO_GC_PERCENT off Lambda",
			map[string]string{"PORTICO_GC_PERCENT": "200"}, gcpace.Settings{Percent: 200}},
		{"PORTICO_GC_PERCENT wins over GOGC",
			map[string]string{"PORTICO_GC_PERCENT": "150", "GOGC": "50"},
			gcpace.Settings{Percent: 150}},
		{"PORTICO_GC_PERCENT wins over the Lambda percent, under the Lambda limit",
			map[string]string{"PORTICO_GC_PERCENT": "150", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024"},
			gcpace.Settings{Percent: 150, Limit: 1024 * mib * gcpace.LimitPercent / 100}},
		{"bounds are allowed", map[string]string{"PORTICO_GC_PERCENT": "10000"}, gcpace.Settings{Percent: 10000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := gcpace.FromEnv(env(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("FromEnv = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestFromEnvRefuses is the table of settings refused, each naming its variable; the two
// bad ones together are both reported.
func TestFromEnvRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env  map[string]string
		want []string
	}{
		{map[string]string{"PORTICO_GC_PERCENT": "abc"}, []string{"PORTICO_GC_PERCENT"}},
		{map[string]string{"PORTICO_GC_PERCENT": "off"}, []string{"PORTICO_GC_PERCENT"}},
		{map[string]string{"PORTICO_GC_PERCENT": "0"}, []string{"PORTICO_GC_PERCENT"}},
		{map[string]string{"PORTICO_GC_PERCENT": "-100"}, []string{"PORTICO_GC_PERCENT"}},
		{map[string]string{"PORTICO_GC_PERCENT": "9"}, []string{"PORTICO_GC_PERCENT"}},
		{map[string]string{"PORTICO_GC_PERCENT": "10001"}, []string{"PORTICO_GC_PERCENT"}},
		{map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512MB"}, []string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE"}},
		{map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "0"}, []string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE"}},
		{map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "9999999999"}, []string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE"}},
		{map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "-1", "PORTICO_GC_PERCENT": "x"},
			[]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "PORTICO_GC_PERCENT"}},
	} {
		got, err := gcpace.FromEnv(env(tc.env))
		if err == nil {
			t.Errorf("FromEnv(%v) = %+v, want an error", tc.env, got)
			continue
		}
		for _, name := range tc.want {
			if !strings.Contains(err.Error(), name) {
				t.Errorf("FromEnv(%v) error %q does not name %s", tc.env, err, name)
			}
		}
	}
}

// TestApply sets the runtime's percent and limit and puts them back; it changes the
// process's settings, so it is not parallel.
func TestApply(t *testing.T) {
	oldPercent := debug.SetGCPercent(100)
	oldLimit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() {
		debug.SetGCPercent(oldPercent)
		debug.SetMemoryLimit(oldLimit)
	})
	gcpace.Settings{}.Apply()
	if p := debug.SetGCPercent(100); p != 100 {
		t.Errorf("the zero Settings changed the percent to %d", p)
	}
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		t.Errorf("the zero Settings changed the limit to %d", l)
	}
	gcpace.Settings{Percent: 400, Limit: 400 << 20}.Apply()
	if p := debug.SetGCPercent(100); p != 400 {
		t.Errorf("percent = %d, want 400", p)
	}
	if l := debug.SetMemoryLimit(-1); l != 400<<20 {
		t.Errorf("limit = %d, want %d", l, 400<<20)
	}
}

func TestLogValue(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s    gcpace.Settings
		want string
	}{
		{gcpace.Settings{}, "[percent=runtime memory_limit=runtime]"},
		{gcpace.Settings{Percent: 400, Limit: 409 << 20}, "[percent=400 memory_limit=409 MiB]"},
	} {
		if got := tc.s.LogValue().Resolve().String(); got != tc.want {
			t.Errorf("LogValue(%+v) = %s, want %s", tc.s, got, tc.want)
		}
	}
	var _ slog.LogValuer = gcpace.Settings{}
}

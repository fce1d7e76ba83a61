package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// GoBench is one `go test -bench` invocation.
type GoBench struct {
	// Pkg is the package pattern, such as ./services/token.
	Pkg string
	// Regexp selects the benchmarks.
	Regexp string
	// Count is -count; BenchTime is -benchtime (empty for the default).
	Count     int
	BenchTime string
}

// Args returns the go command's arguments.
func (g GoBench) Args() []string {
	args := []string{"test", "-run", "^$", "-bench", g.Regexp, "-count", strconv.Itoa(g.Count)}
	if g.BenchTime != "" {
		args = append(args, "-benchtime", g.BenchTime)
	}
	return append(args, g.Pkg)
}

// Command returns the command line, for the report.
func (g GoBench) Command() string {
	args := g.Args()
	for i, a := range args {
		if strings.ContainsAny(a, "^$|()* ") {
			args[i] = "'" + a + "'"
		}
	}
	return "go " + strings.Join(args, " ")
}

// Samples maps a benchmark name (without the -GOMAXPROCS suffix) and a unit ("ns/op",
// "ratio", …) to the values of every run.
type Samples map[string]map[string][]float64

// Median returns the median of name's unit and whether there was any sample.
func (s Samples) Median(name, unit string) (float64, bool) {
	v := s[name][unit]
	if len(v) == 0 {
		return 0, false
	}
	return Median(v), true
}

// Run runs the benchmarks from the module root and parses their output.
func (g GoBench) Run(ctx context.Context, root string) (Samples, string, error) {
	cmd := exec.CommandContext(ctx, "go", g.Args()...) //nolint:gosec // G204: go test -bench with the harness's own package and pattern list
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, string(out), fmt.Errorf("%s: %w", g.Command(), err)
	}
	return ParseBench(out), string(out), nil
}

var procSuffix = regexp.MustCompile(`-\d+$`)

// ParseBench parses `go test -bench` output lines ("BenchmarkX-2  100  123 ns/op  4 ratio").
func ParseBench(out []byte) Samples {
	s := Samples{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		name := procSuffix.ReplaceAllString(f[0], "")
		if s[name] == nil {
			s[name] = map[string][]float64{}
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			s[name][f[i+1]] = append(s[name][f[i+1]], v)
		}
	}
	return s
}

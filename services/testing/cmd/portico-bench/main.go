// Command portico-bench measures Portico on this machine and writes docs/benchmarks.md
// (what `make bench` runs). It builds the real binaries, starts the local stack (dev IdP,
// local AWS endpoint, services with a SQLite store, BFF) on free loopback ports, signs users
// in through the BFF and the dev IdP's login form, and measures, each time with its baseline
// from the same run and as the median of several runs:
//
//   - unary Converse through BFF → services → local AWS vs the AWS SDK calling the local
//     endpoint directly, at fixed rates, and the highest sustainable rate;
//   - the BFF vs a bare httputil.ReverseProxy on the same route (throughput ratio);
//   - streaming at 50 tokens/s: added time to first token and per-chunk delay for 1, 100 and
//     500 concurrent streams;
//   - RSS of the BFF and the services at 0, 100 and 1,000 concurrent streaming users;
//   - Lambda binary sizes and process start-to-ready times;
//   - the Go micro-benchmarks of token verification, cookie sealing, policy decisions,
//     store reserve/settle and kept conversations;
//   - a load test: 200 concurrent streaming users for 60 s with zero errors, no memory,
//     file or thread growth afterwards, and quota counters equal to the ledger.
//
// Usage:
//
//	go run ./services/testing/cmd/portico-bench [-out docs/benchmarks.md] [-runs 3] [-smoke] [-skip micro,binaries,e2e,load]
//	go run ./services/testing/cmd/portico-bench -fuzz 20s
//
// -fuzz runs every fuzz target under services/ and bff/ for the given time each instead
// (what `make fuzz` runs).
//
// -smoke runs every end-to-end part once, small and short (well under 30 s with a warm build
// cache), checks that it worked, and writes the report to a temporary file unless -out is
// given; `make test` runs it. Every load stays on loopback and is bounded in count and time.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	var opts options
	flag.StringVar(&opts.out, "out", "", "report path (default docs/benchmarks.md, or a temporary file with -smoke)")
	flag.IntVar(&opts.runs, "runs", 3, "runs per figure (the report gives their median)")
	flag.BoolVar(&opts.smoke, "smoke", false, "a short end-to-end check of the tool (for make test)")
	flag.StringVar(&opts.skip, "skip", "", "comma-separated sections to skip: micro,binaries,e2e,load")
	fuzz := flag.Duration("fuzz", 0, "instead of benchmarking, run every fuzz target under services/ and bff/ for this long each (make fuzz)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *fuzz > 0 {
		if err := runFuzz(ctx, *fuzz); err != nil {
			log.Fatalf("portico-bench: %v", err)
		}
		return
	}
	if err := run(ctx, opts); err != nil {
		log.Fatalf("portico-bench: %v", err)
	}
}

type options struct {
	out   string
	runs  int
	smoke bool
	skip  string
}

func (o options) skipped(section string) bool {
	for s := range strings.SplitSeq(o.skip, ",") {
		if strings.TrimSpace(s) == section {
			return true
		}
	}
	return false
}

func run(ctx context.Context, opts options) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	if opts.out == "" {
		opts.out = filepath.Join(root, "docs", "benchmarks.md")
		if opts.smoke {
			opts.out = filepath.Join(os.TempDir(), "portico-bench-smoke.md")
		}
	}
	if opts.smoke {
		opts.runs = 1
	}
	dir, err := os.MkdirTemp("", "portico-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	start := time.Now()
	r := &report{started: start.UTC(), smoke: opts.smoke, runs: opts.runs}
	r.machine = describeMachine(ctx)
	if !opts.smoke && !opts.skipped("micro") {
		logf("micro-benchmarks")
		r.micro = runMicro(ctx, root)
	}
	if !opts.skipped("binaries") {
		logf("binaries")
		r.binaries = measureBinaries(ctx, root, dir, opts)
	}
	failed := false
	if !opts.skipped("e2e") || !opts.skipped("load") {
		logf("end-to-end")
		e, err := runEndToEnd(ctx, root, dir, opts)
		if err != nil {
			failed = true
			logf("end-to-end: %v", err)
		}
		r.e2e = e
	}
	r.took = time.Since(start)
	r.machine.loadAfter = loadAverage()
	if err := os.WriteFile(opts.out, []byte(r.markdown()), 0o644); err != nil { //nolint:gosec // G306: the report is a checked-in document (docs/benchmarks.md), readable like the rest of the tree
		return fmt.Errorf("write report: %w", err)
	}
	logf("wrote %s in %s", opts.out, r.took.Round(time.Second))
	if opts.smoke && (failed || !r.e2e.smokeOK()) {
		return fmt.Errorf("smoke run failed: %s", r.e2e.smokeProblems())
	}
	return nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s portico-bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// moduleRoot finds the directory holding go.mod, upwards from the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

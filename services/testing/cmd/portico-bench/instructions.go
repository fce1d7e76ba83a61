package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/portico-dev/portico/services/testing/bench"
)

// The instruction counts: each build's stack runs with the services and the BFF under
// callgrind (bench.CallgrindWrapper), and every request kind below is counted on its own,
// after a warm-up, as instructions per request of each process. The builds alternate
// (A B A B …), and each figure is the median over rounds. On a shared machine these are the
// figures that hold still: a process's instruction count does not depend on what else runs.

// instrKind is one kind of request counted.
type instrKind struct {
	name string
	// streams > 0: that many ConverseStream calls released at once (a burst), else n
	// sequential unary calls.
	n, streams int
}

// instrProcs are the processes counted, by bench.Stack field.
var instrProcs = []string{"services", "bff"}

// instrBuild is one build of the stack to count.
type instrBuild struct {
	label, commit string
	bins          bench.Binaries
}

// key names the build in instrResult's maps and in file names.
func (b instrBuild) key() string { return fileSafe(b.label + "-" + b.commit) }

// instrResult holds the counts: perRequest[build][process][kind] per round, and the top
// functions of each process in each kind (from the last round).
type instrResult struct {
	builds     []instrBuild
	kinds      []instrKind
	rounds     int
	perRequest map[string]map[string]map[string][]float64
	top        map[string]map[string]map[string][]bench.FunctionCost
	profiles   string // where the callgrind files were kept, if anywhere
	notes      []string
}

func (r *instrResult) add(build, proc, kind string, v float64, top []bench.FunctionCost) {
	if r.perRequest[build] == nil {
		r.perRequest[build] = map[string]map[string][]float64{}
		r.top[build] = map[string]map[string][]bench.FunctionCost{}
	}
	if r.perRequest[build][proc] == nil {
		r.perRequest[build][proc] = map[string][]float64{}
		r.top[build][proc] = map[string][]bench.FunctionCost{}
	}
	r.perRequest[build][proc][kind] = append(r.perRequest[build][proc][kind], v)
	r.top[build][proc][kind] = top
}

func instrKinds(opts options) []instrKind {
	if opts.smoke {
		return []instrKind{{name: "GetMe", n: 5}, {name: "Converse", n: 5}, {name: "ConverseStream burst", streams: 5}}
	}
	return []instrKind{{name: "GetMe", n: 1000}, {name: "Converse", n: 1000}, {name: "ConverseStream burst", streams: 100}}
}

// buildsToCount returns this tree's build and, with -against, the other revision's (built
// from a git archive of it in dir).
func buildsToCount(ctx context.Context, root, dir string, opts options, commit string) ([]instrBuild, error) {
	here, err := bench.BuildBinaries(ctx, root, filepath.Join(dir, "bin-this"))
	if err != nil {
		return nil, err
	}
	builds := []instrBuild{{label: "this tree", commit: commit, bins: here}}
	if opts.against == "" {
		return builds, nil
	}
	src := filepath.Join(dir, "against-src")
	other, err := bench.ExportRevision(ctx, root, opts.against, src)
	if err != nil {
		return nil, err
	}
	logf("  building the stack at %s", other)
	bins, err := bench.BuildBinariesOf(ctx, src, filepath.Join(dir, "bin-against"))
	if err != nil {
		return nil, err
	}
	return append(builds, instrBuild{label: "against", commit: other, bins: bins}), nil
}

// runInstructions counts instructions per request for each build, alternating builds over
// rounds.
func runInstructions(ctx context.Context, root, dir string, opts options, commit string) *instrResult {
	r := &instrResult{kinds: instrKinds(opts), rounds: opts.instrRounds, profiles: opts.profiles,
		perRequest: map[string]map[string]map[string][]float64{}, top: map[string]map[string]map[string][]bench.FunctionCost{}}
	if !bench.HaveCallgrind() {
		r.notes = append(r.notes, "valgrind (callgrind) is not installed: no instruction counts (apt-get install valgrind)")
		return r
	}
	builds, err := buildsToCount(ctx, root, dir, opts, commit)
	if err != nil {
		r.notes = append(r.notes, fmt.Sprintf("build: %v", err))
		return r
	}
	r.builds = builds
	for round := range r.rounds {
		for i := range builds {
			b := builds[(i+round)%len(builds)] // A B, then B A: neither build always goes first
			logf("  instructions: round %d, %s (%s)", round+1, b.label, b.commit)
			if err := countBuild(ctx, dir, b, r, round); err != nil {
				r.notes = append(r.notes, fmt.Sprintf("round %d, %s: %v", round+1, b.commit, err))
			}
		}
	}
	return r
}

// countBuild starts b's stack with the counted processes under callgrind, warms it up,
// counts each kind of request and records instructions per request.
func countBuild(ctx context.Context, dir string, b instrBuild, r *instrResult, round int) error {
	run := filepath.Join(dir, fmt.Sprintf("instr-%s-%d", b.key(), round))
	if err := os.MkdirAll(run, 0o700); err != nil {
		return err
	}
	bins := b.bins
	prefix := map[string]string{}
	for _, name := range instrProcs {
		p := &bins.Services
		if name == "bff" {
			p = &bins.BFF
		}
		prefix[name] = filepath.Join(run, "callgrind."+name)
		script, err := bench.CallgrindWrapper(run, name, *p, prefix[name])
		if err != nil {
			return err
		}
		*p = script
	}
	st, err := bench.StartStack(ctx, bins, run, 0)
	if err != nil {
		return err
	}
	pids := map[string]int{"services": st.Services.Pid(), "bff": st.BFF.Pid()}
	countErr := func() error {
		browser := bench.NewBrowser(st.BFF.URL, bench.NewTransport())
		if err := browser.SignIn(ctx, "alice"); err != nil {
			return err
		}
		inf := bench.NewInference(browser.HTTPClient(), st.BFF.URL+"/api", true)
		id := bench.NewIdentity(browser.HTTPClient(), st.BFF.URL+"/api", true)
		do := func(k instrKind) error {
			if k.streams > 0 {
				res := bench.Streams(ctx, k.streams, 5*time.Minute, func(ctx context.Context, onChunk func()) error {
					return inf.ConverseStream(ctx, 50, onChunk)
				}, nil)
				if res.Errors > 0 {
					return fmt.Errorf("%s: %d of %d streams failed: %w", k.name, res.Errors, res.Streams, res.FirstErr)
				}
				return nil
			}
			call := id.GetMe
			if k.name == "Converse" {
				call = func(ctx context.Context) error { return inf.Converse(ctx, 16) }
			}
			for range k.n {
				if err := call(ctx); err != nil {
					return fmt.Errorf("%s: %w", k.name, err)
				}
			}
			return nil
		}
		for _, k := range r.kinds { // warm-up: connections, caches, the allocator
			w := instrKind{name: k.name, n: min(k.n, 30), streams: min(k.streams, 20)}
			if err := do(w); err != nil {
				return fmt.Errorf("warm-up: %w", err)
			}
		}
		for _, k := range r.kinds {
			for _, name := range instrProcs {
				if err := bench.CallgrindOn(ctx, pids[name]); err != nil {
					return err
				}
			}
			if err := do(k); err != nil {
				return err
			}
			for _, name := range instrProcs {
				if err := bench.CallgrindDump(ctx, pids[name], k.name); err != nil {
					return err
				}
				if err := bench.CallgrindOff(ctx, pids[name]); err != nil {
					return err
				}
			}
		}
		return nil
	}()
	if err := errors.Join(countErr, st.Stop()); err != nil {
		return err
	}
	for _, name := range instrProcs {
		for i, k := range r.kinds {
			path := bench.CallgrindDumpFile(prefix[name], pids[name], i+1)
			p, err := bench.ReadCallgrind(path, 5)
			if err != nil {
				return fmt.Errorf("%s %s: %w", name, k.name, err)
			}
			per := float64(max(k.n, k.streams))
			top := make([]bench.FunctionCost, len(p.Top))
			for j, f := range p.Top {
				top[j] = bench.FunctionCost{Name: f.Name, Instructions: int64(float64(f.Instructions) / per)}
			}
			r.add(b.key(), name, k.name, float64(p.Total)/per, top)
			if r.profiles != "" {
				keep := filepath.Join(r.profiles, fmt.Sprintf("callgrind.%s.%s.%s.round%d", b.key(), name, fileSafe(k.name), round+1))
				if err := copyFile(path, keep); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func fileSafe(s string) string {
	out := []byte(s)
	for i, c := range out {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			out[i] = '-'
		}
	}
	return string(out)
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from) //nolint:gosec // G304: the harness's own callgrind output
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o750); err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o600)
}

// write renders the instruction counts as a report section.
func (r *instrResult) write(w func(string, ...any)) {
	w("## Instructions per request (callgrind)\n\n")
	w("Each build's stack runs with the services and the BFF under callgrind (`GOMAXPROCS=1`, `GODEBUG=asyncpreemptoff=1`; the dev IdP and the local AWS endpoint at full speed). After sign-in and a warm-up, each kind of request is counted on its own: the instructions the process executed from the first request sent to the last answer received, divided by the requests (a burst: by the streams). ")
	w("Counts do not depend on the machine's load, so two builds compare within about 2 %% (the garbage collector's timing is what moves); wall-clock figures elsewhere in this report do. ")
	w("Requests: GetMe and Converse (max 16 tokens) one after another through the BFF; a burst of ConverseStream calls (50 tokens, local AWS unpaced) released at once. Median of %d round(s)", r.rounds)
	if len(r.builds) > 1 {
		w(", the builds alternating (A B, then B A)")
	}
	w(".\n\n")
	for _, n := range r.notes {
		w("- note: %s\n", n)
	}
	if len(r.notes) > 0 {
		w("\n")
	}
	if len(r.builds) == 0 {
		return
	}
	w("| process | request |")
	for _, b := range r.builds {
		w(" %s `%s` |", b.label, b.commit)
	}
	if len(r.builds) > 1 {
		w(" **this ÷ against** |")
	}
	w("\n|---|---|")
	for range r.builds {
		w("---:|")
	}
	if len(r.builds) > 1 {
		w("---:|")
	}
	w("\n")
	for _, proc := range instrProcs {
		for _, k := range r.kinds {
			w("| %s | %s |", proc, k.name)
			var vals []float64
			for _, b := range r.builds {
				xs := r.perRequest[b.key()][proc][k.name]
				if len(xs) == 0 {
					w(" — |")
					vals = append(vals, 0)
					continue
				}
				v := bench.Median(xs)
				vals = append(vals, v)
				w(" %s |", millions(v))
			}
			if len(r.builds) > 1 {
				if vals[0] > 0 && vals[1] > 0 {
					w(" **%.2f** |", vals[0]/vals[1])
				} else {
					w(" — |")
				}
			}
			w("\n")
		}
	}
	w("\n(millions of instructions per request)\n\n")
	this := r.builds[0].key()
	w("Where the instructions go, this tree (`%s`): the five functions that executed the most instructions themselves (callees excluded), per request, last round. The garbage collector's mark functions (`runtime.scanObject*`, `tryDeferToSpanScan`, `findObject`) stand for allocation; `runtime.pcvalue` and `runtime.step` for goroutine stacks growing (copied to a larger stack).\n\n", r.builds[0].commit)
	for _, proc := range instrProcs {
		for _, k := range r.kinds {
			top := r.top[this][proc][k.name]
			if len(top) == 0 {
				continue
			}
			w("- **%s, %s**:", proc, k.name)
			for i, f := range top {
				sep := ","
				if i == len(top)-1 {
					sep = ""
				}
				w(" `%s` %s%s", f.Name, thousands(float64(f.Instructions)), sep)
			}
			w("\n")
		}
	}
	if r.profiles != "" {
		w("\nThe callgrind profiles were kept (`-profiles`); read them with `callgrind_annotate`.\n")
	}
	w("\n")
}

func millions(v float64) string  { return fmt.Sprintf("%.3f", v/1e6) }
func thousands(v float64) string { return fmt.Sprintf("%.0f k", v/1e3) }

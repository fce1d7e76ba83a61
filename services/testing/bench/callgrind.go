package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Instruction counts: on a shared machine wall-clock figures move with everyone else's load,
// while the instructions a process executes per request barely do. Callgrind (valgrind)
// counts them. A process runs under it with instrumentation off (start-up, sign-in and
// warm-up are not counted, and run close to full speed); CallgrindOn and CallgrindDump
// bracket the requests measured, and CallgrindTotal reads what a dump counted.
//
// The Go runtime needs two settings under callgrind: GODEBUG=asyncpreemptoff=1 (callgrind
// asserts on the preemption signal) and GOMAXPROCS=1 (idle Ps spinning in the scheduler
// would otherwise add instructions that depend on timing, not on the work).

// HaveCallgrind reports whether valgrind and callgrind_control are on PATH.
func HaveCallgrind() bool {
	for _, name := range []string{"valgrind", "callgrind_control"} {
		if _, err := exec.LookPath(name); err != nil {
			return false
		}
	}
	return true
}

// CallgrindWrapper writes an executable script in dir that runs bin under callgrind with
// instrumentation off, writing its counts to files named <outPrefix>.<pid>[.<dump>], and
// returns the script's path, to start in place of bin. The script execs valgrind, so the
// process id of what it starts is valgrind's, which CallgrindOn and CallgrindDump address.
func CallgrindWrapper(dir, name, bin, outPrefix string) (string, error) {
	script := filepath.Join(dir, "callgrind-"+name)
	body := fmt.Sprintf("#!/bin/sh\nexec env GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=%s.%%p %s\n",
		shellQuote(outPrefix), shellQuote(bin))
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil { //nolint:gosec // G306: an executable script of the harness's own, in its run directory
		return "", fmt.Errorf("callgrind wrapper: %w", err)
	}
	return script, nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// CallgrindOn turns instrumentation on in the callgrind process pid (counting starts).
func CallgrindOn(ctx context.Context, pid int) error {
	return callgrindControl(ctx, "--instr=on", strconv.Itoa(pid))
}

// CallgrindOff turns instrumentation off in the callgrind process pid.
func CallgrindOff(ctx context.Context, pid int) error {
	return callgrindControl(ctx, "--instr=off", strconv.Itoa(pid))
}

// CallgrindDump makes the callgrind process pid write what it counted since its previous
// dump (or since instrumentation was turned on) to its next numbered output file, and zero
// its counters.
func CallgrindDump(ctx context.Context, pid int, reason string) error {
	return callgrindControl(ctx, "--dump="+reason, strconv.Itoa(pid))
}

func callgrindControl(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, "callgrind_control", args...).CombinedOutput() //nolint:gosec // G204: fixed tool, arguments built here
	if err != nil {
		return fmt.Errorf("callgrind_control %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// CallgrindDumpFile returns the path of dump number n (1 for the first) of the process pid
// run by a CallgrindWrapper with outPrefix.
func CallgrindDumpFile(outPrefix string, pid, n int) string {
	return fmt.Sprintf("%s.%d.%d", outPrefix, pid, n)
}

// FunctionCost is the instructions executed in one function itself (its callees excluded).
type FunctionCost struct {
	Name         string
	Instructions int64
}

// CallgrindProfile is what one callgrind dump counted.
type CallgrindProfile struct {
	// Total is the number of instructions executed.
	Total int64
	// Top are the functions that executed the most instructions themselves, most first.
	Top []FunctionCost
}

// ReadCallgrind reads a callgrind output file: the total and the top n functions by their
// own (exclusive) instructions, summed over every line of each function.
func ReadCallgrind(path string, n int) (CallgrindProfile, error) {
	f, err := os.Open(path) //nolint:gosec // G304: the harness's own callgrind output in its run directory
	if err != nil {
		return CallgrindProfile{}, fmt.Errorf("callgrind output: %w", err)
	}
	defer f.Close()
	var p CallgrindProfile
	names := map[string]string{} // "(id)" compression of fn= names
	self := map[string]int64{}
	fn := ""
	inCall := false // the cost line after calls= belongs to the callee (inclusive), not fn
	haveTotal := false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "totals:") || strings.HasPrefix(line, "summary:"):
			v, err := strconv.ParseInt(strings.TrimSpace(line[strings.IndexByte(line, ':')+1:]), 10, 64)
			if err == nil && (!haveTotal || strings.HasPrefix(line, "totals:")) {
				p.Total, haveTotal = v, true
			}
		case strings.HasPrefix(line, "fn="):
			fn = functionName(resolveName(names, line[len("fn="):]))
			inCall = false
		case strings.HasPrefix(line, "cfn=") || strings.HasPrefix(line, "cfi=") || strings.HasPrefix(line, "cob="):
			if strings.HasPrefix(line, "cfn=") {
				resolveName(names, line[len("cfn="):])
			}
		case strings.HasPrefix(line, "calls="):
			inCall = true
		case line != "" && (line[0] >= '0' && line[0] <= '9' || line[0] == '+' || line[0] == '-' || line[0] == '*'):
			if inCall {
				inCall = false
				continue
			}
			fields := strings.Fields(line)
			if len(fields) >= 2 && fn != "" {
				if v, err := strconv.ParseInt(fields[1], 10, 64); err == nil {
					self[fn] += v
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return p, fmt.Errorf("callgrind output: %w", err)
	}
	if !haveTotal {
		return p, errors.New("callgrind output: no totals line")
	}
	for name, v := range self {
		p.Top = append(p.Top, FunctionCost{Name: name, Instructions: v})
	}
	sort.Slice(p.Top, func(i, j int) bool {
		if p.Top[i].Instructions != p.Top[j].Instructions {
			return p.Top[i].Instructions > p.Top[j].Instructions
		}
		return p.Top[i].Name < p.Top[j].Name
	})
	if len(p.Top) > n {
		p.Top = p.Top[:n]
	}
	return p, nil
}

// functionName drops callgrind's recursion marker ("f'2" is f called from itself), so
// that a function's cost is counted under one name.
func functionName(s string) string {
	if i := strings.LastIndexByte(s, '\''); i > 0 && i < len(s)-1 {
		if _, err := strconv.Atoi(s[i+1:]); err == nil {
			return s[:i]
		}
	}
	return s
}

// resolveName resolves callgrind's name compression: "(12) name" defines id 12, "(12)"
// refers to it.
func resolveName(names map[string]string, s string) string {
	if !strings.HasPrefix(s, "(") {
		return s
	}
	end := strings.IndexByte(s, ')')
	if end < 0 {
		return s
	}
	id, rest := s[:end+1], strings.TrimSpace(s[end+1:])
	if rest == "" {
		return names[id]
	}
	names[id] = rest
	return rest
}

package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// FreeAddr returns a free loopback address ("127.0.0.1:port") by binding port 0 and
// releasing it; the caller's process binds it moments later.
func FreeAddr(ctx context.Context) (string, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("free port: %w", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return "", fmt.Errorf("free port: %w", err)
	}
	return addr, nil
}

// Build compiles the main package pkg (such as "./services/cmd/portico-bff") from the module
// root into dir and returns the binary's path. env is added to the build's environment
// (GOOS, CGO_ENABLED, …); flags go before the package.
func Build(ctx context.Context, root, dir, pkg string, env []string, flags ...string) (string, error) {
	out := filepath.Join(dir, filepath.Base(pkg))
	args := append([]string{"build", "-o", out}, flags...)
	cmd := exec.CommandContext(ctx, "go", append(args, pkg)...) //nolint:gosec // G204: the harness's own go build of one of its packages
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, msg)
	}
	return out, nil
}

// Proc is a started server process.
type Proc struct {
	// Name names the process in errors and reports.
	Name string
	// Addr is its listen address; URL is "http://" + Addr.
	Addr, URL string
	// Ready is the time from exec to the first 200 from GET /healthz.
	Ready time.Duration

	bin, logPath string
	logStart     int64 // the log file's size when this process started
	env          []string
	cmd          *exec.Cmd
	log          *os.File
	done         chan error
}

// Start execs bin with env (and nothing else from this process's environment but PATH and
// HOME), sending its output to logPath, and waits up to 30 s for GET /healthz on addr to
// answer 200.
func Start(ctx context.Context, name, bin, addr, logPath string, env []string) (*Proc, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600) //nolint:gosec // G304: the harness's own log file in its run directory
	if err != nil {
		return nil, fmt.Errorf("%s: log: %w", name, err)
	}
	var logStart int64
	if fi, err := logf.Stat(); err == nil {
		logStart = fi.Size()
	}
	// The process outlives ctx, which bounds only the wait for readiness: Stop ends it.
	cmd := exec.CommandContext(context.WithoutCancel(ctx), bin)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "GOTRACEBACK=all"}, env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	p := &Proc{Name: name, Addr: addr, URL: "http://" + addr, bin: bin, logPath: logPath, logStart: logStart, env: env, cmd: cmd, log: logf, done: make(chan error, 1)}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return nil, fmt.Errorf("%s: start: %w", name, err)
	}
	go func() { p.done <- cmd.Wait() }()
	client := &http.Client{Timeout: time.Second}
	deadline := start.Add(30 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/healthz", nil)
		resp, err := client.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				p.Ready = time.Since(start)
				return p, nil
			}
			err = fmt.Errorf("GET /healthz: %s", resp.Status)
		}
		select {
		case werr := <-p.done:
			p.done <- werr
			_ = logf.Close()
			if werr == nil {
				werr = errors.New("exit status 0")
			}
			return nil, fmt.Errorf("%s exited before it was ready (%w); log: %s", name, werr, tail(logPath))
		default:
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			_ = p.Stop()
			return nil, fmt.Errorf("%s not ready after 30 s: %w; log: %s", name, err, tail(logPath))
		}
		time.Sleep(time.Millisecond)
	}
}

func tail(path string) string {
	b, _ := os.ReadFile(path) //nolint:gosec // G304: the harness's own log file in its run directory
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// Restart stops the process and starts it again with the same binary, address and
// environment (appending to its log), returning the new process.
func (p *Proc) Restart(ctx context.Context) (*Proc, error) {
	if err := p.Stop(); err != nil {
		return nil, err
	}
	return Start(ctx, p.Name, p.bin, p.Addr, p.logPath, p.env)
}

// Respawn starts a new process like p (same binary, address, environment and log), for
// after p has ended.
func (p *Proc) Respawn(ctx context.Context) (*Proc, error) {
	return Start(ctx, p.Name, p.bin, p.Addr, p.logPath, p.env)
}

// Goroutines ends the process with SIGQUIT, which makes the Go runtime print every
// goroutine's stack (GOTRACEBACK=all is set at start) to the log, and returns how many
// goroutines the dump lists. The process is gone afterwards.
func (p *Proc) Goroutines() (int, error) {
	defer p.log.Close()
	if err := p.cmd.Process.Signal(syscall.SIGQUIT); err != nil {
		return 0, fmt.Errorf("%s: SIGQUIT: %w", p.Name, err)
	}
	select {
	case werr := <-p.done:
		// The runtime exits with status 2 after the dump; only a failed wait is an error.
		var exit *exec.ExitError
		if werr != nil && !errors.As(werr, &exit) {
			return 0, fmt.Errorf("%s: wait: %w", p.Name, werr)
		}
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		_ = p.wait() // "signal: killed", the intended end
		return 0, fmt.Errorf("%s: did not exit on SIGQUIT", p.Name)
	}
	f, err := os.Open(p.logPath)
	if err != nil {
		return 0, fmt.Errorf("%s: log: %w", p.Name, err)
	}
	defer f.Close()
	if _, err := f.Seek(p.logStart, io.SeekStart); err != nil {
		return 0, fmt.Errorf("%s: log: %w", p.Name, err)
	}
	return CountGoroutines(f)
}

var goroutineHeader = regexp.MustCompile(`^goroutine \d+ .*\[.*\]:$`)

// CountGoroutines counts the goroutine headers ("goroutine 7 [select]:") of a Go stack dump.
func CountGoroutines(r io.Reader) (int, error) {
	n := 0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if goroutineHeader.MatchString(sc.Text()) {
			n++
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read stack dump: %w", err)
	}
	if n == 0 {
		return 0, errors.New("no goroutine in the stack dump")
	}
	return n, nil
}

// wait waits for the process to end and returns what exec.Cmd.Wait returned.
func (p *Proc) wait() error { return <-p.done }

// Pid returns the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Stop sends SIGTERM, waits up to 10 s, then kills the process.
func (p *Proc) Stop() error {
	defer p.log.Close()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return nil // a signal exit is the expected end
		}
		return err
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		_ = p.wait() // "signal: killed", the intended end
		return fmt.Errorf("%s: did not stop within 10 s of SIGTERM", p.Name)
	}
}

// RSS returns the process's resident set size in bytes (VmRSS of /proc/<pid>/status).
func (p *Proc) RSS() (int64, error) { return RSSOf(p.Pid()) }

// FDs returns the number of open file descriptors of the process.
func (p *Proc) FDs() (int, error) {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.Pid()))
	if err != nil {
		return 0, fmt.Errorf("%s: open files: %w", p.Name, err)
	}
	return len(ents), nil
}

// Threads returns the number of OS threads of the process.
func (p *Proc) Threads() (int, error) {
	v, err := statusField(p.Pid(), "Threads:")
	return int(v), err
}

// RSSOf returns VmRSS of process pid in bytes.
func RSSOf(pid int) (int64, error) {
	kb, err := statusField(pid, "VmRSS:")
	return kb * 1024, err
}

func statusField(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("proc status: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, field); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				break
			}
			return strconv.ParseInt(f[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("proc status: no %s", field)
}

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// tailLines is how many of a child's last lines an error report shows.
const tailLines = 20

// child is one started process.
type child struct {
	name string
	cmd  *exec.Cmd
	tail *tail
	done chan struct{} // closed when the process has exited and its output is drained
	err  error         // the exit status, valid after done
}

// exited reports whether the process has ended.
func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// supervisor starts children, watches them, and stops them in reverse order.
type supervisor struct {
	console     *console
	stopTimeout time.Duration
	children    []*child
	exits       chan *child
}

func newSupervisor(c *console, stopTimeout time.Duration) *supervisor {
	return &supervisor{console: c, stopTimeout: stopTimeout, exits: make(chan *child, 16)}
}

// start runs path with args in dir with env, its output prefixed with name.
func (s *supervisor) start(name, dir, path string, args, env []string) (*child, error) {
	c := &child{name: name, tail: newTail(tailLines), done: make(chan struct{})}
	stdout := &lineWriter{name: name, console: s.console, tail: c.tail}
	stderr := &lineWriter{name: name, console: s.console, tail: c.tail}
	// No CommandContext: stopAll ends children itself, SIGTERM first and SIGKILL only after
	// the stop timeout, which a context's cancellation (SIGKILL at once) would skip.
	cmd := exec.Command(path, args...) //nolint:gosec,noctx // the launcher runs the binaries it built; see above
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = childAttrs()
	cmd.WaitDelay = 2 * time.Second // stop waiting for output a grandchild keeps open
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c.cmd = cmd
	s.children = append(s.children, c)
	go func() {
		c.err = cmd.Wait()
		stdout.flush()
		stderr.flush()
		close(c.done)
		s.exits <- c
	}()
	return c, nil
}

// waitHealthy polls url until it answers 200, the child exits, timeout passes or ctx ends.
func (s *supervisor) waitHealthy(ctx context.Context, c *child, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("%s: health URL: %w", c.name, err)
		}
		if resp, err := client.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-c.done:
			return fmt.Errorf("%s exited before it was healthy (%w); its last lines:\n%s", c.name, c.exitErr(), c.tail)
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("%s was not healthy at %s within %s; its last lines:\n%s", c.name, url, timeout, c.tail)
			}
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// stopAll stops the running children, last started first: SIGTERM, then SIGKILL after the
// stop timeout.
func (s *supervisor) stopAll() {
	for i := len(s.children) - 1; i >= 0; i-- {
		c := s.children[i]
		if c.exited() {
			continue
		}
		s.console.printf("stopping %s", c.name)
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.done:
		case <-time.After(s.stopTimeout):
			s.console.printf("%s did not stop within %s: killing it", c.name, s.stopTimeout)
			_ = c.cmd.Process.Signal(os.Kill)
			<-c.done
		}
	}
}

// watch waits until ctx ends (a normal stop, nil) or a child exits (an error naming it).
func (s *supervisor) watch(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case c := <-s.exits:
		return fmt.Errorf("%s exited unexpectedly (%w); its last lines:\n%s", c.name, c.exitErr(), c.tail)
	}
}

// portInUse reports whether something already accepts connections on addr.
func portInUse(ctx context.Context, addr string) bool {
	d := net.Dialer{Timeout: 300 * time.Millisecond}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	_ = conn.Close()
	return true
}

// exitErr is how the child ended, as an error even when it exited with status 0.
func (c *child) exitErr() error {
	if c.err == nil {
		return errors.New("exit status 0")
	}
	return c.err
}

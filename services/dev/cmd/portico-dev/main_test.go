package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMain doubles as the fake piece the launcher starts in these tests.
func TestMain(m *testing.M) {
	if os.Getenv("PORTICO_DEV_FAKE_CHILD") == "1" {
		fakeChild()
		return
	}
	os.Exit(m.Run())
}

// fakeChild is a server like Portico's: it answers GET /healthz on FAKE_ADDR and stops on
// SIGTERM, saying "bye". FAKE_MODE changes that: unhealthy never listens, crash exits soon
// after its first health check, stubborn ignores SIGTERM.
func fakeChild() {
	name, mode := os.Getenv("FAKE_NAME"), os.Getenv("FAKE_MODE")
	fmt.Println("started", name)
	_, hasProfile := os.LookupEnv("AWS_PROFILE")
	fmt.Printf("env AWS_ENDPOINT_URL=%s AWS_PROFILE set=%v FAKE_SETTING=%s\n", os.Getenv("AWS_ENDPOINT_URL"), hasProfile, os.Getenv("FAKE_SETTING"))
	fmt.Fprint(os.Stderr, "a line on stderr without newline")
	sigc := make(chan os.Signal, 1)
	if mode == "stubborn" {
		signal.Ignore(syscall.SIGTERM)
	} else {
		signal.Notify(sigc, syscall.SIGTERM)
	}
	if mode != "unhealthy" {
		ln, err := net.Listen("tcp", os.Getenv("FAKE_ADDR"))
		if err != nil {
			fmt.Println("listen:", err)
			os.Exit(2)
		}
		var once sync.Once
		go func() {
			_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = fmt.Fprint(w, "ok")
				if mode == "crash" {
					once.Do(func() {
						go func() {
							time.Sleep(50 * time.Millisecond)
							fmt.Println("crashing")
							os.Exit(3)
						}()
					})
				}
			}))
		}()
	} else {
		fmt.Println("\nwarming up")
	}
	<-sigc
	fmt.Println("bye", name)
	os.Exit(0)
}

// syncBuffer is a bytes.Buffer safe for the console's writers and the test's readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls out until it contains s.
func waitFor(t *testing.T, out *syncBuffer, s string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %q in output:\n%s", s, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().String()
}

// fakeRepo makes a repository root whose pieces are this test binary in fake-child mode.
func fakeRepo(t *testing.T, modes ...string) (root string, stack func(string, string) []piece) {
	t.Helper()
	root = t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var pieces []piece
	for i, mode := range modes {
		name := fmt.Sprintf("p%d", i+1)
		pkg := filepath.Join("cmd", "fake-"+name)
		if err := os.MkdirAll(filepath.Join(root, pkg), 0o755); err != nil {
			t.Fatal(err)
		}
		bin := filepath.Join(root, ".tools", "bin", "fake-"+name)
		if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(self, bin); err != nil {
			t.Fatal(err)
		}
		pieces = append(pieces, piece{Name: name, Pkg: pkg, Addr: freeAddr(t), Env: map[string]string{
			"PORTICO_DEV_FAKE_CHILD": "1", "FAKE_NAME": name, "FAKE_MODE": mode, "FAKE_SETTING": "default",
		}})
	}
	for i := range pieces {
		pieces[i].Env["FAKE_ADDR"] = pieces[i].Addr
	}
	return root, func(string, string) []piece { return pieces }
}

func startRun(t *testing.T, ctx context.Context, opts options, environ []string) (*syncBuffer, <-chan error) {
	t.Helper()
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, &console{out: out}, opts, environ) }()
	return out, done
}

func baseOptions(root string, stack func(string, string) []piece) options {
	return options{root: root, stack: stack, noBuild: true, healthTimeout: 10 * time.Second, stopTimeout: 5 * time.Second}
}

func TestRunStartsInOrderAndStopsInReverse(t *testing.T) {
	t.Parallel()
	root, stack := fakeRepo(t, "ok", "ok")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	environ := []string{"PATH=/usr/bin:/bin", "AWS_PROFILE=prod", "AWS_ENDPOINT_URL=https://real.example", "FAKE_SETTING=mine"}
	out, done := startRun(t, ctx, baseOptions(root, stack), environ)
	waitFor(t, out, "Press Ctrl-C to stop.")
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run after a stop signal: %v\n%s", err, out)
	}
	got := out.String()
	order := []string{"p1       │ started p1", "p1 is healthy", "p2       │ started p2", "p2 is healthy", "stopping p2", "p2       │ bye p2", "stopping p1", "p1       │ bye p1"}
	last := -1
	for _, s := range order {
		i := strings.Index(got, s)
		if i < 0 || i < last {
			t.Fatalf("%q missing or out of order in:\n%s", s, got)
		}
		last = i
	}
	for _, s := range []string{
		"AWS_ENDPOINT_URL=http://localhost:4566 AWS_PROFILE set=false FAKE_SETTING=mine", // forced AWS, caller wins elsewhere
		"p1       │ a line on stderr without newline",
	} {
		if !strings.Contains(got, s) {
			t.Errorf("output lacks %q:\n%s", s, got)
		}
	}
	if _, err := os.Stat(filepath.Join(root, ".data", "cookie-keys")); err != nil {
		t.Errorf("cookie key not stored: %v", err)
	}
}

func TestRunRealAWSKeepsCallerSettings(t *testing.T) {
	t.Parallel()
	root, stack := fakeRepo(t, "ok")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := baseOptions(root, stack)
	opts.realAWS = true
	out, done := startRun(t, ctx, opts, []string{"AWS_PROFILE=prod", "AWS_ENDPOINT_URL=https://real.example"})
	waitFor(t, out, "Press Ctrl-C to stop.")
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run after cancel: %v", err)
	}
	if !strings.Contains(out.String(), "AWS_ENDPOINT_URL=https://real.example AWS_PROFILE set=true") {
		t.Errorf("-real-aws changed the AWS settings:\n%s", out)
	}
}

func TestRunFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		modes   []string
		want    []string // in the error
		stopped string   // a piece that must have been stopped
	}{
		{"child dies", []string{"ok", "crash"}, []string{"p2 exited unexpectedly", "crashing"}, "bye p1"},
		{"never healthy", []string{"ok", "unhealthy"}, []string{"p2 was not healthy", "/healthz", "warming up"}, "bye p1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root, stack := fakeRepo(t, tt.modes...)
			opts := baseOptions(root, stack)
			opts.healthTimeout = 2 * time.Second
			out, done := startRun(t, context.Background(), opts, nil)
			var err error
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				t.Fatalf("run did not end:\n%s", out)
			}
			if err == nil {
				t.Fatalf("run succeeded:\n%s", out)
			}
			for _, s := range tt.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error lacks %q: %v", s, err)
				}
			}
			if !strings.Contains(out.String(), tt.stopped) {
				t.Errorf("%q not in output:\n%s", tt.stopped, out)
			}
		})
	}
}

func TestRunRefusesBusyPort(t *testing.T) {
	t.Parallel()
	root, stack := fakeRepo(t, "ok")
	ln, err := net.Listen("tcp", stack("", "")[0].Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	_, done := startRun(t, context.Background(), baseOptions(root, stack), nil)
	if err := <-done; err == nil || !strings.Contains(err.Error(), "already in use") {
		t.Errorf("err = %v, want the busy port named", err)
	}
}

// TestRunRefusesBadLogFormat: the launcher checks PORTICO_LOG_FORMAT by the rule its
// children follow before it starts anything.
func TestRunRefusesBadLogFormat(t *testing.T) {
	t.Parallel()
	root, stack := fakeRepo(t, "ok")
	_, done := startRun(t, context.Background(), baseOptions(root, stack), []string{"PORTICO_LOG_FORMAT=xml"})
	if err := <-done; err == nil || !strings.Contains(err.Error(), "PORTICO_LOG_FORMAT") {
		t.Errorf("err = %v, want PORTICO_LOG_FORMAT named", err)
	}
}

func TestRunNeedsBinariesWithNoBuild(t *testing.T) {
	t.Parallel()
	root, stack := fakeRepo(t, "ok")
	if err := os.Remove(filepath.Join(root, ".tools", "bin", "fake-p1")); err != nil {
		t.Fatal(err)
	}
	_, done := startRun(t, context.Background(), baseOptions(root, stack), nil)
	if err := <-done; err == nil || !strings.Contains(err.Error(), "not built") {
		t.Errorf("err = %v", err)
	}
}

func TestStopKillsStubbornChild(t *testing.T) {
	t.Parallel()
	root, stack := fakeRepo(t, "stubborn")
	p := stack("", "")[0]
	out := &syncBuffer{}
	con := &console{out: out}
	sup := newSupervisor(con, 300*time.Millisecond)
	c, err := sup.start(p.Name, root, filepath.Join(root, ".tools", "bin", p.Binary()), nil, childEnv(os.Environ(), p.Env, nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := sup.waitHealthy(context.Background(), c, p.HealthURL(), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	sup.stopAll()
	if !c.exited() || !strings.Contains(out.String(), "did not stop within 300ms: killing it") {
		t.Errorf("stubborn child: exited=%v\n%s", c.exited(), out)
	}
}

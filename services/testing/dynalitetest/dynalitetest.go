// Package dynalitetest runs dynalite, a local DynamoDB emulator, for tests.
//
// One dynalite process per test binary is started on first use on a free loopback port;
// the package's TestMain stops it with [Main]:
//
//	func TestMain(m *testing.M) { dynalitetest.Main(m) }
//
//	func TestX(t *testing.T) {
//		srv := dynalitetest.Start(t)
//		table := srv.Table("portico-test")
//		... srv.Client ...
//	}
//
// The binary is $PORTICO_DYNALITE (which `make test` sets) or the repository's
// .tools/dynalite/node_modules/.bin/dynalite that `make tools` installs; when neither
// exists the test fails with install instructions.
package dynalitetest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Server is a running dynalite process.
type Server struct {
	// URL is the endpoint, http://127.0.0.1:port.
	URL string
	// Client is a DynamoDB client for URL with static test credentials.
	Client *dynamodb.Client

	cmd    *exec.Cmd
	tables atomic.Int64
}

// shared is the test binary's one dynalite process. It is the package's only state:
// a process per test would cost a Node.js start each.
var shared struct {
	once sync.Once
	srv  *Server
	err  error
}

// Start returns the test binary's dynalite server, starting it on first use. It fails t
// when dynalite is not installed or does not start.
func Start(t testing.TB) *Server {
	t.Helper()
	shared.once.Do(func() { shared.srv, shared.err = start() })
	if shared.err != nil {
		t.Fatalf("dynalite: %v", shared.err)
	}
	return shared.srv
}

// Main runs the tests, stops the dynalite server if one was started and exits; call it
// from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Stop kills the dynalite server if one was started. [Main] calls it.
func Stop() {
	if shared.srv != nil {
		_ = shared.srv.cmd.Process.Kill()
		_ = shared.srv.cmd.Wait()
	}
}

// Table returns a table name, prefix-pid-n, that no other test of the binary uses.
func (s *Server) Table(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), s.tables.Add(1))
}

// NewClient returns a DynamoDB client for endpoint with the static test credentials;
// endpoint need not be a dynalite server (tests of unreachable endpoints use it).
func NewClient(endpoint string, opts ...func(*dynamodb.Options)) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("portico-test", "portico-test", ""),
	}, opts...)
}

// DeadEndpoint returns the URL of a loopback port that nothing listens on.
func DeadEndpoint(t testing.TB) string {
	t.Helper()
	l, err := new(net.ListenConfig).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return "http://" + addr
}

// Path finds the dynalite binary: $PORTICO_DYNALITE, or the repository's
// .tools/dynalite/node_modules/.bin/dynalite that `make tools` installs.
func Path() (string, error) {
	if p := os.Getenv("PORTICO_DYNALITE"); p != "" {
		if _, err := os.Stat(p); err != nil { //nolint:gosec // G703: the developer names the binary to run
			return "", fmt.Errorf("PORTICO_DYNALITE=%s: %w", p, err)
		}
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, ".tools", "dynalite", "node_modules", ".bin", "dynalite")
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("dynalite is not installed at %s: run `make tools` (or `npm install --prefix .tools/dynalite dynalite@4.0.0`), or set PORTICO_DYNALITE", p)
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the test directory and PORTICO_DYNALITE is unset")
		}
		dir = parent
	}
}

// survivingAborts runs dynalite's CLI (its path is the script's first argument) so that a
// client going away mid-request does not end the process: dynalite 4.0.0 rethrows a request's
// socket error (ECONNRESET when a test cancels a call, as the quota races and deadline tests
// do under load), which would crash the one server every later test of the package shares.
// Any other uncaught error still ends it.
const survivingAborts = `process.on('uncaughtException', (err) => {
  const code = err && (err.code || err.message);
  if (['ECONNRESET', 'ECONNABORTED', 'EPIPE', 'aborted'].includes(code)) {
    console.error('dynalite: a client went away mid-request (' + code + '); serving on');
    return;
  }
  console.error(err);
  process.exit(70);
});
require(process.argv[1]);`

func start() (*Server, error) {
	ctx := context.Background() // the process outlives the test that starts it
	bin, err := Path()
	if err != nil {
		return nil, err
	}
	l, err := new(net.ListenConfig).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	cli, err := filepath.EvalSymlinks(bin) // node_modules/.bin/dynalite links to dynalite/cli.js
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "node", "-e", survivingAborts, cli, //nolint:gosec // G204: cli is $PORTICO_DYNALITE or the repository's own install
		"--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	// Readiness: wait (bounded) for the port to accept connections.
	deadline := time.Now().Add(20 * time.Second)
	dialer := net.Dialer{Timeout: time.Second}
	for {
		c, err := dialer.DialContext(ctx, "tcp", addr)
		if err == nil {
			_ = c.Close()
			url := "http://" + addr
			return &Server{URL: url, Client: NewClient(url), cmd: cmd}, nil
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return nil, fmt.Errorf("dynalite did not listen on %s: %w", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

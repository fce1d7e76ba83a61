package dynamosession

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

// dynalite is one dynalite process shared by the package's tests, started on first use on
// a free loopback port and stopped by TestMain.
var dynalite struct {
	once     sync.Once
	cmd      *exec.Cmd
	endpoint string
	err      error
}

var tableSeq atomic.Int64

func TestMain(m *testing.M) {
	code := m.Run()
	if dynalite.cmd != nil && dynalite.cmd.Process != nil {
		_ = dynalite.cmd.Process.Kill()
		_ = dynalite.cmd.Wait()
	}
	os.Exit(code)
}

// dynalitePath finds the dynalite binary: $PORTICO_DYNALITE, or the repository's
// .tools/dynalite/node_modules/.bin/dynalite that `make tools` installs.
func dynalitePath() (string, error) {
	if p := os.Getenv("PORTICO_DYNALITE"); p != "" {
		if _, err := os.Stat(p); err != nil {
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

func startDynalite() (*exec.Cmd, string, error) {
	bin, err := dynalitePath()
	if err != nil {
		return nil, "", err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	cmd := exec.Command(bin, "--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("start dynalite: %w", err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	// Readiness: wait (bounded) for the port to accept connections.
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			return cmd, "http://" + addr, nil
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return nil, "", fmt.Errorf("dynalite did not listen on %s: %w", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// client returns a DynamoDB client for the shared dynalite, starting it if needed.
func client(t testing.TB) *dynamodb.Client {
	t.Helper()
	dynalite.once.Do(func() {
		dynalite.cmd, dynalite.endpoint, dynalite.err = startDynalite()
	})
	if dynalite.err != nil {
		t.Fatalf("dynalite: %v", dynalite.err)
	}
	return clientFor(dynalite.endpoint)
}

func clientFor(endpoint string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("portico-test", "portico-test", ""),
	})
}

// newTable creates a fresh table and returns its name.
func newTable(t testing.TB, db *dynamodb.Client) string {
	t.Helper()
	name := fmt.Sprintf("portico-sessions-%d-%d", os.Getpid(), tableSeq.Add(1))
	if err := EnsureTable(context.Background(), db, name); err != nil {
		t.Fatal(err)
	}
	return name
}

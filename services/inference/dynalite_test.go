package inference_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/store/dynamostore"
)

// The dynalite process shared by the package's DynamoDB tests, started on first use when
// PORTICO_DYNALITE names the binary; it is killed by TestMain.
var dynalite struct {
	once     sync.Once
	cmd      *exec.Cmd
	endpoint string
	err      error
	tables   atomic.Int64
}

func TestMain(m *testing.M) {
	code := m.Run()
	if dynalite.cmd != nil {
		_ = dynalite.cmd.Process.Kill()
		_ = dynalite.cmd.Wait()
	}
	os.Exit(code)
}

// openDynamo returns a fresh DynamoDB store on dynalite, or skips the test when
// PORTICO_DYNALITE is unset.
func openDynamo(t testing.TB, opts store.Options) store.Store {
	t.Helper()
	bin := os.Getenv("PORTICO_DYNALITE")
	if bin == "" {
		t.Skip("PORTICO_DYNALITE is unset (make tools installs dynalite; make test sets it)")
	}
	dynalite.once.Do(func() { dynalite.cmd, dynalite.endpoint, dynalite.err = startDynalite(bin) })
	if dynalite.err != nil {
		t.Fatalf("dynalite: %v", dynalite.err)
	}
	db := dynamodb.New(dynamodb.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(dynalite.endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("portico-test", "portico-test", ""),
	})
	table := fmt.Sprintf("inference-test-%d-%d", os.Getpid(), dynalite.tables.Add(1))
	if err := dynamostore.EnsureTable(context.Background(), db, table); err != nil {
		t.Fatalf("create table: %v", err)
	}
	return dynamostore.New(db, table, opts)
}

func startDynalite(bin string) (*exec.Cmd, string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	cmd := exec.Command(bin, "--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("start %s: %w", bin, err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
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

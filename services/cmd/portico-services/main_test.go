package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"

	identityv1 "github.com/portico-dev/portico/gen/go/portico/identity/v1"
	"github.com/portico-dev/portico/gen/go/portico/identity/v1/identityv1connect"
	"github.com/portico-dev/portico/services/dev/devidp/devidptest"
	"github.com/portico-dev/portico/services/platform/lambdahttp/runtimeapitest"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/testing/dynalitetest"
)

var binary string // built once by TestMain

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "portico-services-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "portico-services")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build portico-services:", err)
		os.Exit(1)
	}
	code := m.Run()
	dynalitetest.Stop() // started by TestLambdaBuild
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running portico-services process.
type proc struct {
	cmd  *exec.Cmd
	addr chan string   // the listen address, from the "listening" log record
	done chan struct{} // closed when the process has exited
	err  error         // the exit status, once done is closed
	mu   sync.Mutex
	logs strings.Builder
}

func (p *proc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// baseEnv is a minimal environment: a store under dir, and AWS settings that never reach
// AWS (the dev credentials localaws accepts, no instance metadata).
func baseEnv(dir string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"PORTICO_STORE=sqlite:" + filepath.Join(dir, "portico.db"),
		"PORTICO_ATTACHMENT_STORE=dir:" + filepath.Join(dir, "attachments"),
		"PORTICO_CONVERSATION_STORE=sqlite:" + filepath.Join(dir, "conversations.db"),
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=portico-dev", "AWS_SECRET_ACCESS_KEY=portico-dev-secret",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_ENDPOINT_URL=http://127.0.0.1:1",
	}
}

// productionSettings are what production requires besides the issuer and the store (which
// baseEnv sets): the client ids and a policy file (the dev policy, written to a file).
func productionSettings(t testing.TB) []string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, policy.DefaultYAML(), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"PORTICO_CLIENT_IDS=portico-web,portico-machine", "PORTICO_POLICY_FILE=" + path}
}

// spawn starts the binary with env (on top of a minimal environment) and JSON logs.
func spawn(t testing.TB, env ...string) *proc {
	t.Helper()
	// The development key store (PORTICO_KEY_STORE's default is relative to the working
	// directory) goes to the test's temporary folder; env may override it.
	keys := "PORTICO_KEY_STORE=sqlite:" + filepath.Join(t.TempDir(), "keys.db")
	return spawnBinary(t, binary, append([]string{keys}, env...)...)
}

// spawnBinary is spawn for another build of the command.
func spawnBinary(t testing.TB, bin string, env ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin)
	dir := t.TempDir()
	cmd.Env = append(baseEnv(dir), "PORTICO_LOG_FORMAT=json", "PORTICO_SERVICES_ADDR=127.0.0.1:0")
	cmd.Env = append(cmd.Env, env...) // later entries win
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, addr: make(chan string, 1), done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.logs.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "listening" {
				p.addr <- rec.Addr
			}
		}
	}()
	go func() {
		<-scanned
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	return p
}

// url waits for the standalone server's address.
func (p *proc) url(t testing.TB) string {
	t.Helper()
	select {
	case addr := <-p.addr:
		return "http://" + addr
	case <-p.done:
		t.Fatalf("exited before listening: %v\n%s", p.err, p.log())
	case <-time.After(30 * time.Second):
		t.Fatalf("not listening after 30 s\n%s", p.log())
	}
	return ""
}

func h2cClient() *http.Client {
	tr := &http.Transport{}
	tr.Protocols = new(http.Protocols)
	tr.Protocols.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: tr}
}

func getMe(ctx context.Context, client identityv1connect.IdentityServiceClient, token string) (*identityv1.GetMeResponse, error) {
	ctx, info := connect.NewClientContext(ctx)
	if token != "" {
		info.RequestHeader().Set("Authorization", "Bearer "+token)
	}
	return client.GetMe(ctx, &identityv1.GetMeRequest{})
}

func TestStandalone(t *testing.T) {
	t.Parallel()
	idp := devidptest.Start(t)
	p := spawn(t, "PORTICO_ISSUER="+idp.Issuer())
	base := p.url(t)
	alice := idp.AccessToken(t, "alice")

	protocols := []struct {
		name   string
		client *http.Client
		opts   []connect.ClientOption
	}{
		{"grpc", h2cClient(), []connect.ClientOption{connect.WithGRPC()}},
		{"connect", http.DefaultClient, nil},
		{"grpcweb", http.DefaultClient, []connect.ClientOption{connect.WithGRPCWeb()}},
	}
	tests := []struct {
		name  string
		token string
		code  connect.Code
	}{
		{"alice", alice, 0},
		{"no token", "", connect.CodeUnauthenticated},
		{"garbage token", "not.a.jwt", connect.CodeUnauthenticated},
	}
	for _, proto := range protocols {
		for _, tt := range tests {
			t.Run(proto.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				client := identityv1connect.NewIdentityServiceClient(proto.client, base, proto.opts...)
				me, err := getMe(context.Background(), client, tt.token)
				if connect.CodeOf(err) != tt.code && (tt.code != 0 || err != nil) {
					t.Fatalf("err = %v, want code %v", err, tt.code)
				}
				if tt.code == 0 && me.GetPrincipal().GetUsername() != "alice" {
					t.Errorf("GetMe = %v", me)
				}
			})
		}
	}
	t.Run("reflection lists the services", func(t *testing.T) {
		t.Parallel()
		stream := grpcreflect.NewClient(h2cClient(), base, connect.WithGRPC()).NewStream(context.Background())
		defer func() { _, _ = stream.Close() }()
		names, err := stream.ListServices()
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(names) == "" || !strings.Contains(fmt.Sprint(names), identityv1connect.IdentityServiceName) {
			t.Errorf("reflection lists %v", names)
		}
	})
	t.Run("buf curl", func(t *testing.T) {
		t.Parallel()
		buf := findBuf(t)
		list, err := exec.Command(buf, "curl", "--protocol", "grpc", "--http2-prior-knowledge", base, "--list-methods").CombinedOutput()
		if err != nil || !strings.Contains(string(list), "portico.identity.v1.IdentityService/GetMe") {
			t.Errorf("buf curl --list-methods: %v\n%s", err, list)
		}
		me, err := exec.Command(buf, "curl", "--protocol", "grpc", "--http2-prior-knowledge",
			"-H", "Authorization: Bearer "+alice, "-d", "{}", base+"/portico.identity.v1.IdentityService/GetMe").CombinedOutput()
		if err != nil || !strings.Contains(string(me), `"username": "alice"`) {
			t.Errorf("buf curl GetMe: %v\n%s", err, me)
		}
	})
	t.Run("health", func(t *testing.T) {
		t.Parallel()
		resp, err := grpchealth.NewClient(h2cClient(), base, connect.WithGRPC()).Check(context.Background(),
			&grpchealth.CheckRequest{Service: identityv1connect.IdentityServiceName})
		if err != nil || resp.Status != grpchealth.StatusServing {
			t.Errorf("health: %v, %v", resp, err)
		}
	})
}

// findBuf returns the buf CLI: on PATH, or the one `make tools` installs with the frontend.
func findBuf(t *testing.T) string {
	t.Helper()
	if path, err := exec.LookPath("buf"); err == nil {
		return path
	}
	path, err := filepath.Abs("../../../frontend/node_modules/.bin/buf")
	if err == nil {
		if _, err = os.Stat(path); err == nil {
			return path
		}
	}
	t.Skip("buf not installed (make tools)")
	return ""
}

func TestLambda(t *testing.T) {
	t.Parallel()
	idp := devidptest.Start(t)
	alice := idp.AccessToken(t, "alice")
	for _, event := range []string{runtimeapitest.FunctionURL, runtimeapitest.APIGateway} {
		t.Run(event, func(t *testing.T) {
			t.Parallel()
			api := runtimeapitest.New()
			t.Cleanup(api.Close)
			p := spawn(t, append(productionSettings(t), "PORTICO_ISSUER="+idp.Issuer(), "AWS_LAMBDA_RUNTIME_API="+api.Addr(), "PORTICO_LAMBDA_EVENT="+event)...)
			httpClient := &http.Client{Transport: &runtimeapitest.Transport{Server: api, Event: event}}
			for _, opts := range [][]connect.ClientOption{nil, {connect.WithGRPCWeb()}, {connect.WithProtoJSON()}} {
				client := identityv1connect.NewIdentityServiceClient(httpClient, "https://lambda.example", opts...)
				me, err := getMe(context.Background(), client, alice)
				if err != nil {
					t.Fatalf("GetMe: %v\n%s", err, p.log())
				}
				if me.GetPrincipal().GetUsername() != "alice" {
					t.Errorf("GetMe = %v", me)
				}
				if _, err := getMe(context.Background(), client, ""); connect.CodeOf(err) != connect.CodeUnauthenticated {
					t.Errorf("GetMe without token: %v", err)
				}
			}
			resp, err := httpClient.Get("https://lambda.example/healthz")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK || string(body) != "ok\n" {
				t.Errorf("healthz: %d %q", resp.StatusCode, body)
			}
		})
	}
}

func TestServiceSelection(t *testing.T) {
	t.Parallel()
	const (
		identity  = "portico.identity.v1.IdentityService"
		inference = "portico.inference.v1.InferenceService"
		admin     = "portico.admin.v1.AdminService"
		apikey    = "portico.apikey.v1.ApiKeyService"
		// conversation is mounted with inference.
		conversation = "portico.conversation.v1.ConversationService"
	)
	tests := []struct {
		name    string
		service string
		want    []string // the Portico services reflection lists; nil: refuses to start
	}{
		{"default is all", "", []string{admin, apikey, conversation, identity, inference}},
		{"all", "all", []string{admin, apikey, conversation, identity, inference}},
		{"apikey", "apikey", []string{apikey}},
		{"identity", "identity", []string{identity}},
		{"inference and admin", "inference, admin", []string{admin, conversation, inference}},
		{"unknown", "billing", nil},
		{"empty list", ",", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := spawn(t, "PORTICO_SERVICE="+tt.service)
			if tt.want == nil {
				select {
				case <-p.done:
					var exit *exec.ExitError
					if !errors.As(p.err, &exit) || exit.ExitCode() != 1 || !strings.Contains(p.log(), "PORTICO_SERVICE") {
						t.Errorf("exit %v, log %s", p.err, p.log())
					}
				case <-time.After(30 * time.Second):
					t.Fatal("still running")
				}
				return
			}
			stream := grpcreflect.NewClient(h2cClient(), p.url(t), connect.WithGRPC()).NewStream(context.Background())
			defer func() { _, _ = stream.Close() }()
			names, err := stream.ListServices()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, n := range names {
				if strings.HasPrefix(string(n), "portico.") {
					got = append(got, string(n))
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("mounted %v, want %v", got, tt.want)
			}
		})
	}
}

func TestInitErrorOnLambda(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  []string // on top of a complete production environment, unless bare
		bare bool     // only the store of baseEnv: nothing production requires
		want []string // in the reported error message
	}{
		{"missing policy file", []string{"PORTICO_POLICY_FILE=/nonexistent/policy.yaml"}, false, []string{"policy"}},
		{"unknown event shape", []string{"PORTICO_LAMBDA_EVENT=alb"}, false, []string{"alb"}},
		{"unknown service", []string{"PORTICO_SERVICE=billing"}, false, []string{"billing"}},
		{"no production settings", nil, true, []string{"PORTICO_ISSUER", "PORTICO_CLIENT_IDS", "PORTICO_POLICY_FILE"}},
		{"no store", []string{"PORTICO_STORE="}, false, []string{"PORTICO_STORE"}},
		{"no attachment store", []string{"PORTICO_ATTACHMENT_STORE="}, false, []string{"PORTICO_ATTACHMENT_STORE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api := runtimeapitest.New()
			t.Cleanup(api.Close)
			env := []string{"AWS_LAMBDA_RUNTIME_API=" + api.Addr()}
			if !tt.bare {
				env = append(env, append(productionSettings(t), "PORTICO_ISSUER=https://issuer.example")...)
			}
			p := spawn(t, append(env, tt.env...)...)
			select {
			case report := <-api.InitErrors():
				msg := runtimeapitest.ErrorMessage(report.Body)
				for _, want := range tt.want {
					if !strings.Contains(msg, want) {
						t.Errorf("init error %q, want it to mention %q", msg, want)
					}
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("no init error\n%s", p.log())
			}
			<-p.done
			if p.err == nil {
				t.Error("exited 0")
			}
		})
	}
}

// TestProductionRefusesToStart: PORTICO_ENV=production outside Lambda refuses, naming every
// missing variable, and starts once they are set.
func TestProductionRefusesToStart(t *testing.T) {
	t.Parallel()
	p := spawn(t, "PORTICO_ENV=production", "PORTICO_STORE=", "PORTICO_ATTACHMENT_STORE=")
	select {
	case <-p.done:
		for _, want := range []string{"PORTICO_ISSUER", "PORTICO_CLIENT_IDS", "PORTICO_POLICY_FILE", "PORTICO_STORE", "PORTICO_ATTACHMENT_STORE"} {
			if !strings.Contains(p.log(), want) {
				t.Errorf("log does not name %s:\n%s", want, p.log())
			}
		}
		if p.err == nil {
			t.Error("exited 0")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("still running")
	}
	ok := spawn(t, append(productionSettings(t), "PORTICO_ENV=production", "PORTICO_ISSUER=https://issuer.example")...)
	_ = ok.url(t)
	if !strings.Contains(ok.log(), `"mode":"production"`) || !strings.Contains(ok.log(), "PORTICO_BFF_CLIENT_IDS is not set") {
		t.Errorf("log:\n%s", ok.log())
	}
}

func TestSIGTERMDrains(t *testing.T) {
	t.Parallel()
	p := spawn(t)
	_ = p.url(t)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
		if p.err != nil {
			t.Errorf("exit: %v\n%s", p.err, p.log())
		}
		if !strings.Contains(p.log(), `"msg":"stopped"`) {
			t.Errorf("no stopped record:\n%s", p.log())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("did not stop on SIGTERM")
	}
}

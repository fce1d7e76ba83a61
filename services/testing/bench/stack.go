package bench

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
)

// Policy is the benchmark policy file: the development entitlements with quotas no run can
// exhaust.
//
//go:embed policy.yaml
var Policy []byte

// Binaries are the paths of the built Portico commands.
type Binaries struct {
	DevIdP, LocalAWS, Services, BFF string
}

// BuildBinaries builds the four server commands of the local stack from the module root
// into dir, with one go command (the packages build and link in parallel).
func BuildBinaries(ctx context.Context, root, dir string) (Binaries, error) {
	pkgs := []string{"./services/dev/cmd/portico-devidp", "./services/dev/cmd/portico-localaws", "./services/cmd/portico-services", "./bff/cmd/portico-bff"}
	cmd := exec.CommandContext(ctx, "go", append([]string{"build", "-o", dir + string(filepath.Separator)}, pkgs...)...) //nolint:gosec // G204: go build of the fixed package list into the harness's directory
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		return Binaries{}, fmt.Errorf("go build: %w\n%s", err, msg)
	}
	bin := func(pkg string) string { return filepath.Join(dir, filepath.Base(pkg)) }
	return Binaries{DevIdP: bin(pkgs[0]), LocalAWS: bin(pkgs[1]), Services: bin(pkgs[2]), BFF: bin(pkgs[3])}, nil
}

// Stack is the local Portico stack running as real processes on free loopback ports.
type Stack struct {
	// IdP, AWS, Services and BFF are the four processes.
	IdP, AWS, Services, BFF *Proc
	// Dir holds the processes' data and logs; DBPath is the services' SQLite store.
	Dir, DBPath string

	bins   Binaries
	awsEnv func(tps float64) []string
}

// StartStack starts the dev IdP, the local AWS endpoint streaming at tokensPerSecond (0:
// as fast as possible), the services (the benchmark Policy, a SQLite store in dir) and the
// BFF, in that order, each on a free loopback port, waiting for each one's /healthz.
func StartStack(ctx context.Context, bins Binaries, dir string, tokensPerSecond float64) (*Stack, error) {
	return StartStackWith(ctx, bins, dir, StackOptions{TokensPerSecond: tokensPerSecond})
}

// StackOptions are the settings of StartStackWith.
type StackOptions struct {
	// TokensPerSecond paces the local AWS endpoint (0: as fast as possible).
	TokensPerSecond float64
	// Policy is the services' policy file (nil: the benchmark Policy).
	Policy []byte
}

// StartStackWith is StartStack with options: other tests (such as the portico command's
// smoke test) run the same stack under their own policy.
func StartStackWith(ctx context.Context, bins Binaries, dir string, o StackOptions) (*Stack, error) {
	tokensPerSecond, policy := o.TokensPerSecond, o.Policy
	if policy == nil {
		policy = Policy
	}
	s := &Stack{Dir: dir, DBPath: filepath.Join(dir, "portico.db"), bins: bins}
	var addrs [4]string
	for i := range addrs {
		a, err := FreeAddr(ctx)
		if err != nil {
			return nil, err
		}
		addrs[i] = a
	}
	idpAddr, awsAddr, svcAddr, bffAddr := addrs[0], addrs[1], addrs[2], addrs[3]
	issuer, public := "http://"+idpAddr, "http://"+bffAddr
	policyPath := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policyPath, policy, 0o600); err != nil {
		return nil, fmt.Errorf("policy file: %w", err)
	}
	spaDir := filepath.Join(dir, "spa")
	if err := os.MkdirAll(spaDir, 0o700); err != nil {
		return nil, fmt.Errorf("spa dir: %w", err)
	}
	if err := os.WriteFile(filepath.Join(spaDir, "index.html"), []byte("<!doctype html><title>Portico</title>"), 0o600); err != nil {
		return nil, fmt.Errorf("spa index: %w", err)
	}
	s.awsEnv = func(tps float64) []string {
		return []string{"PORTICO_LOCALAWS_ADDR=" + awsAddr, "PORTICO_LOCALAWS_TOKENS_PER_SECOND=" + strconv.FormatFloat(tps, 'f', -1, 64)}
	}
	var err error
	start := func(name, bin, addr string, env []string) *Proc {
		if err != nil {
			return nil
		}
		var p *Proc
		p, err = Start(ctx, name, bin, addr, filepath.Join(dir, name+".log"), append(env, "PORTICO_LOG_FORMAT=json"))
		return p
	}
	s.IdP = start("devidp", bins.DevIdP, idpAddr, []string{
		"PORTICO_IDP_ADDR=" + idpAddr, "PORTICO_IDP_ISSUER=" + issuer,
		"PORTICO_IDP_DATA_DIR=" + filepath.Join(dir, "idp"),
		"PORTICO_IDP_REDIRECT_URIS=" + public + "/auth/callback", "PORTICO_IDP_LOGOUT_URIS=" + public + "/",
	})
	s.AWS = start("localaws", bins.LocalAWS, awsAddr, s.awsEnv(tokensPerSecond))
	s.Services = start("services", bins.Services, svcAddr, []string{
		"PORTICO_SERVICES_ADDR=" + svcAddr, "PORTICO_ISSUER=" + issuer,
		"PORTICO_POLICY_FILE=" + policyPath, "PORTICO_STORE=sqlite:" + s.DBPath,
		"AWS_REGION=us-east-1", "AWS_ENDPOINT_URL=http://" + awsAddr,
		"AWS_ACCESS_KEY_ID=portico-dev", "AWS_SECRET_ACCESS_KEY=portico-dev-secret",
	})
	s.BFF = start("bff", bins.BFF, bffAddr, []string{
		"PORTICO_BFF_ADDR=" + bffAddr, "PORTICO_PUBLIC_URL=" + public, "PORTICO_OIDC_ISSUER=" + issuer,
		"PORTICO_SERVICES_URL=http://" + svcAddr, "PORTICO_SPA_DIR=" + spaDir,
	})
	if err != nil {
		return nil, errors.Join(err, s.Stop())
	}
	return s, nil
}

// RestartAWS restarts the local AWS endpoint on the same address with a new pace.
func (s *Stack) RestartAWS(ctx context.Context, tokensPerSecond float64) error {
	if err := s.AWS.Stop(); err != nil {
		return fmt.Errorf("stop localaws: %w", err)
	}
	p, err := Start(ctx, "localaws", s.bins.LocalAWS, s.AWS.Addr, filepath.Join(s.Dir, "localaws.log"),
		append(s.awsEnv(tokensPerSecond), "PORTICO_LOG_FORMAT=json"))
	if err != nil {
		return err
	}
	s.AWS = p
	return nil
}

// Stop stops the processes in reverse order of start.
func (s *Stack) Stop() error {
	var errs []error
	for _, p := range []*Proc{s.BFF, s.Services, s.AWS, s.IdP} {
		if p != nil {
			errs = append(errs, p.Stop())
		}
	}
	return errors.Join(errs...)
}

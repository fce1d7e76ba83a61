package bench

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/portico-dev/portico/services/dev/stack"
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

// BuildBinaries builds the four server commands of the local stack (services/dev/stack)
// from the module root into dir, with one go command (the packages build and link in
// parallel).
func BuildBinaries(ctx context.Context, root, dir string) (Binaries, error) {
	pieces := stack.Config{}.Pieces()
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	for _, p := range pieces {
		args = append(args, "./"+p.Pkg)
	}
	cmd := exec.CommandContext(ctx, "go", args...) //nolint:gosec // G204: go build of the stack's fixed package list into the harness's directory
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		return Binaries{}, fmt.Errorf("go build: %w\n%s", err, msg)
	}
	bin := func(i int) string { return filepath.Join(dir, pieces[i].Binary()) }
	return Binaries{DevIdP: bin(0), LocalAWS: bin(1), Services: bin(2), BFF: bin(3)}, nil
}

// Stack is the local Portico stack running as real processes on free loopback ports.
type Stack struct {
	// IdP, AWS, Services and BFF are the four processes.
	IdP, AWS, Services, BFF *Proc
	// Dir holds the processes' data and logs; DBPath is the services' SQLite store.
	Dir, DBPath string

	bins Binaries
	cfg  stack.Config
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
	s := &Stack{Dir: dir, bins: bins}
	var addrs [4]string
	for i := range addrs {
		a, err := FreeAddr(ctx)
		if err != nil {
			return nil, err
		}
		addrs[i] = a
	}
	s.cfg = stack.Config{
		Addrs:           stack.Addrs{DevIdP: addrs[0], LocalAWS: addrs[1], Services: addrs[2], BFF: addrs[3]},
		DataDir:         dir,
		SPADir:          filepath.Join(dir, "spa"),
		PolicyFile:      filepath.Join(dir, "policy.yaml"),
		TokensPerSecond: &tokensPerSecond,
	}
	s.DBPath = s.cfg.StorePath()
	if err := os.WriteFile(s.cfg.PolicyFile, policy, 0o600); err != nil {
		return nil, fmt.Errorf("policy file: %w", err)
	}
	if err := os.MkdirAll(s.cfg.SPADir, 0o700); err != nil {
		return nil, fmt.Errorf("spa dir: %w", err)
	}
	if err := os.WriteFile(filepath.Join(s.cfg.SPADir, "index.html"), []byte("<!doctype html><title>Portico</title>"), 0o600); err != nil {
		return nil, fmt.Errorf("spa index: %w", err)
	}
	procs := []**Proc{&s.IdP, &s.AWS, &s.Services, &s.BFF}
	bin := []string{bins.DevIdP, bins.LocalAWS, bins.Services, bins.BFF}
	for i, p := range s.cfg.Pieces() {
		proc, err := s.start(ctx, p, bin[i])
		if err != nil {
			return nil, errors.Join(err, s.Stop())
		}
		*procs[i] = proc
	}
	return s, nil
}

// start runs piece p from bin with the stack's environment for it: the piece's own, the AWS
// SDK pointed at the local endpoint, and JSON logs (which the harness reads).
func (s *Stack) start(ctx context.Context, p stack.Piece, bin string) (*Proc, error) {
	env := stack.Environ(p.Env, stack.LocalAWSEnv(s.cfg.Addrs.LocalAWS), map[string]string{"PORTICO_LOG_FORMAT": "json"})
	return Start(ctx, p.Name, bin, p.Addr, filepath.Join(s.Dir, p.Name+".log"), env)
}

// RestartAWS restarts the local AWS endpoint on the same address with a new pace.
func (s *Stack) RestartAWS(ctx context.Context, tokensPerSecond float64) error {
	if err := s.AWS.Stop(); err != nil {
		return fmt.Errorf("stop localaws: %w", err)
	}
	s.cfg.TokensPerSecond = &tokensPerSecond
	piece, _ := s.cfg.Piece(stack.LocalAWS)
	p, err := s.start(ctx, piece, s.bins.LocalAWS)
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

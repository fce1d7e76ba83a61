// Command portico-dev runs Portico's whole local stack — what `make dev` runs.
//
// It builds the commands that exist (go build -o .tools/bin/), builds the SPA when it is
// missing or older than frontend/src, then starts the dev identity provider, the local AWS
// endpoint, the services and the BFF in that order, each with the environment of
// docs/contracts.md, waiting for each one's GET /healthz before starting the next. Children's
// log lines are prefixed with their names. Ctrl-C or SIGTERM stops them in reverse order
// (SIGTERM, then SIGKILL after a timeout) and exits 0; if a child dies, everything stops and
// the launcher exits 1. Data lives in .data/ at the repository root.
//
// Usage:
//
//	go run ./services/dev/cmd/portico-dev [-only devidp,localaws] [-no-build] [-real-aws]
//	    [-root dir] [-health-timeout 60s] [-stop-timeout 10s]
//
// PORTICO_LOG_FORMAT (text or json) passes through to every piece; the launcher's own lines
// and the children's are prefixed with the piece's name.
//
// End-to-end tests run it and wait for http://localhost:8080/healthz.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/portico-dev/portico/services/dev/devidp"
	"github.com/portico-dev/portico/services/dev/stack"
	"github.com/portico-dev/portico/services/platform/logs"
)

const modulePath = "github.com/portico-dev/portico"

type options struct {
	root          string
	only          []string
	noBuild       bool
	realAWS       bool
	healthTimeout time.Duration
	stopTimeout   time.Duration
	// identity is the identity provider's shape: identityCognito or identityEntra.
	identity string
	// stack lists the pieces; nil means the dev stack. Tests replace it.
	stack func(root, cookieKeys string) []piece
}

func main() {
	opts, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	con := &console{out: os.Stdout}
	if err := run(ctx, con, opts, os.Environ()); err != nil {
		con.printf("error: %v", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var opts options
	fs := flag.NewFlagSet("portico-dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	only := fs.String("only", "", "comma-separated pieces to start (devidp, localaws, services, bff); default: every piece that exists")
	fs.BoolVar(&opts.noBuild, "no-build", false, "use the binaries already in .tools/bin and the SPA as built")
	fs.BoolVar(&opts.realAWS, "real-aws", false, "keep the caller's AWS_* settings (call real AWS) instead of pointing the SDK at the local endpoint")
	fs.StringVar(&opts.root, "root", "", "repository root (default: found from the working directory)")
	fs.DurationVar(&opts.healthTimeout, "health-timeout", 60*time.Second, "how long each piece may take to answer GET /healthz")
	fs.DurationVar(&opts.stopTimeout, "stop-timeout", 10*time.Second, "how long a piece may take to stop after SIGTERM before it is killed")
	fs.StringVar(&opts.identity, "identity", identityCognito, "the identity provider's shape: cognito (the dev IdP as Amazon Cognito) or entra (as Microsoft Entra ID v2.0, with the services' Entra token profile and the BFF's Entra scopes)")
	if err := fs.Parse(args); err != nil {
		return opts, err
	}
	if opts.identity != identityCognito && opts.identity != identityEntra {
		_, _ = fmt.Fprintf(stderr, "portico-dev: -identity %q: want cognito or entra\n", opts.identity)
		return opts, errors.New("bad -identity")
	}
	if fs.NArg() > 0 {
		_, _ = fmt.Fprintf(stderr, "portico-dev: unexpected arguments %q\n", fs.Args())
		return opts, errors.New("unexpected arguments")
	}
	for name := range strings.SplitSeq(*only, ",") {
		if name = strings.TrimSpace(name); name != "" {
			opts.only = append(opts.only, name)
		}
	}
	return opts, nil
}

// run builds and runs the stack until ctx ends (nil) or something fails.
func run(ctx context.Context, con *console, opts options, environ []string) error {
	// The children inherit PORTICO_LOG_FORMAT; check it once here, by the rule they all follow.
	if _, err := logs.ParseFormat(envValue(environ, logs.Env), false); err != nil {
		return err
	}
	root := opts.root
	if root == "" {
		var err error
		if root, err = findRoot(); err != nil {
			return err
		}
	}
	dataDir := filepath.Join(root, ".data")
	keys, err := cookieKeys(dataDir)
	if err != nil {
		return err
	}
	all := devStack
	if opts.stack != nil {
		all = opts.stack
	}
	pieces, err := selectPieces(root, withIdentity(all(root, keys), opts.identity), opts.only, con)
	if err != nil {
		return err
	}
	if len(pieces) == 0 {
		return errors.New("nothing to start: none of the pieces' packages exist")
	}

	base := childEnv(environ, nil, map[string]string{"PATH": toolPath(root, envValue(environ, "PATH"))})
	forced := map[string]string{}
	if !opts.realAWS {
		forced = localAWSEnv()
	}
	binDir := filepath.Join(root, ".tools", "bin")
	if !opts.noBuild {
		if err := goBuild(ctx, con, root, binDir, base, pieces); err != nil {
			if ctx.Err() != nil {
				return nil // interrupted while building: a normal stop
			}
			return err
		}
		if slices.ContainsFunc(pieces, func(p piece) bool { return p.Name == stack.BFF }) {
			stale, err := spaStale(root)
			if err != nil {
				return err
			}
			if stale {
				if err := buildSPA(ctx, con, root, base); err != nil {
					if ctx.Err() != nil {
						return nil
					}
					return err
				}
			}
		}
	}

	sup := newSupervisor(con, opts.stopTimeout)
	defer sup.stopAll()
	for _, p := range pieces {
		bin := filepath.Join(binDir, p.Binary())
		if _, err := os.Stat(bin); err != nil {
			return fmt.Errorf("%s: %s is not built (run without -no-build)", p.Name, bin)
		}
		if portInUse(ctx, p.Addr) {
			return fmt.Errorf("%s: %s is already in use (is another `make dev` running?)", p.Name, p.Addr)
		}
		con.printf("starting %s on %s", p.Name, p.Addr)
		c, err := sup.start(p.Name, root, bin, nil, childEnv(base, p.Env, forced))
		if err != nil {
			return err
		}
		if err := sup.waitHealthy(ctx, c, p.HealthURL(), opts.healthTimeout); err != nil {
			if ctx.Err() != nil {
				return nil // interrupted while starting: a normal stop
			}
			return err
		}
		con.printf("%s is healthy", p.Name)
	}
	con.printf("%s", banner(pieces, environ))
	if err := sup.watch(ctx); err != nil {
		return err
	}
	con.printf("stopping (signal received)")
	return nil
}

// selectPieces keeps the pieces named by only (all when empty) whose packages exist.
func selectPieces(root string, all []piece, only []string, con *console) ([]piece, error) {
	for _, name := range only {
		if !slices.ContainsFunc(all, func(p piece) bool { return p.Name == name }) {
			return nil, fmt.Errorf("-only: unknown piece %q (known: devidp, localaws, services, bff)", name)
		}
	}
	var out []piece
	for _, p := range all {
		if len(only) > 0 && !slices.Contains(only, p.Name) {
			continue
		}
		if _, err := os.Stat(filepath.Join(root, p.Pkg)); err != nil {
			if len(only) > 0 {
				return nil, fmt.Errorf("-only %s: %s does not exist yet", p.Name, p.Pkg)
			}
			con.printf("skipping %s: %s does not exist yet", p.Name, p.Pkg)
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

// findRoot walks up from the working directory to this module's go.mod.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod")) //nolint:gosec // G304: a go.mod above the working directory is what is looked for
		if err == nil && strings.HasPrefix(string(data), "module "+modulePath+"\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of %s above the working directory: run from the repository", modulePath)
		}
		dir = parent
	}
}

func envValue(environ []string, key string) string {
	for _, kv := range slices.Backward(environ) {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

// banner tells where the stack runs and how to sign in.
func banner(pieces []piece, environ []string) string {
	var b strings.Builder
	b.WriteString("\n")
	has := func(name string) bool {
		return slices.ContainsFunc(pieces, func(p piece) bool { return p.Name == name })
	}
	if has("bff") {
		fmt.Fprintf(&b, "Portico is running: http://%s\n", stack.DevAddrs().BFF)
	} else {
		b.WriteString("Portico's pieces are running (no BFF yet, so no web app):\n")
	}
	for _, p := range pieces {
		fmt.Fprintf(&b, "  %-9s http://%s\n", p.Name, p.Addr)
	}
	if has("devidp") {
		users := devidp.DefaultUsers()
		if file := envValue(environ, "PORTICO_IDP_USERS_FILE"); file != "" { // the dev IdP reads it too
			if data, err := os.ReadFile(file); err == nil { //nolint:gosec // the developer's own users file
				if parsed, err := devidp.ParseUsers(data); err == nil {
					users = parsed
				}
			}
		}
		b.WriteString("Sign in as:\n")
		for _, u := range users {
			groups := "no groups"
			if len(u.Groups) > 0 {
				groups = strings.Join(u.Groups, ", ")
			}
			fmt.Fprintf(&b, "  %-8s password %-12s (%s)\n", u.Username, u.Password, groups)
		}
		fmt.Fprintf(&b, "Machine client: %s / %s (scopes %s, %s)\n",
			devidp.MachineClientID, devidp.MachineClientSecret, devidp.ScopeInference, devidp.ScopeIdentity)
	}
	b.WriteString("Press Ctrl-C to stop.")
	return b.String()
}

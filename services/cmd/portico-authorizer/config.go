package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/portico-dev/portico/services/platform/lambdahttp"
	"github.com/portico-dev/portico/services/platform/logs"
	"github.com/portico-dev/portico/services/platform/runmode"
)

// Environment variables (docs/contracts.md). This file is the only place the command reads
// its environment.
const (
	EnvMode       = runmode.Env
	EnvIssuer     = "PORTICO_ISSUER"
	EnvClientIDs  = "PORTICO_CLIENT_IDS"
	EnvPolicyFile = "PORTICO_POLICY_FILE"
	EnvLogFormat  = logs.Env
	EnvRuntimeAPI = lambdahttp.RuntimeAPIEnv
)

// Development defaults; production (PORTICO_ENV=production or Lambda) never uses them.
const (
	defaultIssuer    = "http://localhost:9000"
	defaultClientIDs = "portico-web,portico-machine"
)

// config is the authorizer's configuration, read once by fromEnv.
type config struct {
	mode       runmode.Mode
	issuer     string
	clientIDs  []string
	policyFile string // empty: the embedded dev policy (development only)
	logFormat  logs.Format
	runtimeAPI string // the Lambda Runtime API; empty off Lambda
}

// fromEnv reads the configuration through getenv (os.Getenv in main), reporting every
// problem at once; in production every setting with a dev default must be explicit.
func fromEnv(getenv func(string) string) (*config, error) {
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	var errs []error
	c := &config{runtimeAPI: get(EnvRuntimeAPI), policyFile: get(EnvPolicyFile)}
	onLambda := c.runtimeAPI != ""
	var err error
	if c.mode, err = runmode.Parse(get(EnvMode), onLambda); err != nil {
		errs = append(errs, err)
	}
	if c.logFormat, err = logs.ParseFormat(get(EnvLogFormat), onLambda); err != nil {
		errs = append(errs, err)
	}
	var need runmode.Requirements
	issuer, clientIDs := get(EnvIssuer), get(EnvClientIDs)
	if c.mode.Production() {
		need.Need(EnvIssuer, issuer)
		need.Need(EnvClientIDs, clientIDs)
		need.Need(EnvPolicyFile, c.policyFile)
	} else {
		issuer, clientIDs = or(issuer, defaultIssuer), or(clientIDs, defaultClientIDs)
	}
	c.issuer = issuer
	for id := range strings.SplitSeq(clientIDs, ",") {
		if id = strings.TrimSpace(id); id != "" {
			c.clientIDs = append(c.clientIDs, id)
		}
	}
	if clientIDs != "" && len(c.clientIDs) == 0 {
		errs = append(errs, fmt.Errorf("%s names no client", EnvClientIDs))
	}
	if err := need.Err(); err != nil {
		errs = append([]error{err}, errs...)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/portico-dev/portico/services/livepolicy"
	"github.com/portico-dev/portico/services/platform/lambdahttp"
	"github.com/portico-dev/portico/services/platform/logs"
	"github.com/portico-dev/portico/services/platform/runmode"
	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/token"
)

// Environment variables (docs/contracts.md). This file is the only place the command reads
// its environment.
const (
	EnvMode          = runmode.Env
	EnvIssuer        = "PORTICO_ISSUER"
	EnvClientIDs     = "PORTICO_CLIENT_IDS"
	EnvPolicyFile    = "PORTICO_POLICY_FILE"
	EnvStore         = "PORTICO_STORE"
	EnvPolicyMode    = "PORTICO_POLICY_MODE"
	EnvPolicyRefresh = "PORTICO_POLICY_REFRESH"
	EnvTokenProfile  = "PORTICO_TOKEN_PROFILE"
	EnvEntraTenant   = "PORTICO_ENTRA_TENANT_ID"
	EnvEntraAud      = "PORTICO_ENTRA_AUDIENCE"
	EnvEntraScope    = "PORTICO_ENTRA_SCOPE"
	EnvLogFormat     = logs.Env
	// EnvKeyStore is the DynamoDB table of personal API keys (dynamodb:<table>); unset means
	// keys are refused.
	EnvKeyStore   = "PORTICO_KEY_STORE"
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
	tokens     token.Settings // the token profile (Cognito by default, or Entra)
	policyFile string         // empty: the embedded dev policy (development only)
	// table is the DynamoDB table holding the policy's versions (PORTICO_STORE
	// dynamodb:<table>), read in store mode; empty: the file is the policy.
	table         string
	policyRefresh time.Duration
	logFormat     logs.Format
	runtimeAPI    string // the Lambda Runtime API; empty off Lambda
	keyTable      string // the DynamoDB table of API keys; empty: keys are refused
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
	mode, err := livepolicy.ParseMode(get(EnvPolicyMode))
	if err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", EnvPolicyMode, err))
	}
	if spec := get(EnvStore); spec != "" && mode == livepolicy.ModeStore {
		sp, err := store.ParseSpec(spec)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s=%q: %w", EnvStore, spec, err))
		case sp.Kind != store.KindDynamoDB:
			errs = append(errs, fmt.Errorf("%s=%q: the authorizer reads the policy from DynamoDB only (dynamodb:<table>)", EnvStore, spec))
		default:
			c.table = sp.Target
		}
	}
	c.policyRefresh = livepolicy.DefaultRefresh
	if v := get(EnvPolicyRefresh); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second || d > 10*time.Minute {
			errs = append(errs, fmt.Errorf("%s=%q: want a duration from 1s to 10m, such as 5s", EnvPolicyRefresh, v))
		}
		c.policyRefresh = d
	}
	c.tokens = token.Settings{Profile: get(EnvTokenProfile), ClientIDs: c.clientIDs,
		TenantID: get(EnvEntraTenant), Audience: get(EnvEntraAud), Scope: get(EnvEntraScope)}
	errs = append(errs, c.tokens.Check(c.issuer, token.SettingNames{Profile: EnvTokenProfile, Issuer: EnvIssuer,
		TenantID: EnvEntraTenant, Audience: EnvEntraAud, Scope: EnvEntraScope})...)
	if spec := get(EnvKeyStore); spec != "" {
		sp, err := store.ParseSpec(spec)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s=%q: %w", EnvKeyStore, spec, err))
		case sp.Kind != store.KindDynamoDB:
			errs = append(errs, fmt.Errorf("%s=%q: the authorizer reads keys from DynamoDB only (dynamodb:<table>)", EnvKeyStore, spec))
		default:
			c.keyTable = sp.Target
		}
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

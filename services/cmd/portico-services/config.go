package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/portico-dev/portico/services/attachment"
	"github.com/portico-dev/portico/services/catalog"
	"github.com/portico-dev/portico/services/livepolicy"
	"github.com/portico-dev/portico/services/platform/gcpace"
	"github.com/portico-dev/portico/services/platform/lambdahttp"
	"github.com/portico-dev/portico/services/platform/logs"
	"github.com/portico-dev/portico/services/platform/runmode"
	"github.com/portico-dev/portico/services/platform/telemetry"
	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/token"
)

// Environment variables (docs/contracts.md). This file is the only place the command reads
// its environment; the packages it builds take values.
//
//nolint:gosec // names of environment variables, not credentials
const (
	EnvMode            = runmode.Env // development | production
	EnvService         = "PORTICO_SERVICE"
	EnvAddr            = "PORTICO_SERVICES_ADDR"
	EnvIssuer          = "PORTICO_ISSUER"
	EnvClientIDs       = "PORTICO_CLIENT_IDS"
	EnvBFFClientIDs    = "PORTICO_BFF_CLIENT_IDS"
	EnvPolicyFile      = "PORTICO_POLICY_FILE"
	EnvPolicyMode      = "PORTICO_POLICY_MODE"
	EnvPolicyRefresh   = "PORTICO_POLICY_REFRESH"
	EnvDepartmentClaim = "PORTICO_DEPARTMENT_CLAIM"
	EnvEventBus        = "PORTICO_EVENT_BUS"
	EnvTokenProfile    = "PORTICO_TOKEN_PROFILE"
	EnvEntraTenant     = "PORTICO_ENTRA_TENANT_ID"
	EnvEntraAud        = "PORTICO_ENTRA_AUDIENCE"
	EnvEntraScope      = "PORTICO_ENTRA_SCOPE"
	EnvCatalogFile     = catalog.EnvFile
	EnvStore           = "PORTICO_STORE"
	// EnvAccountID is the AWS account the services run in: only the catalog's knowledge
	// bases in this account (and the services' region) are offered and called.
	EnvAccountID = "PORTICO_AWS_ACCOUNT_ID"
	// EnvAttachmentStore names the attachment store (attachment.ParseSpec).
	EnvAttachmentStore = "PORTICO_ATTACHMENT_STORE"
	// EnvKeyStore is where personal API keys live (sqlite:<path> or dynamodb:<table>); unset
	// in production means API keys are off.
	EnvKeyStore = "PORTICO_KEY_STORE"
	// EnvPublicAPIURL is the OpenAI-compatible endpoint's base URL the app shows.
	EnvPublicAPIURL = "PORTICO_PUBLIC_API_URL"
	EnvLogFormat    = logs.Env
	EnvRuntimeAPI   = lambdahttp.RuntimeAPIEnv
	EnvLambdaEvent  = lambdahttp.EventEnv
	// EnvLambdaFunction is set by Lambda; it names the function in CloudWatch metrics (EMF).
	EnvLambdaFunction = "AWS_LAMBDA_FUNCTION_NAME"
	// EnvGCPercent and EnvLambdaMemory pace the garbage collector (package gcpace).
	EnvGCPercent    = gcpace.EnvPercent
	EnvLambdaMemory = gcpace.EnvLambdaMemory
)

// Development defaults; production (PORTICO_ENV=production or Lambda) never uses them.
const (
	defaultAddr         = "localhost:8081"
	defaultIssuer       = "http://localhost:9000"
	defaultClientIDs    = "portico-web,portico-machine"
	defaultBFFClientIDs = "portico-web"
	defaultStore        = "sqlite:.data/portico.db"
	// defaultAttachmentStore is beside the default store.
	defaultAttachmentStore = "dir:.data/attachments"
	// defaultAccountID is the local AWS endpoint's account, where the dev knowledge base is.
	defaultAccountID    = "000000000000"
	defaultKeyStore     = "sqlite:.data/keys.db"
	defaultPublicAPIURL = "http://localhost:8081/v1"
)

// Service names accepted in PORTICO_SERVICE.
const (
	serviceIdentity  = "identity"
	serviceInference = "inference"
	serviceAdmin     = "admin"
	serviceAPIKey    = "apikey"
)

var allServices = []string{serviceIdentity, serviceInference, serviceAdmin, serviceAPIKey}

// config is the command's configuration, read once by fromEnv.
type config struct {
	// mode is development or production.
	mode runmode.Mode
	// addr is the listen address in standalone mode.
	addr string
	// services are the selected services, from allServices.
	services []string
	// issuer is the only accepted token issuer; clientIDs the accepted client_id values.
	issuer    string
	clientIDs []string
	// tokens is the token profile (Cognito by default, or Entra) with its settings.
	tokens token.Settings
	// bffClientIDs are the clients whose Portico-Client-* headers are believed (the BFF's).
	bffClientIDs []string
	// policyFile is the policy (empty: the embedded dev policy, development only): the
	// policy itself in file mode, the seed of the store in store mode.
	policyFile string
	// policyMode is where the policy is managed (PORTICO_POLICY_MODE: store or file).
	policyMode livepolicy.Mode
	// policyRefresh is the interval between policy version checks.
	policyRefresh time.Duration
	// departmentClaim is the access token claim a person's department is read from.
	departmentClaim string
	// eventBus is the EventBridge bus quota alerts go to (empty: log events only).
	eventBus string
	// catalogFile is the model catalog (empty: the embedded catalog).
	catalogFile string
	// store is sqlite:<path> or dynamodb:<table>; opened only when inference or admin is
	// mounted.
	store string
	// attachmentStore is dir:<path> or s3:<bucket>; opened only when inference is mounted
	// (the conversations keep their attachments there).
	attachmentStore string
	// keyStore is sqlite:<path> or dynamodb:<table>, where personal API keys and people's
	// last sign-in live; empty means API keys are off (ApiKeyService not mounted, keys
	// refused).
	keyStore string
	// publicAPIURL is the /v1 base URL ApiKeyService tells the app.
	publicAPIURL string
	// logFormat is the log format (PORTICO_LOG_FORMAT's one rule).
	logFormat logs.Format
	// lambda says whether and how the process runs on Lambda.
	lambda lambdahttp.Config
	// lambdaFunction is the Lambda function's name (empty off Lambda).
	lambdaFunction string
	// export says where OpenTelemetry data goes.
	export telemetry.Export
	// conversations configures the conversation store (with inference mounted; with admin
	// mounted without inference, its store is optional).
	conversations conversationConfig
	// accountID is the services' AWS account (empty: no knowledge base is used).
	accountID string
	// gc is the garbage collector's pacing, applied before the services are built.
	gc gcpace.Settings
}

// needsStore reports whether a mounted service keeps data: inference and admin always, and
// every service in store mode, where the policy is read from the store.
func (c *config) needsStore() bool {
	return c.policyMode == livepolicy.ModeStore ||
		slices.Contains(c.services, serviceInference) || slices.Contains(c.services, serviceAdmin)
}

// warnings are settings worth a log line at start-up.
func (c *config) warnings() []string {
	var w []string
	if c.mode.Production() && c.keyStore == "" && slices.Contains(c.services, serviceInference) {
		w = append(w, EnvKeyStore+" is not set: personal API keys are off (the /v1 endpoint takes sign-in and client-credentials tokens only)")
	}
	if c.mode.Production() && len(c.bffClientIDs) == 0 && slices.Contains(c.services, serviceInference) {
		w = append(w, EnvBFFClientIDs+" is not set: no client's Portico-Client-* headers are believed, so the audit trail records the BFF's address instead of the user's")
	}
	if c.accountID == "" && slices.Contains(c.services, serviceInference) {
		w = append(w, EnvAccountID+" is not set: no knowledge base of the catalog is offered or called")
	}
	return w
}

// fromEnv reads the configuration through getenv (os.Getenv in main). Every problem is
// reported in the one error, and in production every missing setting is named at once.
func fromEnv(getenv func(string) string) (*config, error) {
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	var errs []error
	c := &config{
		addr:            or(get(EnvAddr), defaultAddr),
		policyFile:      get(EnvPolicyFile),
		catalogFile:     get(EnvCatalogFile),
		lambdaFunction:  get(EnvLambdaFunction),
		departmentClaim: or(get(EnvDepartmentClaim), token.DefaultDepartmentClaim),
		eventBus:        get(EnvEventBus),
	}
	var err error
	if c.policyMode, err = livepolicy.ParseMode(get(EnvPolicyMode)); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", EnvPolicyMode, err))
	}
	if c.policyRefresh, err = parseRefresh(get(EnvPolicyRefresh)); err != nil {
		errs = append(errs, err)
	}
	event, err := lambdahttp.ParseEvent(get(EnvLambdaEvent))
	if err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", EnvLambdaEvent, err))
	}
	c.lambda = lambdahttp.Config{RuntimeAPI: get(EnvRuntimeAPI), Event: event}
	if c.mode, err = runmode.Parse(get(EnvMode), c.lambda.OnLambda()); err != nil {
		errs = append(errs, err)
	}
	if c.logFormat, err = logs.ParseFormat(get(EnvLogFormat), c.lambda.OnLambda()); err != nil {
		errs = append(errs, err)
	}
	if c.export, err = telemetry.ParseExport(telemetry.ExportValues{
		Endpoint: get(telemetry.OTLPEndpointEnv), Headers: getenv(telemetry.OTLPHeadersEnv),
		Timeout: get(telemetry.OTLPTimeoutEnv), ServiceName: get(telemetry.ServiceNameEnv),
		ResourceAttributes: getenv(telemetry.ResourceAttributesEnv),
	}); err != nil {
		errs = append(errs, err)
	}
	if c.services, err = parseServices(get(EnvService)); err != nil {
		errs = append(errs, err)
	}
	if c.gc, err = gcpace.FromEnv(getenv); err != nil {
		errs = append(errs, err)
	}

	// Settings with a dev default: in production each must be explicit.
	prod := c.mode.Production()
	var need runmode.Requirements
	devDefault := func(name, def string) string {
		v := get(name)
		if prod {
			need.Need(name, v)
			return v
		}
		return or(v, def)
	}
	c.issuer = devDefault(EnvIssuer, defaultIssuer)
	if raw := devDefault(EnvClientIDs, defaultClientIDs); raw != "" {
		if c.clientIDs = splitList(raw); len(c.clientIDs) == 0 {
			errs = append(errs, fmt.Errorf("%s names no client", EnvClientIDs))
		}
	}
	c.tokens = token.Settings{Profile: get(EnvTokenProfile), ClientIDs: c.clientIDs,
		TenantID: get(EnvEntraTenant), Audience: get(EnvEntraAud), Scope: get(EnvEntraScope)}
	errs = append(errs, c.tokens.Check(c.issuer, tokenSettingNames)...)
	c.accountID = or(get(EnvAccountID), map[bool]string{false: defaultAccountID}[prod])
	if c.accountID != "" && !isAccountID(c.accountID) {
		errs = append(errs, fmt.Errorf("%s=%q is not an AWS account id (12 digits)", EnvAccountID, c.accountID))
	}
	if prod {
		need.Need(EnvPolicyFile, c.policyFile)
		c.bffClientIDs = splitList(get(EnvBFFClientIDs)) // none unless configured
	} else {
		c.bffClientIDs = splitList(or(get(EnvBFFClientIDs), defaultBFFClientIDs))
	}
	c.keyStore, c.publicAPIURL = get(EnvKeyStore), get(EnvPublicAPIURL)
	if !prod {
		c.keyStore, c.publicAPIURL = or(c.keyStore, defaultKeyStore), or(c.publicAPIURL, defaultPublicAPIURL)
	}
	if c.keyStore != "" {
		if _, err := store.ParseSpec(c.keyStore); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %w", EnvKeyStore, c.keyStore, err))
		}
	} else if slices.Contains(c.services, serviceAPIKey) && get(EnvService) != "" && get(EnvService) != "all" {
		errs = append(errs, fmt.Errorf("%s selects %s, which needs %s", EnvService, serviceAPIKey, EnvKeyStore))
	}
	if c.needsStore() {
		c.store = devDefault(EnvStore, defaultStore)
		if c.store != "" {
			if err := checkStore(c.store); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if slices.Contains(c.services, serviceInference) {
		c.attachmentStore = devDefault(EnvAttachmentStore, defaultAttachmentStore)
		if c.attachmentStore != "" {
			if _, err := attachment.ParseSpec(c.attachmentStore); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", EnvAttachmentStore, c.attachmentStore, err))
			}
		}
		var cerrs []error
		c.conversations, cerrs = readConversations(get, devDefault)
		errs = append(errs, cerrs...)
	} else if slices.Contains(c.services, serviceAdmin) {
		// The admin service counts conversations when it is given their store; in production
		// that is optional (without it, ListConversationCounts answers FAILED_PRECONDITION).
		optional := func(name, def string) string {
			if prod {
				return get(name)
			}
			return or(get(name), def)
		}
		var cerrs []error
		c.conversations, cerrs = readConversations(get, optional)
		errs = append(errs, cerrs...)
	}
	if err := need.Err(); err != nil {
		errs = append([]error{err}, errs...)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

// tokenSettingNames name the token profile's settings in configuration errors.
var tokenSettingNames = token.SettingNames{Profile: EnvTokenProfile, Issuer: EnvIssuer,
	TenantID: EnvEntraTenant, Audience: EnvEntraAud, Scope: EnvEntraScope}

// parseServices reads PORTICO_SERVICE: all (the default) or a comma list of service names.
func parseServices(v string) ([]string, error) {
	selected := splitList(or(v, "all"))
	if slices.Equal(selected, []string{"all"}) {
		return allServices, nil
	}
	var out []string
	for _, s := range selected {
		if !slices.Contains(allServices, s) {
			return nil, fmt.Errorf("%s: unknown service %q (want all, %s)", EnvService, s, strings.Join(allServices, ", "))
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s selects no service", EnvService)
	}
	return out, nil
}

// parseRefresh reads PORTICO_POLICY_REFRESH: a Go duration from 1s to 10m; empty means
// livepolicy.DefaultRefresh.
func parseRefresh(v string) (time.Duration, error) {
	if v == "" {
		return livepolicy.DefaultRefresh, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Second || d > 10*time.Minute {
		return 0, fmt.Errorf("%s=%q: want a duration from 1s to 10m, such as 5s", EnvPolicyRefresh, v)
	}
	return d, nil
}

// checkStore validates a PORTICO_STORE value (store.ParseSpec); openStore opens it.
func checkStore(spec string) error {
	if _, err := store.ParseSpec(spec); err != nil {
		return fmt.Errorf("%s=%q: %w", EnvStore, spec, err)
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// isAccountID reports whether s is an AWS account id: 12 digits.
func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

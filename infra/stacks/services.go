package stacks

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/portico-dev/portico/infra/config"
	"github.com/portico-dev/portico/services/catalog"
)

// Where the configuration layer puts the policy and catalog files (layers mount at /opt).
const (
	LayerPolicyPath  = "/opt/portico/policy.yaml"
	LayerCatalogPath = "/opt/portico/catalog.yaml"
)

// EnvBFFClientIDs names the OAuth clients whose tokens get the BFF's Portico-Client-* headers
// (and request id) believed by the services (docs/contracts.md).
const EnvBFFClientIDs = "PORTICO_BFF_CLIENT_IDS"

// EnvDepartmentClaim names the access token claim the services read a person's department
// from (docs/contracts.md); unset, custom:department.
const EnvDepartmentClaim = "PORTICO_DEPARTMENT_CLAIM"

// EnvPolicyMode says where the policy is managed (store or file; config.Policy), on every
// function that reads the policy (docs/contracts.md).
const EnvPolicyMode = "PORTICO_POLICY_MODE"

// services holds the four service functions (one artifact, PORTICO_SERVICE picks the
// service) and the API Gateway authorizer function.
type services struct {
	identity, inference, admin, apikey, authorizer *goFunction
}

// all lists the service functions behind API Gateway.
func (s *services) all() []*goFunction {
	return []*goFunction{s.identity, s.inference, s.admin, s.apikey}
}

// The ledger's calls: exactly those of services/store/dynamostore (its API interface:
// single-item conditional writes, no transaction, no batch, no Scan). Which function may make
// which call, and on which items, is newServices' ledger grant.
var (
	// ledgerReadWrite is what the inference function does: reserve and settle quotas and
	// budgets (counters, reservations, records), mark alerts, seed the policy.
	ledgerReadWrite = []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query"}
	// ledgerRead is AdminService's reading (usage, audit, policy versions, alert marks).
	ledgerRead = []string{"dynamodb:GetItem", "dynamodb:Query"}
	// ledgerPut are the conditional writes of a policy version (PutItem of the version,
	// UpdateItem of the head) and of an audit record (PutItem and UpdateItem of its
	// reservation, PutItem of the record, UpdateItem of its usage summary).
	ledgerPut = []string{"dynamodb:PutItem", "dynamodb:UpdateItem"}
)

// The ledger's partitions the functions other than inference may touch (the key schema of
// services/store/dynamostore), matched against dynamodb:LeadingKeys.
const (
	ledgerPolicy       = "POLICY"  // the policy's head and versions
	ledgerCounters     = "CTR#*"   // quota and budget counters
	ledgerReservations = "RSV#*"   // reservations (an audit record is reserved, then settled)
	ledgerRecords      = "REC#*"   // usage and audit records
	ledgerSummaries    = "USAGE#*" // usage summaries (a record is added to its day's summary)
)

// Statement ids of the ledger grants.
const (
	sidLedgerReadWrite = "ReadWriteLedger"
	sidLedgerRead      = "ReadLedger"
	sidLedgerAudit     = "WriteLedgerAudit"
	sidPolicyRead      = "ReadPolicy"
)

// leadingKeys is the condition that lets a statement reach only the items whose partition
// key matches one of keys.
func leadingKeys(keys ...string) map[string]any {
	return map[string]any{"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": keys}}
}

func (e *env) newServices(scope constructs.Construct, id *identity, tableName *string, infraDir string) (*services, error) {
	c := constructs.NewConstruct(scope, jsii.String("Services"))
	cfg := e.cfg
	// The catalog says which models exist and where each runs: synthesis stops here when one
	// cannot run in the environment's region.
	cat, err := cfg.Catalog(infraDir)
	if err != nil {
		return nil, err
	}
	bedrockARNs, sagemakerARNs, err := cfg.ModelARNs(cat)
	if err != nil {
		return nil, err
	}
	layer, err := e.configLayer(c, infraDir, cat)
	if err != nil {
		return nil, err
	}
	// The policy file always ships (config refuses an environment without one); the catalog
	// file only when configured, else the services' embedded catalog applies.
	// The token profile (Cognito's by default, or Entra's) comes with the identity.
	common := map[string]*string{
		"PORTICO_ISSUER":       id.issuer,
		"PORTICO_CLIENT_IDS":   awscdk.Fn_Join(jsii.String(","), &id.clientIDs),
		"PORTICO_LAMBDA_EVENT": jsii.String("api-gateway"),
		"PORTICO_POLICY_FILE":  jsii.String(LayerPolicyPath),
		EnvPolicyMode:          jsii.String(cfg.PolicyMode()),
	}
	for k, v := range id.tokenEnv {
		common[k] = v
	}
	if cfg.CatalogFile != "" {
		common["PORTICO_CATALOG_FILE"] = jsii.String(LayerCatalogPath)
	}
	layers := []awslambda.ILayerVersion{layer}
	with := func(extra map[string]*string) map[string]*string {
		m := map[string]*string{}
		for k, v := range common {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	// The services (not the authorizer) record a person's department from the access token:
	// with Entra ID directly, from the claim the API app is configured to send when it is not
	// the default custom:department.
	service := func(name string, extra map[string]*string) map[string]*string {
		m := with(extra)
		m["PORTICO_SERVICE"] = jsii.String(name)
		if d := cfg.Identity.Entra.DepartmentClaim; d != "" {
			m[EnvDepartmentClaim] = jsii.String(d)
		}
		return m
	}
	store := jsii.String("dynamodb:" + *tableName)
	// Only the BFF's web client gets its Portico-Client-* headers believed: the machine
	// clients' callers are not behind the BFF.
	bffClients := id.webClientID
	s := &services{}
	s.identity = e.newGoFunction(c, "Identity", goFunctionProps{
		name: "identity", asset: ServicesAsset, description: "Portico IdentityService (Connect on API Gateway)",
		memory: 256, timeout: awscdk.Duration_Seconds(jsii.Number(10)), layers: layers,
		// With the policy in the store, IdentityService opens the ledger (the policy's
		// versions, and the counters behind GetMe's alerts); in file mode it opens none, has
		// no grant on the table, and does not read PORTICO_STORE.
		environment: service("identity", map[string]*string{"PORTICO_STORE": store, EnvBFFClientIDs: bffClients}),
	})
	s.inference = e.newGoFunction(c, "Inference", goFunctionProps{
		name: "inference", asset: ServicesAsset, description: "Portico InferenceService (Connect on API Gateway, streamed)",
		memory: 512, timeout: awscdk.Duration_Minutes(jsii.Number(15)), layers: layers, reserved: cfg.Concurrency.Inference,
		environment: service("inference", map[string]*string{"PORTICO_STORE": store, EnvBFFClientIDs: bffClients}),
	})
	s.admin = e.newGoFunction(c, "Admin", goFunctionProps{
		name: "admin", asset: ServicesAsset, description: "Portico AdminService (Connect on API Gateway)",
		memory: 256, timeout: awscdk.Duration_Seconds(jsii.Number(30)), layers: layers,
		environment: service("admin", map[string]*string{"PORTICO_STORE": store, EnvBFFClientIDs: bffClients}),
	})
	// ApiKeyService (PORTICO_SERVICE=apikey): people's personal API keys. Its own function,
	// so that listing everyone's keys (a Scan, for administrators) and deleting them are
	// granted to it alone.
	s.apikey = e.newGoFunction(c, "ApiKey", goFunctionProps{
		name: "apikey", asset: ServicesAsset, description: "Portico ApiKeyService (Connect on API Gateway)",
		memory: 256, timeout: awscdk.Duration_Seconds(jsii.Number(10)), layers: layers,
		// Like identity, it opens the ledger only for the policy in store mode.
		environment: service("apikey", map[string]*string{"PORTICO_STORE": store, EnvBFFClientIDs: bffClients}),
	})
	// The authorizer decides by the policy in force: in store mode it reads the versions from
	// the ledger (never writes; cmd/portico-authorizer), so a group added in the app is let
	// through at API Gateway; in file mode it reads the file and opens no table.
	var authorizerEnv map[string]*string
	if cfg.PolicyInStore() {
		authorizerEnv = map[string]*string{"PORTICO_STORE": store}
	}
	s.authorizer = e.newGoFunction(c, "Authorizer", goFunctionProps{
		name: "authorizer", asset: AuthorizerAsset, description: "Portico API Gateway Lambda authorizer (" + tokenKind(cfg) + " access tokens, group policy)",
		memory: 256, timeout: awscdk.Duration_Seconds(jsii.Number(10)), layers: layers,
		environment: with(authorizerEnv),
	})

	// DynamoDB: the ledger table and its indexes only, each function exactly the calls its
	// store makes (services/cmd/portico-services opens the ledger for inference and admin,
	// and for every service when the policy is in the store).
	//   - inference reserves and settles quotas and budgets, writes the audit trail and
	//     alert marks, and may seed the policy: every call of the store, on every item;
	//   - admin reads everything (usage, audit, policy versions, alert marks) and writes
	//     audit records of administrative actions (refused ones too, in either mode) and, in
	//     store mode, policy versions: conditional PutItem/UpdateItem on those partitions only;
	//   - in store mode identity and apikey read the policy (identity also the counters
	//     behind GetMe's alerts) and write nothing: a process serving neither inference nor
	//     admin opens the policy read-only (it serves the file until inference or admin has
	//     seeded the table, and never imports a changed file);
	//   - in store mode the authorizer reads the policy only (its store is read-only).
	// The table's key: inference and admin below; identity and apikey hold it for the key
	// table (newCapabilities), the authorizer its Decrypt and DescribeKey.
	tableARNs := e.tableARNs()
	table := tableARNs[:1]
	allow := func(g *goFunction, sid string, actions []string, resources []*string, cond map[string]any) {
		props := &awsiam.PolicyStatementProps{
			Sid:       jsii.String(sid),
			Actions:   jsii.Strings(actions...),
			Resources: &resources,
		}
		if cond != nil {
			props.Conditions = &cond
		}
		g.role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(props))
	}
	allow(s.inference, sidLedgerReadWrite, ledgerReadWrite, tableARNs, nil)
	allow(s.admin, sidLedgerRead, ledgerRead, tableARNs, nil)
	if cfg.PolicyInStore() {
		allow(s.admin, sidLedgerAudit, ledgerPut, table, leadingKeys(ledgerPolicy, ledgerReservations, ledgerRecords, ledgerSummaries))
		allow(s.identity, sidPolicyRead, []string{"dynamodb:GetItem"}, table, leadingKeys(ledgerPolicy, ledgerCounters))
		allow(s.apikey, sidPolicyRead, []string{"dynamodb:GetItem"}, table, leadingKeys(ledgerPolicy))
		allow(s.authorizer, sidPolicyRead, []string{"dynamodb:GetItem"}, table, leadingKeys(ledgerPolicy))
	} else {
		allow(s.admin, sidLedgerAudit, ledgerPut, table, leadingKeys(ledgerReservations, ledgerRecords, ledgerSummaries))
	}
	keyARN := []*string{e.key.KeyArn()}
	allow(s.admin, "LedgerKeyReadWrite", []string{"kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"}, keyARN, nil)
	allow(s.inference, "LedgerKeyReadWrite", []string{"kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"}, keyARN, nil)

	// Bedrock and SageMaker: exactly the catalog's models, each the way it runs in this
	// region (the profile and its routing regions where it is not on demand), and endpoints.
	// No aws-marketplace action: model access is an operator's step (docs/deploy.md).
	if arns := bedrockARNs; len(arns) > 0 {
		allow(s.inference, "InvokeCatalogModels", []string{"bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"}, *jsii.Strings(arns...), nil)
	}
	if arns := cfg.GuardrailARNs(); len(arns) > 0 {
		allow(s.inference, "ApplyCatalogGuardrails", []string{"bedrock:ApplyGuardrail"}, *jsii.Strings(arns...), nil)
	}
	if arns := sagemakerARNs; len(arns) > 0 {
		allow(s.inference, "InvokeCatalogEndpoints", []string{"sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"}, *jsii.Strings(arns...), nil)
	}
	return s, nil
}

// tokenKind names the access tokens the authorizer verifies.
func tokenKind(cfg *config.Config) string {
	if cfg.IsEntra() {
		return "Entra ID v2.0"
	}
	return "Cognito"
}

// configLayer packages the policy file (always) and the catalog file (when configured) as a
// Lambda layer (/opt/portico/...). It refuses a policy file that is missing, names a
// Cognito group the environment does not create, or grants a model the catalog lacks.
func (e *env) configLayer(scope constructs.Construct, infraDir string, cat *catalog.Catalog) (awslambda.LayerVersion, error) {
	cfg := e.cfg
	if cfg.PolicyFile == "" {
		return nil, fmt.Errorf("config %s: policyFile: required", cfg.Env)
	}
	policyPath := cfg.PolicyFile
	if !filepath.IsAbs(policyPath) {
		policyPath = filepath.Join(infraDir, policyPath)
	}
	policy, err := os.ReadFile(policyPath)
	if err != nil {
		return nil, fmt.Errorf("config %s: policyFile: %w", cfg.Env, err)
	}
	if len(bytes.TrimSpace(policy)) == 0 {
		return nil, fmt.Errorf("config %s: policyFile %s is empty", cfg.Env, policyPath)
	}
	if err := cfg.CheckPolicy(policy); err != nil {
		return nil, fmt.Errorf("config %s: %w", cfg.Env, err)
	}
	if err := cfg.CheckPolicyModels(policy, cat); err != nil {
		return nil, fmt.Errorf("config %s: %w", cfg.Env, err)
	}
	stage, err := os.MkdirTemp("", "portico-config-layer-")
	if err != nil {
		return nil, fmt.Errorf("config layer: %w", err)
	}
	copyTo := func(src, dst string) error {
		if !filepath.IsAbs(src) {
			src = filepath.Join(infraDir, src)
		}
		b, err := os.ReadFile(src)
		if err != nil {
			return fmt.Errorf("config layer: %w", err)
		}
		p := filepath.Join(stage, strings.TrimPrefix(dst, "/opt/"))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("config layer: %w", err)
		}
		return os.WriteFile(p, b, 0o644)
	}
	if err := copyTo(cfg.PolicyFile, LayerPolicyPath); err != nil {
		return nil, err
	}
	if cfg.CatalogFile != "" {
		if err := copyTo(cfg.CatalogFile, LayerCatalogPath); err != nil {
			return nil, err
		}
	}
	return awslambda.NewLayerVersion(scope, jsii.String("ConfigLayer"), &awslambda.LayerVersionProps{
		LayerVersionName:        jsii.String(cfg.Name("config")),
		Description:             jsii.String("Portico policy and catalog files"),
		Code:                    awslambda.Code_FromAsset(jsii.String(stage), nil),
		CompatibleArchitectures: &[]awslambda.Architecture{awslambda.Architecture_ARM_64()},
		CompatibleRuntimes:      &[]awslambda.Runtime{awslambda.Runtime_PROVIDED_AL2023()},
		// Old versions stay so a rollback finds the previous policy.
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN_ON_UPDATE_OR_DELETE,
	}), nil
}

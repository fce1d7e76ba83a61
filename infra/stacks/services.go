package stacks

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Where the configuration layer puts the policy and catalog files (layers mount at /opt).
const (
	LayerPolicyPath  = "/opt/portico/policy.yaml"
	LayerCatalogPath = "/opt/portico/catalog.yaml"
)

// services holds the three service functions (one artifact, PORTICO_SERVICE picks the
// service) and the API Gateway authorizer function.
type services struct {
	identity, inference, admin, authorizer *goFunction
}

// all lists the service functions behind API Gateway.
func (s *services) all() []*goFunction { return []*goFunction{s.identity, s.inference, s.admin} }

// Read and write actions on the ledger table. Transactions are authorised by these item
// actions (DynamoDB has no separate IAM action for TransactWriteItems).
var (
	tableRead  = []string{"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable"}
	tableWrite = []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
	// tableLookup is all the read-only AdminService does (store/dynamostore: GetItem, Query).
	tableLookup = []string{"dynamodb:GetItem", "dynamodb:Query"}
)

func (e *env) newServices(scope constructs.Construct, id *identity, tableName *string, infraDir string) (*services, error) {
	c := constructs.NewConstruct(scope, jsii.String("Services"))
	cfg := e.cfg
	layer, err := e.configLayer(c, infraDir)
	if err != nil {
		return nil, err
	}
	common := map[string]*string{
		"PORTICO_ISSUER":       e.issuer(id),
		"PORTICO_CLIENT_IDS":   awscdk.Fn_Join(jsii.String(","), &[]*string{id.webClient.UserPoolClientId(), id.machineClient.UserPoolClientId()}),
		"PORTICO_LAMBDA_EVENT": jsii.String("api-gateway"),
	}
	var layers []awslambda.ILayerVersion
	if layer != nil {
		layers = append(layers, layer)
		if cfg.PolicyFile != "" {
			common["PORTICO_POLICY_FILE"] = jsii.String(LayerPolicyPath)
		}
		if cfg.CatalogFile != "" {
			common["PORTICO_CATALOG_FILE"] = jsii.String(LayerCatalogPath)
		}
	}
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
	store := jsii.String("dynamodb:" + *tableName)
	s := &services{}
	s.identity = e.newGoFunction(c, "Identity", goFunctionProps{
		name: "identity", asset: ServicesAsset, description: "Portico IdentityService (Connect on API Gateway)",
		memory: 256, timeout: awscdk.Duration_Seconds(jsii.Number(10)), layers: layers,
		environment: with(map[string]*string{"PORTICO_SERVICE": jsii.String("identity"), "PORTICO_STORE": store}),
	})
	s.inference = e.newGoFunction(c, "Inference", goFunctionProps{
		name: "inference", asset: ServicesAsset, description: "Portico InferenceService (Connect on API Gateway, streamed)",
		memory: 512, timeout: awscdk.Duration_Minutes(jsii.Number(15)), layers: layers,
		environment: with(map[string]*string{"PORTICO_SERVICE": jsii.String("inference"), "PORTICO_STORE": store}),
	})
	s.admin = e.newGoFunction(c, "Admin", goFunctionProps{
		name: "admin", asset: ServicesAsset, description: "Portico AdminService (Connect on API Gateway)",
		memory: 256, timeout: awscdk.Duration_Seconds(jsii.Number(30)), layers: layers,
		environment: with(map[string]*string{"PORTICO_SERVICE": jsii.String("admin"), "PORTICO_STORE": store}),
	})
	s.authorizer = e.newGoFunction(c, "Authorizer", goFunctionProps{
		name: "authorizer", asset: AuthorizerAsset, description: "Portico API Gateway Lambda authorizer (Cognito access tokens, group policy)",
		memory: 256, timeout: awscdk.Duration_Seconds(jsii.Number(10)), layers: layers,
		environment: with(nil),
	})

	// DynamoDB: the ledger table and its indexes only. Identity reads; Admin only looks up
	// (GetItem, Query); Inference reserves and settles quotas and writes the audit trail.
	tableARNs := e.tableARNs()
	allow := func(g *goFunction, sid string, actions []string, resources []*string) {
		g.role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String(sid),
			Actions:   jsii.Strings(actions...),
			Resources: &resources,
		}))
	}
	allow(s.identity, "ReadLedger", tableRead, tableARNs)
	allow(s.admin, "ReadLedger", tableLookup, tableARNs)
	allow(s.inference, "ReadWriteLedger", append(append([]string{}, tableRead...), tableWrite...), tableARNs)
	keyARN := []*string{e.key.KeyArn()}
	allow(s.identity, "LedgerKeyRead", []string{"kms:Decrypt", "kms:DescribeKey"}, keyARN)
	allow(s.admin, "LedgerKeyRead", []string{"kms:Decrypt", "kms:DescribeKey"}, keyARN)
	allow(s.inference, "LedgerKeyReadWrite", []string{"kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"}, keyARN)

	// Bedrock and SageMaker: exactly the catalog's models, profiles and endpoints.
	if arns := cfg.BedrockARNs(); len(arns) > 0 {
		allow(s.inference, "InvokeCatalogModels", []string{"bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"}, *jsii.Strings(arns...))
	}
	if arns := cfg.GuardrailARNs(); len(arns) > 0 {
		allow(s.inference, "ApplyCatalogGuardrails", []string{"bedrock:ApplyGuardrail"}, *jsii.Strings(arns...))
	}
	if arns := cfg.SageMakerARNs(); len(arns) > 0 {
		allow(s.inference, "InvokeCatalogEndpoints", []string{"sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"}, *jsii.Strings(arns...))
	}
	return s, nil
}

// configLayer packages the configured policy and catalog files as a Lambda layer
// (/opt/portico/...), or returns nil when neither is configured.
func (e *env) configLayer(scope constructs.Construct, infraDir string) (awslambda.LayerVersion, error) {
	cfg := e.cfg
	if cfg.PolicyFile == "" && cfg.CatalogFile == "" {
		return nil, nil
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
	if cfg.PolicyFile != "" {
		if err := copyTo(cfg.PolicyFile, LayerPolicyPath); err != nil {
			return nil, err
		}
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
		RemovalPolicy:           awscdk.RemovalPolicy_RETAIN,
	}), nil
}

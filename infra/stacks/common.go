package stacks

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/portico-dev/portico/infra/config"
)

// Lambda artifact names: make build writes <AssetDir>/<name>/bootstrap.
const (
	ServicesAsset   = "portico-services"
	AuthorizerAsset = "portico-authorizer"
	PretokenAsset   = "portico-pretoken"
	BFFAsset        = "portico-bff"
)

// Assets lists every Lambda artifact the stacks deploy (the pre token generation trigger's
// with Cognito only; make build builds them all).
var Assets = []string{ServicesAsset, AuthorizerAsset, PretokenAsset, BFFAsset}

// CheckAssets reports a missing bootstrap binary under dir with the command that builds it.
func CheckAssets(dir string) error {
	for _, name := range Assets {
		p := filepath.Join(dir, name, "bootstrap")
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("lambda artifact %s missing (run `make build` at the repository root, or set assetDir): %w", p, err)
		}
	}
	return nil
}

// PlaceholderFile is the name of the file WritePlaceholderAssets writes. Placeholder
// directories let `cdk synth` and the tests run without `make build`; they are never deployed.
const PlaceholderFile = "bootstrap"

// WritePlaceholderAssets creates <dir>/<name>/bootstrap for every artifact, each holding a
// line saying it is a synthesis-only placeholder.
func WritePlaceholderAssets(dir string) error {
	for _, name := range Assets {
		d := filepath.Join(dir, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("placeholder asset: %w", err)
		}
		body := []byte("PLACEHOLDER for cdk synth only; never deploy. Run `make build` for the real " + name + " bootstrap.\n")
		if err := os.WriteFile(filepath.Join(d, PlaceholderFile), body, 0o644); err != nil {
			return fmt.Errorf("placeholder asset: %w", err)
		}
	}
	return nil
}

// env is what every construct of the regional stack shares.
type env struct {
	cfg      *config.Config
	stack    awscdk.Stack
	key      awskms.Key
	assetDir string
}

// removal is the removal policy of the stateful, named resources. A protected environment
// keeps them on delete and on replacement, but not when their first create rolls back
// (CloudFormation's RetainExceptOnCreate): a retained half-created table, pool, key, secret
// or log group would hold its fixed name and make every retry of the first deploy fail.
func (e *env) removal() awscdk.RemovalPolicy {
	if e.cfg.Protect {
		return awscdk.RemovalPolicy_RETAIN_ON_UPDATE_OR_DELETE
	}
	return awscdk.RemovalPolicy_DESTROY
}

// logGroup creates a KMS-encrypted log group with the configured retention.
func (e *env) logGroup(scope constructs.Construct, id, name string) awslogs.LogGroup {
	return awslogs.NewLogGroup(scope, jsii.String(id), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String(name),
		Retention:     retention[e.cfg.LogRetentionDays],
		EncryptionKey: e.key,
		RemovalPolicy: e.removal(),
	})
}

// logStreamsARN is the ARN of the log streams of the named log group: the narrowest resource
// logs:CreateLogStream and logs:PutLogEvents accept (stream names are chosen by Lambda).
func (e *env) logStreamsARN(group string) string {
	return fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s:log-stream:*", e.cfg.Region, e.cfg.Account, group)
}

// goFunction is one Go Lambda function (provided.al2023, arm64) with its own role and log group.
type goFunction struct {
	fn       awslambda.Function
	role     awsiam.Role
	logGroup awslogs.LogGroup
	name     string
}

type goFunctionProps struct {
	name        string // physical name suffix
	asset       string
	description string
	memory      float64
	timeout     awscdk.Duration
	environment map[string]*string
	layers      []awslambda.ILayerVersion
	// reserved is the function's reserved concurrency; 0 reserves none.
	reserved int
	// modeless marks a binary without development defaults, which reads no PORTICO_ENV
	// (the pre token generation trigger): it is not given one.
	modeless bool
}

// EnvProduction is PORTICO_ENV of every deployed Portico binary: production refuses to start
// rather than fall back to a development default (docs/contracts.md).
const EnvProduction = "production"

// newGoFunction creates the function, an execution role allowed nothing but writing its own
// log streams and decrypting its environment, and a KMS-encrypted log group. Every function
// runs with JSON logs, and with PORTICO_ENV=production unless it is modeless.
func (e *env) newGoFunction(scope constructs.Construct, id string, p goFunctionProps) *goFunction {
	c := constructs.NewConstruct(scope, jsii.String(id))
	name := e.cfg.Name(p.name)
	lg := e.logGroup(c, "Logs", "/aws/lambda/"+name)
	role := e.bareRole(c, "Role", name)
	environment := map[string]*string{"PORTICO_LOG_FORMAT": jsii.String("json")}
	if !p.modeless {
		environment["PORTICO_ENV"] = jsii.String(EnvProduction)
	}
	for k, v := range p.environment {
		environment[k] = v
	}
	var layers *[]awslambda.ILayerVersion
	if len(p.layers) > 0 {
		layers = &p.layers
	}
	var reserved *float64
	if p.reserved > 0 {
		reserved = jsii.Number(p.reserved)
	}
	fn := awslambda.NewFunction(c, jsii.String("Function"), &awslambda.FunctionProps{
		FunctionName:          jsii.String(name),
		Description:           jsii.String(p.description),
		Runtime:               awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:          awslambda.Architecture_ARM_64(),
		Handler:               jsii.String("bootstrap"),
		Code:                  awslambda.Code_FromAsset(jsii.String(filepath.Join(e.assetDir, p.asset)), nil),
		MemorySize:            jsii.Number(p.memory),
		Timeout:               p.timeout,
		Role:                  role,
		LogGroup:              lg,
		Environment:           &environment,
		EnvironmentEncryption: e.key,
		Layers:                layers,
		RecursiveLoop:         awslambda.RecursiveLoop_TERMINATE,
		// A stream holds an execution for minutes: reserved, the streaming functions can
		// neither be starved by the account's other functions nor starve them.
		ReservedConcurrentExecutions: reserved,
	})
	return &goFunction{fn: fn, role: role, logGroup: lg, name: name}
}

// retention maps the configuration's days (validated by config) to CDK's enum.
var retention = map[int]awslogs.RetentionDays{
	1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS, 5: awslogs.RetentionDays_FIVE_DAYS,
	7: awslogs.RetentionDays_ONE_WEEK, 14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
	60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS, 120: awslogs.RetentionDays_FOUR_MONTHS,
	150: awslogs.RetentionDays_FIVE_MONTHS, 180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
	400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS, 731: awslogs.RetentionDays_TWO_YEARS,
	1096: awslogs.RetentionDays_THREE_YEARS, 1827: awslogs.RetentionDays_FIVE_YEARS, 2192: awslogs.RetentionDays_SIX_YEARS,
	2557: awslogs.RetentionDays_SEVEN_YEARS, 2922: awslogs.RetentionDays_EIGHT_YEARS, 3288: awslogs.RetentionDays_NINE_YEARS,
	3653: awslogs.RetentionDays_TEN_YEARS,
}

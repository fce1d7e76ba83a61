package stacks

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/portico-dev/portico/infra/config"
)

// helperLogGroup is the log group of the Lambda functions CDK adds by itself: the
// providers of the cross-region references between the edge and the regional stack
// (Custom::CrossRegionExportWriter/Reader). Left alone, Lambda creates their log groups on
// first use with neither retention nor a customer-managed key. CDK creates those functions
// while it prepares the app, after every construct and aspect of Portico ran, so a
// validation (run after preparation, before the templates are written) points each of them
// at this group.
func helperLogGroup(stack awscdk.Stack, cfg *config.Config, part string, key awskms.IKey, removal awscdk.RemovalPolicy) awslogs.LogGroup {
	lg := awslogs.NewLogGroup(stack, jsii.String("CdkHelperLogs"), &awslogs.LogGroupProps{
		// Named per stack: in an environment whose region is us-east-1 both stacks share it.
		LogGroupName:  jsii.String("/portico/" + cfg.Env + "/cdk-helpers/" + part),
		Retention:     retention[cfg.LogRetentionDays],
		EncryptionKey: key,
		RemovalPolicy: removal,
	})
	stack.Node().AddValidation(&helperLogging{stack: stack, group: lg})
	return lg
}

// helperLogging is the validation that sends CDK's own functions' logs to the group.
type helperLogging struct {
	stack awscdk.Stack
	group awslogs.LogGroup
}

// Validate sets LoggingConfig on every Lambda function of the stack that has none; it
// reports no error.
func (h *helperLogging) Validate() *[]*string {
	for _, c := range *h.stack.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		if !*awscdk.CfnResource_IsCfnResource(c) {
			continue
		}
		r := c.(awscdk.CfnResource)
		if *r.CfnResourceType() != "AWS::Lambda::Function" || !strings.Contains(*c.Node().Path(), "CustomResourceProvider") {
			continue
		}
		r.AddPropertyOverride(jsii.String("LoggingConfig.LogGroup"), h.group.LogGroupName())
	}
	return &[]*string{}
}

// edgeLogsKey is the edge stack's key for its one log group (CloudWatch Logs needs a key in
// the log group's region).
func edgeLogsKey(stack awscdk.Stack, cfg *config.Config, removal awscdk.RemovalPolicy) awskms.Key {
	key := awskms.NewKey(stack, jsii.String("LogsKey"), &awskms.KeyProps{
		Alias:             jsii.String("alias/" + cfg.Name("edge-logs")),
		Description:       jsii.String("Portico " + cfg.Env + ": logs of the edge stack's CDK helper function"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     removal,
	})
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchLogs"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String(fmt.Sprintf("logs.%s.amazonaws.com", EdgeRegion)), nil)},
		Actions:    jsii.Strings("kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"),
		Resources:  jsii.Strings("*"), // in a key policy "*" means this key
		Conditions: &map[string]any{
			"ArnLike": map[string]any{"kms:EncryptionContext:aws:logs:arn": fmt.Sprintf("arn:aws:logs:%s:%s:log-group:*", EdgeRegion, cfg.Account)},
		},
	}), jsii.Bool(false))
	return key
}

// withEnv returns the union of environment maps; a later map wins.
func withEnv(ms ...map[string]*string) map[string]*string {
	out := map[string]*string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

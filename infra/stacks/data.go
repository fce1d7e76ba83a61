package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Table layout shared with the services' DynamoDB store (single-table design).
const (
	TablePartitionKey = "PK"
	TableSortKey      = "SK"
	TableTTLAttribute = "ttl"
)

// TableIndexes are the global secondary indexes (name, partition key, sort key), as
// services/store/dynamostore.CreateTableInput defines them.
var TableIndexes = [][3]string{{"GSI1", "GSI1PK", "GSI1SK"}, {"GSI2", "GSI2PK", "GSI2SK"}}

// newKey creates the environment's customer-managed key (rotation on) used by DynamoDB,
// CloudWatch Logs, Secrets Manager, SNS and the Lambda environments.
func (e *env) newKey(scope constructs.Construct) awskms.Key {
	key := awskms.NewKey(scope, jsii.String("Key"), &awskms.KeyProps{
		Alias:             jsii.String("alias/" + e.cfg.Name("data")),
		Description:       jsii.String("Portico " + e.cfg.Env + ": data, logs, secrets, alarms"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     e.removal(),
	})
	// CloudWatch Logs encrypts this account's log groups in this region with the key.
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchLogs"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String(fmt.Sprintf("logs.%s.amazonaws.com", e.cfg.Region)), nil)},
		Actions:    jsii.Strings("kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"),
		Resources:  jsii.Strings("*"), // in a key policy "*" means this key
		Conditions: &map[string]any{
			"ArnLike": map[string]any{
				"kms:EncryptionContext:aws:logs:arn": fmt.Sprintf("arn:aws:logs:%s:%s:log-group:*", e.cfg.Region, e.cfg.Account),
			},
		},
	}), jsii.Bool(false))
	// CloudWatch alarms publish to the encrypted SNS topic.
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarms"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": e.cfg.Account},
		},
	}), jsii.Bool(false))
	return key
}

// newTable creates the usage ledger, quota and audit table: on demand, point-in-time
// recovery, the customer-managed key, deletion protection when the environment is protected.
func (e *env) newTable(scope constructs.Construct) awsdynamodb.Table {
	t := awsdynamodb.NewTable(scope, jsii.String("Table"), &awsdynamodb.TableProps{
		TableName:    jsii.String(e.cfg.Name("ledger")),
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String(TablePartitionKey), Type: awsdynamodb.AttributeType_STRING},
		SortKey:      &awsdynamodb.Attribute{Name: jsii.String(TableSortKey), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		Encryption:          awsdynamodb.TableEncryption_CUSTOMER_MANAGED,
		EncryptionKey:       e.key,
		DeletionProtection:  jsii.Bool(e.cfg.Protect),
		RemovalPolicy:       e.removal(),
		TimeToLiveAttribute: jsii.String(TableTTLAttribute),
	})
	for _, ix := range TableIndexes {
		t.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
			IndexName:      jsii.String(ix[0]),
			PartitionKey:   &awsdynamodb.Attribute{Name: jsii.String(ix[1]), Type: awsdynamodb.AttributeType_STRING},
			SortKey:        &awsdynamodb.Attribute{Name: jsii.String(ix[2]), Type: awsdynamodb.AttributeType_STRING},
			ProjectionType: awsdynamodb.ProjectionType_ALL,
		})
	}
	return t
}

// tableARNs returns the exact ARNs of the table and its indexes (no wildcard). The table's
// name is fixed, so the ARNs are plain strings a reviewer can read in the template.
func (e *env) tableARNs() []*string {
	table := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", e.cfg.Region, e.cfg.Account, e.cfg.Name("ledger"))
	arns := []string{table}
	for _, ix := range TableIndexes {
		arns = append(arns, table+"/index/"+ix[0])
	}
	return *jsii.Strings(arns...)
}

// Session table layout, as bff/session/dynamosession defines it: a string partition key and
// the number attribute DynamoDB's time-to-live deletes ended sessions by.
const (
	SessionPartitionKey = "pk"
	SessionTTLAttribute = "ttl"
)

// sessionActions are exactly the DynamoDB calls of bff/session/dynamosession (its API
// interface): a consistent GetItem, a conditional PutItem, DeleteItem. No Query or Scan: a
// session is only ever found by the hash of its ticket.
var sessionActions = []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"}

// sessionKeyActions let DynamoDB use the environment's key for the BFF's reads and writes of
// the session table (granted only via DynamoDB), as the ledger's writers have it.
var sessionKeyActions = []string{"kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"}

// newSessionTable creates the BFF's server-side session table: logout deletes the item, so a
// copied cookie is dead at once, and every BFF instance sees the same sessions. On demand,
// the customer-managed key, point-in-time recovery, time-to-live on ttl; deletion protection
// when the environment is protected.
func (e *env) newSessionTable(scope constructs.Construct) awsdynamodb.Table {
	return awsdynamodb.NewTable(scope, jsii.String("SessionTable"), e.itemTableProps("sessions", SessionPartitionKey, "", SessionTTLAttribute))
}

// itemTableProps are the properties every item table of the application shares (sessions,
// conversations, keys): the environment's name, string keys (sk "" for none), on demand,
// point-in-time recovery, the customer-managed key, deletion protection when the environment
// is protected, the environment's removal policy, and time to live on ttl ("" for none).
func (e *env) itemTableProps(name, pk, sk, ttl string) *awsdynamodb.TableProps {
	p := &awsdynamodb.TableProps{
		TableName:    jsii.String(e.cfg.Name(name)),
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String(pk), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		Encryption:         awsdynamodb.TableEncryption_CUSTOMER_MANAGED,
		EncryptionKey:      e.key,
		DeletionProtection: jsii.Bool(e.cfg.Protect),
		RemovalPolicy:      e.removal(),
	}
	if sk != "" {
		p.SortKey = &awsdynamodb.Attribute{Name: jsii.String(sk), Type: awsdynamodb.AttributeType_STRING}
	}
	if ttl != "" {
		p.TimeToLiveAttribute = jsii.String(ttl)
	}
	return p
}

// sessionTableARN is the exact ARN of the session table (no index, no wildcard).
func (e *env) sessionTableARN() string {
	return fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", e.cfg.Region, e.cfg.Account, e.cfg.Name("sessions"))
}

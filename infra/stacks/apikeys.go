package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// EnvKeyStore names the store of personal API keys (docs/contracts.md).
const EnvKeyStore = "PORTICO_KEY_STORE"

// EnvPublicAPIURL is the base URL of the OpenAI-compatible endpoint the app shows people
// (docs/contracts.md).
const EnvPublicAPIURL = "PORTICO_PUBLIC_API_URL"

// Key table layout, as services/apikey's DynamoDB store uses it: string pk and sk, and the
// index by the SHA-256 of a secret that the services and the authorizer find a key by.
const (
	KeyPartitionKey = "pk"
	KeySortKey      = "sk"
	KeyHashIndex    = "byHash"
	KeyHashAttr     = "hash"
)

// Actions on the key table: the services create, list, touch and revoke keys and record
// their owners' sign-ins; the authorizer only finds a key by its hash.
var (
	keyReadWrite = []string{
		"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem",
		"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
	}
	keyLookup = []string{"dynamodb:GetItem", "dynamodb:Query"}
)

// newKeyTable creates the table of personal API keys (only the secrets' hashes are stored):
// on demand, point-in-time recovery, the customer-managed key, deletion protection when the
// environment is protected, and the byHash index.
func (e *env) newKeyTable(scope constructs.Construct) awsdynamodb.Table {
	t := awsdynamodb.NewTable(scope, jsii.String("KeyTable"), &awsdynamodb.TableProps{
		TableName:    jsii.String(e.cfg.Name("keys")),
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String(KeyPartitionKey), Type: awsdynamodb.AttributeType_STRING},
		SortKey:      &awsdynamodb.Attribute{Name: jsii.String(KeySortKey), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		Encryption:         awsdynamodb.TableEncryption_CUSTOMER_MANAGED,
		EncryptionKey:      e.key,
		DeletionProtection: jsii.Bool(e.cfg.Protect),
		RemovalPolicy:      e.removal(),
	})
	t.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
		IndexName:      jsii.String(KeyHashIndex),
		PartitionKey:   &awsdynamodb.Attribute{Name: jsii.String(KeyHashAttr), Type: awsdynamodb.AttributeType_STRING},
		ProjectionType: awsdynamodb.ProjectionType_ALL,
	})
	return t
}

// keyTableARNs are the exact ARNs of the key table and its index.
func (e *env) keyTableARNs() []string {
	table := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", e.cfg.Region, e.cfg.Account, e.cfg.Name("keys"))
	return []string{table, table + "/index/" + KeyHashIndex}
}

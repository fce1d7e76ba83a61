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

// Key table layout, as services/apikey/dynamokeys uses it: string pk and sk, no index (a
// secret is found by two GetItem calls: the item HASH#<sha256> names its key's owner and id).
const (
	KeyPartitionKey = "pk"
	KeySortKey      = "sk"
)

// Actions on the key table, by what each function does with it (services/apikey/dynamokeys).
var (
	// keyManage: ApiKeyService creates keys (conditional PutItem of the key and its hash
	// guard, DeleteItem of a guard whose key failed), lists an owner's (Query) and, for
	// administrators, everyone's (Scan), and revokes them (UpdateItem).
	keyManage = []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:Scan"}
	// keyUse: every services process resolves a key (GetItem), records its last use
	// (UpdateItem) and people's sign-ins (PutItem of OWNER#<owner>/SEEN).
	keyUse = []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}
	// keyLookup: the authorizer only finds a key (GetItem); the services behind it record
	// the same uses and sign-ins, so the front door never writes the credential table.
	keyLookup = []string{"dynamodb:GetItem"}
)

// newKeyTable creates the table of personal API keys (only the secrets' hashes are stored):
// on demand, point-in-time recovery, the customer-managed key, deletion protection when the
// environment is protected.
func (e *env) newKeyTable(scope constructs.Construct) awsdynamodb.Table {
	return awsdynamodb.NewTable(scope, jsii.String("KeyTable"), e.itemTableProps("keys", KeyPartitionKey, KeySortKey, ""))
}

// keyTableARN is the exact ARN of the key table (no index, no wildcard).
func (e *env) keyTableARN() string {
	return fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", e.cfg.Region, e.cfg.Account, e.cfg.Name("keys"))
}

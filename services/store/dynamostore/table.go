package dynamostore

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/portico-dev/portico/services/platform/dynamotable"
)

// TableAPI is what EnsureTable needs; *dynamodb.Client implements it.
type TableAPI = dynamotable.API

// CreateTableInput returns the table definition (on-demand billing, the key schema and both
// indexes) for infrastructure code and EnsureTable.
func CreateTableInput(table string) *dynamodb.CreateTableInput {
	s := func(name string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS}
	}
	ks := func(hash, rng string) []types.KeySchemaElement {
		return []types.KeySchemaElement{
			{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(rng), KeyType: types.KeyTypeRange},
		}
	}
	gsi := func(name, hash, rng string) types.GlobalSecondaryIndex {
		return types.GlobalSecondaryIndex{
			IndexName: aws.String(name), KeySchema: ks(hash, rng),
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}
	}
	return &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{s("PK"), s("SK"), s("GSI1PK"), s("GSI1SK"), s("GSI2PK"), s("GSI2SK")},
		KeySchema:            ks("PK", "SK"),
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			gsi("GSI1", "GSI1PK", "GSI1SK"),
			gsi("GSI2", "GSI2PK", "GSI2SK"),
		},
	}
}

// EnsureTable creates table with the package's schema unless it exists, and waits (up to
// a minute) until it is active. It is meant for tests and development; in AWS the
// infrastructure code creates the table (and turns on time-to-live on the `ttl`
// attribute).
func EnsureTable(ctx context.Context, db TableAPI, table string) error {
	return dynamotable.Ensure(ctx, db, CreateTableInput(table))
}

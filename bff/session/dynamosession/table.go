package dynamosession

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/portico-dev/portico/services/platform/dynamotable"
)

// TableAPI is what EnsureTable needs; *dynamodb.Client implements it.
type TableAPI = dynamotable.API

// CreateTableInput returns the table definition (on-demand billing, string partition key
// `pk`) for infrastructure code and EnsureTable. Infrastructure code also turns on
// time-to-live on `ttl`.
func CreateTableInput(table string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
		},
	}
}

// EnsureTable creates table unless it exists and waits (up to a minute) until it is active.
// It is meant for tests and development only; in AWS the infrastructure code owns the table.
func EnsureTable(ctx context.Context, db TableAPI, table string) error {
	if err := dynamotable.Ensure(ctx, db, CreateTableInput(table)); err != nil {
		return fmt.Errorf("dynamosession: %w", err)
	}
	return nil
}

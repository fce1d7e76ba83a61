package dynamostore

import (
	"math/big"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/store/storetest"
)

func TestContract(t *testing.T) {
	t.Parallel()
	db := client(t)
	storetest.Run(t, func(t *testing.T, opts store.Options) store.Store {
		s := New(db, newTable(t, db), opts)
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func TestContractCorrupt(t *testing.T) {
	t.Parallel()
	db := client(t)
	storetest.RunCorrupt(t, func(t *testing.T, opts store.Options) store.Store {
		s := New(db, newTable(t, db), opts)
		t.Cleanup(func() { _ = s.Close() })
		return s
	}, func(t *testing.T, st store.Store, key string, used, reserved int64, resetsAt time.Time) {
		s := st.(*Store)
		consumed := new(big.Int).Add(big.NewInt(used), big.NewInt(reserved))
		_, err := s.db.PutItem(t.Context(), &dynamodb.PutItemInput{
			TableName: s.tableName(),
			Item: map[string]types.AttributeValue{
				"PK": str(counterPK(key)), "SK": str("CTR"), "used": num(used), "reserved": num(reserved),
				"consumed": &types.AttributeValueMemberN{Value: consumed.String()}, "resetsAt": num(resetsAt.UnixNano()),
			},
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

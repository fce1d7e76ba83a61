package dynamostore

import (
	"errors"
	"math"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/portico-dev/portico/services/store"
)

// TestGetCount is the table of counter figures as DynamoDB may hold them: a figure that is not
// a whole non-negative number is corrupt, never zero; one past int64 saturates.
func TestGetCount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		value   types.AttributeValue // nil: absent
		want    int64
		corrupt bool
	}{
		{"absent", nil, 0, false},
		{"zero", &types.AttributeValueMemberN{Value: "0"}, 0, false},
		{"count", &types.AttributeValueMemberN{Value: "30000"}, 30000, false},
		{"largest int64", &types.AttributeValueMemberN{Value: "9223372036854775807"}, math.MaxInt64, false},
		{"past int64 saturates", &types.AttributeValueMemberN{Value: "99999999999999999999999999999999999999"}, math.MaxInt64, false},
		{"negative", &types.AttributeValueMemberN{Value: "-1"}, 0, true},
		{"hugely negative", &types.AttributeValueMemberN{Value: "-99999999999999999999999999999999999999"}, 0, true},
		{"fraction", &types.AttributeValueMemberN{Value: "1.5"}, 0, true},
		{"a string", &types.AttributeValueMemberS{Value: "5"}, 0, true},
		{"null", &types.AttributeValueMemberNULL{Value: true}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			item := map[string]types.AttributeValue{}
			if tt.value != nil {
				item["used"] = tt.value
			}
			got, err := getCount(item, "k", "used")
			if tt.corrupt != errors.Is(err, store.ErrCorrupt) || (err != nil && !tt.corrupt) || got != tt.want {
				t.Errorf("getCount = %d, %v; want %d, corrupt %v", got, err, tt.want, tt.corrupt)
			}
		})
	}
}

package store_test

import (
	"testing"

	"github.com/portico-dev/portico/services/store"
)

func TestParseSpec(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    store.Spec
		wantErr bool
	}{
		{"sqlite:/tmp/x.db", store.Spec{Kind: store.KindSQLite, Target: "/tmp/x.db"}, false},
		{"sqlite:.data/portico.db", store.Spec{Kind: store.KindSQLite, Target: ".data/portico.db"}, false},
		{"dynamodb:portico-usage", store.Spec{Kind: store.KindDynamoDB, Target: "portico-usage"}, false},
		{"dynamodb:a:b", store.Spec{Kind: store.KindDynamoDB, Target: "a:b"}, false},
		{"", store.Spec{}, true},
		{"sqlite:", store.Spec{}, true},
		{"dynamodb:", store.Spec{}, true},
		{"portico.db", store.Spec{}, true},
		{"postgres:db", store.Spec{}, true},
		{"SQLITE:x.db", store.Spec{}, true},
		{":x.db", store.Spec{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := store.ParseSpec(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseSpec(%q) = %+v, %v; want %+v (error: %v)", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

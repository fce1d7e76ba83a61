package storeconfig

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/store/dynamostore"
	"github.com/portico-dev/portico/services/store/sqlitestore"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Spec
		ok   bool
	}{
		{"", Spec{Kind: "sqlite", Path: ".data/portico.db"}, true},
		{"sqlite:/tmp/x.db", Spec{Kind: "sqlite", Path: "/tmp/x.db"}, true},
		{"dynamodb:portico-usage", Spec{Kind: "dynamodb", Table: "portico-usage"}, true},
		{"sqlite:", Spec{}, false},
		{"postgres:db", Spec{}, false},
		{"portico.db", Spec{}, false},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("Parse(%q) = %+v, %v", tt.in, got, err)
		}
	}
}

func TestOpen(t *testing.T) {
	t.Parallel()
	s, err := Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "new", "dir", "p.db"), store.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*sqlitestore.Store); !ok {
		t.Errorf("sqlite spec opened %T", s)
	}
	_ = s.Close()
	loaded := false
	d, err := Open(t.Context(), "dynamodb:t", store.Options{}, func(context.Context) (aws.Config, error) {
		loaded = true
		return aws.Config{Region: "us-east-1"}, nil
	})
	if _, ok := d.(*dynamostore.Store); err != nil || !ok || !loaded {
		t.Errorf("dynamodb spec opened %T, %v (config loaded: %v)", d, err, loaded)
	}
	if _, err := Open(t.Context(), "bogus:x", store.Options{}, nil); err == nil {
		t.Error("bogus spec opened")
	}
}

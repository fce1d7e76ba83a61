package runmode_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/portico-dev/portico/services/platform/runmode"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		value    string
		onLambda bool
		want     runmode.Mode
		wantErr  bool
	}{
		{"", false, runmode.Development, false},
		{"development", false, runmode.Development, false},
		{" Production ", false, runmode.Production, false},
		{"production", false, runmode.Production, false},
		{"", true, runmode.Production, false},
		{"development", true, runmode.Production, false},
		{"prod", false, runmode.Production, true},
		{"dev", false, runmode.Production, true},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			t.Parallel()
			got, err := runmode.Parse(tt.value, tt.onLambda)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("Parse(%q, %v) = %q, %v; want %q, error %v", tt.value, tt.onLambda, got, err, tt.want, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), runmode.Env) {
				t.Errorf("error %q does not name %s", err, runmode.Env)
			}
		})
	}
}

func TestRequirements(t *testing.T) {
	t.Parallel()
	var none runmode.Requirements
	none.Need("A", "x")
	none.NeedOneOf([]string{"B", "B_ARN"}, "", "arn")
	if err := none.Err(); err != nil {
		t.Errorf("all set: %v", err)
	}
	var r runmode.Requirements
	r.Need("A", "")
	r.Need("B", " \t")
	r.Need("C", "set")
	r.NeedOneOf([]string{"D", "D_ARN"}, "", "")
	err := r.Err()
	var missing *runmode.MissingError
	if !errors.As(err, &missing) {
		t.Fatalf("Err() = %v, want *MissingError", err)
	}
	if got := strings.Join(missing.Variables, "|"); got != "A|B|D or D_ARN" {
		t.Errorf("missing %q", got)
	}
	if msg := err.Error(); !strings.HasSuffix(msg, "set A, B, D or D_ARN") {
		t.Errorf("message %q", msg)
	}
}

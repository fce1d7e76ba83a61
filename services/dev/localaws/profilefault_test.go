package localaws

import "testing"

// TestFaultReachesProfiles: a fault on a model applies to calls through its inference
// profiles (the services call us.<model> where the model is not on demand), and to nothing
// else.
func TestFaultReachesProfiles(t *testing.T) {
	t.Parallel()
	const model = "anthropic.claude-3-5-haiku-20241022-v1:0"
	tests := []struct {
		target string
		hit    bool
	}{
		{model, true},
		{"us." + model, true},
		{"eu." + model, true},
		{"global." + model, true},
		{"xx." + model, false},
		{"us." + model + "x", false},
		{"amazon.nova-lite-v1:0", false},
	}
	for _, tt := range tests {
		var fs Faults
		if err := fs.Add(Fault{Target: model, Fault: FaultQuota}); err != nil {
			t.Fatal(err)
		}
		if _, hit := fs.take(tt.target); hit != tt.hit {
			t.Errorf("fault on %s for a call to %s: %v, want %v", model, tt.target, hit, tt.hit)
		}
	}
}

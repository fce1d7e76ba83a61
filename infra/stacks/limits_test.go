package stacks

import (
	"fmt"
	"strings"
	"testing"
)

// TestAPITLS: the execute-api endpoint refuses TLS 1.0 and 1.1 (security policy TLS_1_2 or
// an enhanced one with its endpoint access mode).
func TestAPITLS(t *testing.T) {
	eachEnv(t, func(t *testing.T, s *synthesized) {
		_, apis := s.mainJSON.ofType("AWS::ApiGateway::RestApi")
		if len(apis) != 1 {
			t.Fatalf("%d REST APIs", len(apis))
		}
		p := apis[0].Properties
		policy, _ := p["SecurityPolicy"].(string)
		if policy != s.cfg.API.SecurityPolicy || policy == "" || policy == "TLS_1_0" {
			t.Errorf("security policy %q, want %q", policy, s.cfg.API.SecurityPolicy)
		}
		if strings.HasPrefix(policy, "SecurityPolicy_") != (p["EndpointAccessMode"] == "STRICT") {
			t.Errorf("security policy %s with endpoint access mode %v", policy, p["EndpointAccessMode"])
		}
	})
}

// TestStreamingLimits: the functions that hold a stream have reserved concurrency as
// configured, and CloudFront waits for the BFF's first byte as long as configured.
func TestStreamingLimits(t *testing.T) {
	eachEnv(t, func(t *testing.T, s *synthesized) {
		cfg := s.cfg
		for fn, want := range map[string]int{"bff": cfg.Concurrency.BFF, "inference": cfg.Concurrency.Inference} {
			if got := s.mainJSON.function(t, cfg.Name(fn)).Properties["ReservedConcurrentExecutions"]; got != float64(want) {
				t.Errorf("%s: reserved concurrency %v, want %d", fn, got, want)
			}
		}
		_, dists := s.mainJSON.ofType("AWS::CloudFront::Distribution")
		found := false
		for _, o := range dists[0].Properties["DistributionConfig"].(map[string]any)["Origins"].([]any) {
			om := o.(map[string]any)
			if co, ok := om["CustomOriginConfig"].(map[string]any); ok {
				found = true
				if co["OriginReadTimeout"] != cfg.Web.OriginReadTimeout.Seconds() || co["OriginReadTimeout"].(float64) < 60 {
					t.Errorf("BFF origin read timeout %v, want %v (at least 60 s)", co["OriginReadTimeout"], cfg.Web.OriginReadTimeout)
				}
			}
		}
		if !found {
			t.Error("no BFF origin")
		}
	})
}

// TestEveryLogGroupOwned: every Lambda function of both stacks, CDK's own helper functions
// included, logs to a log group of the stack with the configured retention and a
// customer-managed key; API Gateway's execution log group exists before the stage does.
func TestEveryLogGroupOwned(t *testing.T) {
	eachEnv(t, func(t *testing.T, s *synthesized) {
		for name, tmpl := range map[string]template{"edge": s.edgeJSON, "main": s.mainJSON} {
			ids, groups := tmpl.ofType("AWS::Logs::LogGroup")
			owned := map[string]bool{}
			for i, g := range groups {
				owned[ids[i]] = true
				if fmt.Sprint(g.Properties["RetentionInDays"]) != fmt.Sprint(s.cfg.LogRetentionDays) || g.Properties["KmsKeyId"] == nil {
					t.Errorf("%s: log group %s: retention %v, key %v", name, ids[i], g.Properties["RetentionInDays"], g.Properties["KmsKeyId"])
				}
			}
			fnIDs, fns := tmpl.ofType("AWS::Lambda::Function")
			if name == "edge" && len(fns) == 0 && s.cfg.Region != EdgeRegion {
				t.Fatal("edge: no CDK helper function for the cross-region reference: the check below cannot be working")
			}
			for i, f := range fns {
				lc, _ := f.Properties["LoggingConfig"].(map[string]any)
				if !owned[getAttID(lc["LogGroup"])] {
					t.Errorf("%s: function %s logs to %v, not to a log group of the stack", name, fnIDs[i], lc["LogGroup"])
				}
			}
		}
		names := map[string]string{} // physical log group name → stack: none may repeat in one region
		for stack, tmpl := range map[string]template{"edge": s.edgeJSON, "main": s.mainJSON} {
			_, gs := tmpl.ofType("AWS::Logs::LogGroup")
			for _, g := range gs {
				n := mustJSON(t, g.Properties["LogGroupName"])
				if other, dup := names[n]; dup && s.cfg.Region == EdgeRegion {
					t.Errorf("log group %s in both the %s and the %s stack, one region", n, other, stack)
				}
				names[n] = stack
			}
		}
		ids, groups := s.mainJSON.ofType("AWS::Logs::LogGroup")
		execID := ""
		for i, g := range groups {
			if strings.Contains(mustJSON(t, g.Properties["LogGroupName"]), "API-Gateway-Execution-Logs_") {
				execID = ids[i]
			}
		}
		if execID == "" {
			t.Fatal("no API Gateway execution log group")
		}
		for id, r := range s.mainJSON.Resources {
			if r.Type == "AWS::ApiGateway::Stage" && !strings.Contains(mustJSON(t, r.DependsOn), execID) {
				t.Errorf("stage %s does not wait for the execution log group %s", id, execID)
			}
		}
	})
}

package stacks

import (
	"strings"
	"testing"
)

// TestNoSAMLSingleLogout: the Entra provider does not ask Entra for single logout, which
// Entra cannot answer in the binding Cognito requires (HTTP POST).
func TestNoSAMLSingleLogout(t *testing.T) {
	eachCognitoEnv(t, func(t *testing.T, s *synthesized) {
		_, idps := s.mainJSON.ofType("AWS::Cognito::UserPoolIdentityProvider")
		if len(idps) != 1 {
			t.Fatalf("%d identity providers", len(idps))
		}
		details := idps[0].Properties["ProviderDetails"].(map[string]any)
		if v, ok := details["IDPSignout"]; !ok || (v != false && v != "false") {
			t.Errorf("IDPSignout = %v (set: %v), want false", v, ok)
		}
	})
}

// TestNoMarketplaceGrant: no Portico role may subscribe the account to AWS Marketplace
// products (Bedrock's automatic model subscription): model access is an operator's step
// with a role of its own (docs/deploy.md, "Bedrock model access").
func TestNoMarketplaceGrant(t *testing.T) {
	eachEnv(t, func(t *testing.T, s *synthesized) {
		seen := 0
		for _, tmpl := range []template{s.mainJSON, s.edgeJSON} {
			for id, r := range tmpl.Resources {
				if r.Type != "AWS::IAM::Policy" && r.Type != "AWS::IAM::Role" {
					continue
				}
				seen++
				if b := strings.ToLower(mustJSON(t, r.Properties)); strings.Contains(b, "aws-marketplace:") {
					t.Errorf("%s grants an aws-marketplace action", id)
				}
			}
		}
		if seen == 0 {
			t.Fatal("no IAM policies: the check cannot be working")
		}
	})
}

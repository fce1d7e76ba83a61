package token_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-dev/portico/services/token"
	"github.com/portico-dev/portico/services/token/tokentest"
)

// TestDepartmentClaim reads the department from the configured claim, and from
// custom:department by default; a claim that is not a string leaves it empty.
func TestDepartmentClaim(t *testing.T) {
	t.Parallel()
	iss := tokentest.Start(t)
	tests := []struct {
		name  string
		claim string
		set   map[string]any
		want  string
	}{
		{"default claim", "", map[string]any{"custom:department": "Legal", "department": "Other"}, "Legal"},
		{"default named explicitly", token.DefaultDepartmentClaim, map[string]any{"custom:department": "Legal"}, "Legal"},
		{"configured claim", "department", map[string]any{"custom:department": "Legal", "department": "Finance"}, "Finance"},
		{"configured claim absent", "department", map[string]any{"custom:department": "Legal"}, ""},
		{"configured claim not a string", "department", map[string]any{"department": []string{"Finance"}}, ""},
		{"configured claim a number", "extension_costCenter", map[string]any{"extension_costCenter": 4711}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := token.NewVerifier(iss.URL, token.Cognito{ClientIDs: []string{tokentest.WebClientID}}, token.WithDepartmentClaim(tt.claim))
			c := iss.PersonClaims("dana", tokentest.WebClientID, "MLUsers")
			for k, val := range tt.set {
				c[k] = val
			}
			p, err := v.Verify(context.Background(), iss.Sign(c))
			if err != nil {
				t.Fatal(err)
			}
			if p.Department != tt.want {
				t.Errorf("department = %q, want %q", p.Department, tt.want)
			}
		})
	}
	// A machine client has no department, whatever its token says.
	v := token.NewVerifier(iss.URL, token.Cognito{ClientIDs: []string{tokentest.MachineClientID}}, token.WithDepartmentClaim("department"))
	mc := iss.MachineClaims(tokentest.MachineClientID, tokentest.ScopeInference)
	mc["department"] = "Finance"
	if m, err := v.Verify(context.Background(), iss.Sign(mc)); err != nil || m.Department != "" {
		t.Errorf("machine: %+v, %v", m, err)
	}
}

// TestEntraGroupLookup maps group object ids through the lookup at each verification: an id
// the policy in force maps is accepted, one it no longer maps is refused.
func TestEntraGroupLookup(t *testing.T) {
	t.Parallel()
	iss := tokentest.Start(t)
	var mapped atomic.Bool
	mapped.Store(true)
	lookup := func(id string) (string, bool) {
		if id == mlUsersID && mapped.Load() {
			return "MLUsers", true
		}
		return "", false
	}
	profile := token.Settings{Profile: token.ProfileEntra, TenantID: tenant, Audience: apiClientID, ClientIDs: []string{"bff-app"}}.Build(lookup)
	now := time.Now()
	claims := func(jti string) tokentest.Claims {
		return tokentest.Claims{"iss": iss.URL, "aud": apiClientID, "sub": "s", "oid": "user-oid", "tid": tenant, "ver": "2.0",
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "azp": "bff-app", "scp": "access", "preferred_username": "alice@example.com",
			"groups": []string{"0D3F6C1A-9B7E-4A52-8C3D-2E1F0A9B8C7D"}, "jti": jti}
	}
	v := token.NewVerifier(iss.URL, profile)
	p, err := v.Verify(context.Background(), iss.Sign(claims("1")))
	if err != nil || !p.InGroup("MLUsers") {
		t.Fatalf("mapped id: %+v, %v", p, err)
	}
	mapped.Store(false) // the policy in force no longer maps the id
	if _, err := v.Verify(context.Background(), iss.Sign(claims("2"))); !errors.Is(err, token.ErrGroups) {
		t.Errorf("unmapped id: %v, want ErrGroups", err)
	}
}

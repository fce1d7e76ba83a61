package main_test

import (
	"context"
	"slices"
	"testing"

	"connectrpc.com/connect"

	"github.com/portico-dev/portico/gen/go/portico/identity/v1/identityv1connect"
	"github.com/portico-dev/portico/services/dev/devidp"
	"github.com/portico-dev/portico/services/dev/devidp/devidptest"
)

// TestEntraProfile runs the services with PORTICO_TOKEN_PROFILE=entra against the dev IdP's
// Entra-shaped mode: people's delegated tokens with group object ids mapped by the dev
// policy's groupIds and their department from the claim PORTICO_DEPARTMENT_CLAIM names, a
// machine's application token, and the tokens that must be refused.
func TestEntraProfile(t *testing.T) {
	t.Parallel()
	idp := devidptest.Start(t, devidp.WithEntra("", ""))
	cognito := devidptest.Start(t)
	p := spawn(t, "PORTICO_ISSUER="+idp.Issuer(), "PORTICO_TOKEN_PROFILE=entra",
		"PORTICO_ENTRA_TENANT_ID="+devidp.DevTenantID, "PORTICO_ENTRA_AUDIENCE="+devidp.EntraAPIClientID,
		"PORTICO_ENTRA_SCOPE=access", "PORTICO_DEPARTMENT_CLAIM="+devidp.EntraDepartmentClaim)
	client := identityv1connect.NewIdentityServiceClient(h2cClient(), p.url(t), connect.WithGRPC())
	api := []string{"openid", "profile", "email", devidp.EntraAPIScope}
	tests := []struct {
		name     string
		token    string
		code     connect.Code
		username string
		groups   []string
		dept     string
	}{
		{"alice", idp.SignInScopes(t, "alice", "", api...).AccessToken, 0, "alice@example.com", []string{"MLUsers"}, "Research"},
		{"dana", idp.SignInScopes(t, "dana", "", api...).AccessToken, 0, "dana@example.com", []string{"Administrators", "MLUsers"}, "Platform"},
		{"machine", idp.MachineToken(t, devidp.EntraDefaultScope), 0, devidp.MachineClientID, nil, ""},
		{"token for Microsoft Graph", idp.SignInScopes(t, "alice", "", "openid", "profile").AccessToken, connect.CodeUnauthenticated, "", nil, ""},
		{"ID token as access token", idp.SignInScopes(t, "alice", "n", api...).IDToken, connect.CodeUnauthenticated, "", nil, ""},
		{"Cognito token", cognito.AccessToken(t, "alice"), connect.CodeUnauthenticated, "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			me, err := getMe(context.Background(), client, tt.token)
			if connect.CodeOf(err) != tt.code && (tt.code != 0 || err != nil) {
				t.Fatalf("err = %v, want code %v", err, tt.code)
			}
			if tt.code != 0 {
				return
			}
			pr := me.GetPrincipal()
			if pr.GetUsername() != tt.username || !slices.Equal(pr.GetGroups(), tt.groups) || pr.GetDepartment() != tt.dept {
				t.Errorf("principal %s %v %q, want %s %v %q", pr.GetUsername(), pr.GetGroups(), pr.GetDepartment(), tt.username, tt.groups, tt.dept)
			}
		})
	}
}

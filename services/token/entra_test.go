package token_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/portico-dev/portico/services/principal"
	"github.com/portico-dev/portico/services/token"
	"github.com/portico-dev/portico/services/token/tokentest"
)

const (
	tenant      = "6f1c3b9e-2d4a-4c8f-9e1b-7a5d3c2e1f00"
	otherTenant = "11111111-2222-3333-4444-555555555555"
	mlUsersID   = "0d3f6c1a-9b7e-4a52-8c3d-2e1f0a9b8c7d"
	adminsID    = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"
	apiClientID = "c0ffee00-1234-4abc-9def-000000000001"
)

func TestEntraProfile(t *testing.T) {
	t.Parallel()
	iss := tokentest.Start(t)
	profile := token.Entra{
		TenantID: tenant, Audience: apiClientID, ClientIDs: []string{"bff-app", "batch-app"}, Scope: "access",
		GroupIDs: map[string]string{mlUsersID: "MLUsers", adminsID: "Administrators"},
	}
	v := token.NewVerifier(iss.URL, profile)
	now := time.Now()
	base := func(extra tokentest.Claims) tokentest.Claims {
		c := tokentest.Claims{"iss": iss.URL, "aud": apiClientID, "sub": "pairwise-sub", "oid": "user-oid", "tid": tenant, "ver": "2.0",
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		for k, val := range extra {
			if val == nil {
				delete(c, k)
				continue
			}
			c[k] = val
		}
		return c
	}
	user := func(extra tokentest.Claims) tokentest.Claims {
		c := base(tokentest.Claims{"azp": "bff-app", "scp": "access", "preferred_username": "alice@example.com",
			"roles": []string{"Reviewers"}, "groups": []string{mlUsersID}})
		for k, val := range extra {
			if val == nil {
				delete(c, k)
				continue
			}
			c[k] = val
		}
		return c
	}
	app := base(tokentest.Claims{"azp": "batch-app", "idtyp": "app", "oid": "sp-oid", "roles": []string{"portico/inference"}})
	// An Entra ID token of the BFF app: aud is the BFF's client id, no azp, nonce.
	idToken := base(tokentest.Claims{"aud": "bff-app", "nonce": "n", "preferred_username": "alice@example.com",
		"groups": []string{mlUsersID}})
	tests := []struct {
		name   string
		claims tokentest.Claims
		want   error
		kind   principal.Kind
	}{
		{"user", user(nil), nil, principal.KindPerson},
		{"app", app, nil, principal.KindMachine},
		{"app without idtyp: sub is its oid", base(tokentest.Claims{"azp": "batch-app", "sub": "sp-oid", "oid": "sp-oid", "roles": []string{"portico/inference"}}), nil, principal.KindMachine},
		{"a person's token without scp or idtyp is not a machine's", user(tokentest.Claims{"scp": nil}), token.ErrSubject, 0},
		{"aud array", user(tokentest.Claims{"aud": []string{"x", apiClientID}}), nil, principal.KindPerson},
		{"user with several scopes", user(tokentest.Claims{"scp": "read access"}), nil, principal.KindPerson},
		// The bad input of issue 17.
		{"token from another tenant", user(tokentest.Claims{"tid": otherTenant}), token.ErrTenant, 0},
		{"no tid", user(tokentest.Claims{"tid": nil}), token.ErrTenant, 0},
		{"v1 token where v2 is configured", user(tokentest.Claims{"ver": "1.0", "appid": "bff-app", "azp": nil}), token.ErrVersion, 0},
		{"no ver", user(tokentest.Claims{"ver": nil}), token.ErrVersion, 0},
		{"ID token as access token", idToken, token.ErrAudience, 0},
		{"ID token with aud forged to the API", base(tokentest.Claims{"nonce": "n", "preferred_username": "a"}), token.ErrClientID, 0},
		{"token for another audience", user(tokentest.Claims{"aud": "00000003-0000-0000-c000-000000000000"}), token.ErrAudience, 0},
		{"no aud", user(tokentest.Claims{"aud": nil}), token.ErrAudience, 0},
		{"groups overage (_claim_names)", user(tokentest.Claims{"groups": nil,
			"_claim_names": map[string]any{"groups": "src1"}, "_claim_sources": map[string]any{"src1": map[string]any{"endpoint": "https://graph.microsoft.com/v1.0/users/x/getMemberObjects"}}}), token.ErrGroups, 0},
		{"groups overage (hasgroups)", user(tokentest.Claims{"groups": nil, "hasgroups": true}), token.ErrGroups, 0},
		{"unmapped group id", user(tokentest.Claims{"groups": []string{mlUsersID, "99999999-0000-0000-0000-000000000000"}}), token.ErrGroups, 0},
		{"group name where an id is expected", user(tokentest.Claims{"groups": []string{"Administrators"}}), token.ErrGroups, 0},
		{"delegated without the API's scope", user(tokentest.Claims{"scp": "User.Read"}), token.ErrScope, 0},
		{"unknown app", user(tokentest.Claims{"azp": "other-app"}), token.ErrClientID, 0},
		{"v1 appid instead of azp", user(tokentest.Claims{"azp": nil, "appid": "bff-app"}), token.ErrClientID, 0},
		{"no oid", user(tokentest.Claims{"oid": nil}), token.ErrSubject, 0},
		{"user type without scp", base(tokentest.Claims{"azp": "bff-app", "idtyp": "user"}), token.ErrSubject, 0},
		{"user without a name", user(tokentest.Claims{"preferred_username": nil}), token.ErrSubject, 0},
		{"user named like a machine account", user(tokentest.Claims{"preferred_username": "client:batch-app"}), token.ErrSubject, 0},
		{"app without oid", base(tokentest.Claims{"azp": "batch-app", "oid": nil, "roles": []string{"portico/inference"}}), token.ErrSubject, 0},
		{"app of another type", base(tokentest.Claims{"azp": "batch-app", "idtyp": "device"}), token.ErrSubject, 0},
		{"wrong issuer (the multi-tenant template)", user(tokentest.Claims{"iss": "https://login.microsoftonline.com/{tenantid}/v2.0"}), token.ErrIssuer, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := v.Verify(context.Background(), iss.Sign(tt.claims))
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if err == nil && p.Kind != tt.kind {
				t.Errorf("kind = %v, want %v", p.Kind, tt.kind)
			}
		})
	}
	// Without ClientIDs any calling app is accepted, but there must be one: an Entra ID token
	// (aud is the app's client id, no azp, the user's app roles in roles) must not pass as an
	// application's access token with the user's roles as its scopes.
	anyApp := token.NewVerifier(iss.URL, token.Entra{TenantID: tenant, Audience: apiClientID})
	forged := base(tokentest.Claims{"roles": []string{"portico/inference"}, "nonce": "n", "preferred_username": "alice@example.com"})
	if _, err := anyApp.Verify(context.Background(), iss.Sign(forged)); !errors.Is(err, token.ErrClientID) {
		t.Errorf("ID token without azp: err = %v, want ErrClientID", err)
	}
	if _, err := anyApp.Verify(context.Background(), iss.Sign(app)); err != nil {
		t.Errorf("app token, any app accepted: %v", err)
	}
	// A profile configured without an audience or tenant accepts nothing, not even a token
	// whose aud or tid is empty too.
	noAud := token.NewVerifier(iss.URL, token.Entra{TenantID: tenant, ClientIDs: []string{"batch-app"}})
	if _, err := noAud.Verify(context.Background(), iss.Sign(base(tokentest.Claims{"aud": "", "azp": "batch-app"}))); !errors.Is(err, token.ErrAudience) {
		t.Errorf("profile without an audience, token with aud \"\": err = %v, want ErrAudience", err)
	}
	noTenant := token.NewVerifier(iss.URL, token.Entra{Audience: apiClientID})
	if _, err := noTenant.Verify(context.Background(), iss.Sign(base(tokentest.Claims{"tid": "", "azp": "batch-app"}))); !errors.Is(err, token.ErrTenant) {
		t.Errorf("profile without a tenant, token with tid \"\": err = %v, want ErrTenant", err)
	}

	p, err := v.Verify(context.Background(), iss.Sign(user(tokentest.Claims{"groups": []string{mlUsersID, adminsID}})))
	if err != nil {
		t.Fatal(err)
	}
	if p.Username != "alice@example.com" || p.Subject != "user-oid" || !slices.Equal(p.Groups, []string{"Administrators", "MLUsers", "Reviewers"}) ||
		p.ClientID != "bff-app" || !p.HasScope("access") {
		t.Errorf("user principal = %+v", p)
	}
	m, err := v.Verify(context.Background(), iss.Sign(app))
	if err != nil {
		t.Fatal(err)
	}
	if m.Username != "batch-app" || m.Subject != "sp-oid" || !m.HasScope("portico/inference") || len(m.Groups) != 0 {
		t.Errorf("app principal = %+v", m)
	}
}

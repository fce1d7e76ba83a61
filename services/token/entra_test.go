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

func TestEntraProfile(t *testing.T) {
	t.Parallel()
	iss := tokentest.Start(t)
	v := token.NewVerifier(iss.URL, token.Entra{Audience: "api://portico", ClientIDs: []string{"bff-app", "batch-app"}})
	now := time.Now()
	base := func(extra tokentest.Claims) tokentest.Claims {
		c := tokentest.Claims{"iss": iss.URL, "aud": "api://portico", "sub": "s", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		for k, val := range extra {
			c[k] = val
		}
		return c
	}
	user := base(tokentest.Claims{"azp": "bff-app", "scp": "Portico.Use", "preferred_username": "alice@example.com",
		"roles": []string{"MLUsers"}, "groups": []string{"b2f0-guid"}})
	app := base(tokentest.Claims{"appid": "batch-app", "idtyp": "app", "roles": []string{"portico/inference"}})
	tests := []struct {
		name   string
		claims tokentest.Claims
		want   error
		kind   principal.Kind
	}{
		{"user", user, nil, principal.KindPerson},
		{"app", app, nil, principal.KindMachine},
		{"aud array", base(tokentest.Claims{"aud": []string{"x", "api://portico"}, "azp": "bff-app", "scp": "a", "preferred_username": "a"}), nil, principal.KindPerson},
		{"wrong aud", base(tokentest.Claims{"aud": "api://other", "azp": "bff-app", "scp": "a"}), token.ErrAudience, 0},
		{"no aud", base(tokentest.Claims{"aud": nil, "azp": "bff-app", "scp": "a"}), token.ErrAudience, 0},
		{"unknown app", base(tokentest.Claims{"azp": "other-app", "scp": "a"}), token.ErrClientID, 0},
		{"user type without scp", base(tokentest.Claims{"azp": "bff-app", "idtyp": "user"}), token.ErrSubject, 0},
		{"user without a name", base(tokentest.Claims{"azp": "bff-app", "scp": "a"}), token.ErrSubject, 0},
		{"user named like a machine account", base(tokentest.Claims{"azp": "bff-app", "scp": "a", "preferred_username": "client:batch-app"}), token.ErrSubject, 0},
		{"user without sub", base(tokentest.Claims{"sub": nil, "azp": "bff-app", "scp": "a", "preferred_username": "a"}), token.ErrSubject, 0},
		{"app without sub", base(tokentest.Claims{"sub": "", "appid": "batch-app", "roles": []string{"portico/inference"}}), token.ErrSubject, 0},
		{"app of another type", base(tokentest.Claims{"appid": "batch-app", "idtyp": "device"}), token.ErrSubject, 0},
		{"azp wins over appid", base(tokentest.Claims{"azp": "other-app", "appid": "batch-app", "idtyp": "app"}), token.ErrClientID, 0},
		{"app token, v1 shape", base(tokentest.Claims{"appid": "batch-app"}), nil, principal.KindMachine},
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
	// (aud is the app's client id, no azp or appid, the user's app roles in roles) must not
	// pass as an application's access token with the user's roles as its scopes.
	anyApp := token.NewVerifier(iss.URL, token.Entra{Audience: "api://portico"})
	idToken := base(tokentest.Claims{"roles": []string{"portico/inference"}, "nonce": "n", "oid": "user-oid",
		"preferred_username": "alice@example.com"})
	if _, err := anyApp.Verify(context.Background(), iss.Sign(idToken)); !errors.Is(err, token.ErrClientID) {
		t.Errorf("ID token without azp or appid: err = %v, want ErrClientID", err)
	}
	if _, err := anyApp.Verify(context.Background(), iss.Sign(app)); err != nil {
		t.Errorf("app token, any app accepted: %v", err)
	}
	// An Entra profile configured without an audience accepts nothing, not even a token whose
	// aud is empty too.
	noAud := token.NewVerifier(iss.URL, token.Entra{ClientIDs: []string{"batch-app"}})
	if _, err := noAud.Verify(context.Background(), iss.Sign(base(tokentest.Claims{"aud": "", "appid": "batch-app"}))); !errors.Is(err, token.ErrAudience) {
		t.Errorf("profile without an audience, token with aud \"\": err = %v, want ErrAudience", err)
	}
	p, err := v.Verify(context.Background(), iss.Sign(user))
	if err != nil {
		t.Fatal(err)
	}
	if p.Username != "alice@example.com" || !slices.Equal(p.Groups, []string{"MLUsers", "b2f0-guid"}) || p.ClientID != "bff-app" {
		t.Errorf("user principal = %+v", p)
	}
	m, err := v.Verify(context.Background(), iss.Sign(app))
	if err != nil {
		t.Fatal(err)
	}
	if m.Username != "batch-app" || !m.HasScope("portico/inference") || len(m.Groups) != 0 {
		t.Errorf("app principal = %+v", m)
	}
}

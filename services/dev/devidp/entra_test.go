package devidp_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/portico-dev/portico/services/dev/devidp"
	"github.com/portico-dev/portico/services/dev/devidp/devidptest"
)

func TestEntraShapedDiscovery(t *testing.T) {
	t.Parallel()
	idp := devidptest.Start(t, devidp.WithEntra("", ""))
	base := strings.TrimSuffix(idp.Issuer(), "/"+devidp.DevTenantID+"/v2.0")
	if idp.Issuer() == base {
		t.Fatalf("issuer %q has no tenant path", idp.Issuer())
	}
	c := idp.HTTPClient()
	tenant := get(t, c, idp.Issuer()+"/.well-known/openid-configuration", nil)
	if tenant.status != http.StatusOK || tenant.json["issuer"] != idp.Issuer() || tenant.json["end_session_endpoint"] != idp.Issuer()+"/oauth2/logout" ||
		tenant.json["revocation_endpoint"] != nil {
		t.Fatalf("tenant discovery %d %v", tenant.status, tenant.json)
	}
	for _, alias := range []string{"common", "organizations"} {
		d := get(t, c, base+"/"+alias+"/v2.0/.well-known/openid-configuration", nil)
		if d.status != http.StatusOK || d.json["issuer"] != base+"/{tenantid}/v2.0" || d.json["token_endpoint"] != idp.Issuer()+"/oauth2/token" {
			t.Fatalf("%s discovery %d %v", alias, d.status, d.json)
		}
	}
	for _, path := range []string{
		"/common/v2.0/oauth2/token",         // the aliases serve discovery only
		"/.well-known/openid-configuration", // nothing outside the tenant
		"/consumers/v2.0/.well-known/openid-configuration",
		"/logout", // Cognito's logout is gone
		"/" + devidp.DevTenantID + "/v2.0/logout",
	} {
		if r := get(t, c, base+path, nil); r.status != http.StatusNotFound && r.status != http.StatusMethodNotAllowed {
			t.Errorf("%s: %d, want 404", path, r.status)
		}
	}
}

func TestEntraShapedTokens(t *testing.T) {
	t.Parallel()
	idp := devidptest.Start(t, devidp.WithEntra("", ""))
	api := idp.SignInScopes(t, "dana", "n1", "openid", "profile", "email", devidp.ScopeOfflineAccess, devidp.EntraAPIScope)
	at := claimsOf(t, api.AccessToken)
	for k, want := range map[string]any{"aud": devidp.EntraAPIClientID, "scp": "access", "tid": devidp.DevTenantID, "ver": "2.0",
		"azp": devidp.WebClientID, "preferred_username": "dana@example.com", "iss": idp.Issuer(), devidp.EntraDepartmentClaim: "Platform"} {
		if at[k] != want {
			t.Errorf("access token %s = %v, want %v", k, at[k], want)
		}
	}
	for _, k := range []string{"token_use", "client_id", "cognito:groups", "username"} {
		if _, ok := at[k]; ok {
			t.Errorf("access token has Cognito's %s", k)
		}
	}
	groups, _ := at["groups"].([]any)
	if len(groups) != 2 || !slices.Contains(groups, any(devidp.GroupObjectID("Administrators"))) {
		t.Errorf("groups %v, want object ids", groups)
	}
	user, _ := idp.Server().User("dana")
	if at["oid"] != user.Subject || at["sub"] == user.Subject {
		t.Errorf("oid %v sub %v: want oid the user's id and sub pairwise", at["oid"], at["sub"])
	}
	id := claimsOf(t, api.IDToken)
	if id["aud"] != devidp.WebClientID || id["nonce"] != "n1" || id["oid"] != user.Subject || id["token_use"] != nil {
		t.Errorf("ID token %v", id)
	}
	if api.RefreshToken == "" {
		t.Fatal("no refresh token for offline_access")
	}
	// Entra rotates refresh tokens.
	next := idp.Refresh(t, api.RefreshToken)
	if next.RefreshToken == "" || next.RefreshToken == api.RefreshToken || next.AccessToken == api.AccessToken {
		t.Error("refresh did not rotate the refresh token")
	}
	// Without offline_access: no refresh token; without the API's scope: a token for Graph.
	graph := idp.SignInScopes(t, "alice", "", "openid", "profile")
	if graph.RefreshToken != "" || claimsOf(t, graph.AccessToken)["aud"] != devidp.GraphAudience {
		t.Errorf("sign-in without offline_access or the API scope: refresh %q, aud %v", graph.RefreshToken, claimsOf(t, graph.AccessToken)["aud"])
	}
	// Userinfo takes Graph tokens only, as Entra's.
	c := idp.HTTPClient()
	bearer := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }
	if r := get(t, c, idp.Issuer()+"/oauth2/userInfo", bearer(graph.AccessToken)); r.status != http.StatusOK || r.json["email"] != "alice@example.com" {
		t.Errorf("userinfo with a Graph token: %d %v", r.status, r.json)
	}
	if r := get(t, c, idp.Issuer()+"/oauth2/userInfo", bearer(api.AccessToken)); r.status != http.StatusUnauthorized {
		t.Errorf("userinfo with the API's token: %d", r.status)
	}
	// Machine clients: <audience>/.default only, their app roles in roles.
	m := claimsOf(t, idp.MachineToken(t, devidp.EntraDefaultScope))
	roles, _ := m["roles"].([]any)
	if m["idtyp"] != "app" || m["azp"] != devidp.MachineClientID || len(roles) != 2 || m["scp"] != nil || m["aud"] != devidp.EntraAPIClientID {
		t.Errorf("machine token %v", m)
	}
	if r := postForm(t, c, idp.Issuer()+"/oauth2/token", devidp.MachineClientID, devidp.MachineClientSecret,
		url.Values{"grant_type": {"client_credentials"}, "scope": {devidp.ScopeInference}}); r.status != http.StatusBadRequest || r.json["error"] != "invalid_scope" {
		t.Errorf("client credentials without .default: %d %v", r.status, r.json)
	}
}

func TestEntraShapedEndSession(t *testing.T) {
	t.Parallel()
	idp := devidptest.Start(t, devidp.WithEntra("", ""), devidp.WithLogoutURIs("http://app.example/auth/signed-out"))
	cognito := devidptest.Start(t)
	tokens := idp.SignInScopes(t, "alice", "n", "openid", devidp.EntraAPIScope)
	c := idp.HTTPClient()
	end := func(q url.Values) response { return get(t, c, idp.Issuer()+"/oauth2/logout?"+q.Encode(), nil) }
	const back = "http://app.example/auth/signed-out"
	ok := end(url.Values{"id_token_hint": {tokens.IDToken}, "post_logout_redirect_uri": {back}, "state": {"s1"}, "client_id": {devidp.WebClientID}})
	if ok.status != http.StatusFound || ok.header.Get("Location") != back+"?state=s1" {
		t.Fatalf("end session: %d %q", ok.status, ok.header.Get("Location"))
	}
	for _, tc := range []struct {
		name string
		q    url.Values
	}{
		{"unregistered post_logout_redirect_uri", url.Values{"client_id": {devidp.WebClientID}, "post_logout_redirect_uri": {"https://evil.example/"}}},
		{"unknown client", url.Values{"client_id": {"nobody"}, "post_logout_redirect_uri": {back}}},
		{"hint of another provider", url.Values{"id_token_hint": {cognito.IDToken(t, "alice", "n")}, "post_logout_redirect_uri": {back}}},
		{"access token as hint", url.Values{"id_token_hint": {tokens.AccessToken}, "post_logout_redirect_uri": {back}}},
		{"hint for another client than client_id", url.Values{"id_token_hint": {tokens.IDToken}, "client_id": {devidp.MachineClientID}, "post_logout_redirect_uri": {back}}},
		{"no client at all", url.Values{"post_logout_redirect_uri": {back}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if r := end(tc.q); r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
				t.Fatalf("%d %q", r.status, r.header.Get("Location"))
			}
		})
	}
}

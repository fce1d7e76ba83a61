package devidp_test

import (
	"net/url"
	"testing"

	"github.com/portico-dev/portico/services/dev/devidp"
	"github.com/portico-dev/portico/services/dev/devidp/devidptest"
)

func BenchmarkSignClaims(b *testing.B) {
	idp := devidptest.Start(b)
	claims := map[string]any{"sub": "s", "token_use": "access", "scope": "openid email profile"}
	for b.Loop() {
		if _, err := idp.Server().SignClaims(claims); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkClientCredentials(b *testing.B) {
	idp := devidptest.Start(b)
	for b.Loop() {
		idp.MachineToken(b)
	}
}

// BenchmarkSignIn measures a whole sign-in: authorize, login form, code exchange.
func BenchmarkSignIn(b *testing.B) {
	idp := devidptest.Start(b)
	for b.Loop() {
		idp.SignIn(b, "alice", "n")
	}
}

func BenchmarkRefresh(b *testing.B) {
	idp := devidptest.Start(b)
	refresh := idp.SignIn(b, "alice", "").RefreshToken
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}
	for b.Loop() {
		if r := postForm(b, idp.HTTPClient(), idp.Issuer()+"/oauth2/token", devidp.WebClientID, devidp.WebClientSecret, form); r.status != 200 {
			b.Fatal(r.status)
		}
	}
}

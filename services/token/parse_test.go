package token_test

import (
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/portico-dev/portico/services/token"
)

// TestParse checks Parse on its own, reason by reason: several of its checks are also made by
// Verify or by the strict decoder, so only the reason (which the logs show) tells them apart.
func TestParse(t *testing.T) {
	t.Parallel()
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	hdr := enc(`{"alg":"RS256","kid":"k"}`)
	tests := []struct {
		name   string
		raw    string
		want   error
		reason string
	}{
		{"empty", "", token.ErrMissing, "missing"},
		{"huge", strings.Repeat("A", token.MaxTokenSize+1), token.ErrMalformed, "over the 8192 byte limit"},
		{"at the size limit", strings.Repeat("A", token.MaxTokenSize), token.ErrMalformed, "not a compact JWS"},
		{"byte outside base64url", hdr + ".e30.c2l+", token.ErrMalformed, "byte 42 is not base64url"},
		{"carriage return", hdr + ".e30\r.c2ln", token.ErrMalformed, "is not base64url"},
		{"no dot", hdr, token.ErrMalformed, "not a compact JWS"},
		{"one dot", hdr + ".e30", token.ErrMalformed, "not a compact JWS"},
		{"three dots", hdr + ".e30.c2ln.c2ln", token.ErrMalformed, "not a compact JWS"},
		{"four dots", hdr + ".e30.c2ln.e30.c2ln", token.ErrMalformed, "not a compact JWS"},
		{"header not base64", "A.e30.c2ln", token.ErrMalformed, "header: illegal base64"},
		{"header not JSON", enc("RS256") + ".e30.c2ln", token.ErrMalformed, "header: invalid character"},
		{"crit empty", enc(`{"alg":"RS256","crit":[]}`) + ".e30.c2ln", token.ErrMalformed, "header: crit [] is not"},
		{"crit null", enc(`{"alg":"RS256","crit":null}`) + ".e30.c2ln", token.ErrMalformed, "header: crit null is not"},
		{"crit an object", enc(`{"alg":"RS256","crit":{"b64":1}}`) + ".e30.c2ln", token.ErrMalformed, "header: crit {"},
		{"payload not base64", hdr + ".A.c2ln", token.ErrMalformed, "payload: illegal base64"},
		{"signature not base64", hdr + ".e30.A", token.ErrMalformed, "signature: illegal base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			jwt, err := token.Parse(tt.raw)
			if jwt != nil || !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("Parse = %v, %v; want %v with %q", jwt, err, tt.want, tt.reason)
			}
		})
	}

	raw := enc(`{"alg":"RS256","kid":"k-1","typ":"JWT","crit":["x"]}`) + "." + enc(`{"sub":"s"}`) + "." + enc("sig")
	jwt, err := token.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if jwt.Header.Alg != "RS256" || jwt.Header.Kid != "k-1" || jwt.Header.Typ != "JWT" || !slices.Equal(jwt.Header.Crit, []string{"x"}) ||
		string(jwt.Payload) != `{"sub":"s"}` || string(jwt.Signature) != "sig" || jwt.SigningInput != raw[:strings.LastIndexByte(raw, '.')] {
		t.Fatalf("Parse = %+v", jwt)
	}
}

package token_test

import (
	"strings"
	"testing"

	"github.com/portico-dev/portico/services/token"
)

// FuzzParse feeds arbitrary strings to the token parser and the claims decoder: they must
// never panic, and a parsed token's signing input must be the raw token's first two parts.
// The seed corpus is in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln")
	f.Add("eyJhbGciOiJub25lIn0.eyJleHAiOjF9.")
	f.Add("..")
	f.Fuzz(func(t *testing.T, raw string) {
		jwt, err := token.Parse(raw)
		if err != nil {
			if jwt != nil {
				t.Fatal("Parse returned a token with an error")
			}
			return
		}
		if !strings.HasPrefix(raw, jwt.SigningInput+".") || strings.Count(raw, ".") != 2 {
			t.Fatalf("signing input %q does not prefix %q", jwt.SigningInput, raw)
		}
		c, err := token.ParseClaims(jwt.Payload)
		if err == nil && c == nil {
			t.Fatal("ParseClaims returned neither claims nor error")
		}
	})
}

package faults_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/portico-dev/portico/services/testing/bench"
)

type benchBrowser = bench.Browser

func newBenchBrowser(origin string) *benchBrowser {
	return bench.NewBrowser(origin, http.DefaultTransport.(*http.Transport).Clone())
}

// kidOf returns the kid of a JWT's header.
func kidOf(t *testing.T, jwt string) string {
	t.Helper()
	head, _, _ := strings.Cut(jwt, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h.Kid
}

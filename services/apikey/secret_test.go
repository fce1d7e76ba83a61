package apikey_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/portico-dev/portico/services/apikey"
)

func TestSecret(t *testing.T) {
	t.Parallel()
	a, err := apikey.NewSecret(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := apikey.NewSecret(nil)
	if a == b || apikey.SecretLen != 59 || len(a) != 59 || !strings.HasPrefix(a, "portico_sk_") || apikey.Check(a) != nil {
		t.Fatalf("secrets %q %q", a, b)
	}
	if h := apikey.Hash(a); len(h) != 64 || h == apikey.Hash(b) || strings.Contains(h, a[11:]) {
		t.Errorf("hash %q", h)
	}
	if p := apikey.DisplayPrefix(a); len(p) != 17 || !strings.HasPrefix(a, p) {
		t.Errorf("prefix %q", p)
	}
	fixed, _ := apikey.NewSecret(bytes.NewReader(make([]byte, 32)))
	if fixed != "portico_sk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAACKkTaq" {
		t.Errorf("zero secret = %q (the format changed)", fixed)
	}
	if _, err := apikey.NewSecret(bytes.NewReader(make([]byte, 5))); err == nil {
		t.Error("short randomness accepted")
	}
	flip := []byte(a)
	flip[20] ^= 1 // still base64url, checksum wrong
	if flip[20] == '-' || flip[20] == '_' {
		flip[20] = 'A'
	}
	for name, s := range map[string]string{
		"empty":          "",
		"prefix only":    "portico_sk_",
		"short":          a[:len(a)-1],
		"long":           a + "A",
		"other prefix":   "portico_pk_" + a[11:],
		"checksum wrong": string(flip),
		"not base64url":  a[:20] + "+" + a[21:],
		"padding":        a[:len(a)-1] + "=",
		"a JWT":          "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln",
	} {
		if apikey.Check(s) == nil {
			t.Errorf("%s: %q passes Check", name, s)
		}
	}
}

package config

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFromEnvDefaults(t *testing.T) {
	t.Parallel()
	c, err := FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != DefaultAddr || c.PublicURL != DefaultPublicURL || c.Issuer != DefaultIssuer || c.ClientID != DefaultClientID ||
		c.ClientSecret != DefaultSecret || c.ServicesURL.String() != DefaultServicesURL || c.SPADir != DefaultSPADir ||
		!c.CookieKeysGenerated || len(c.CookieKeys) != 1 || c.SessionStore != "cookie" || c.HTTPS() {
		t.Fatalf("defaults = %+v", c)
	}
}

func TestFromEnvRefuses(t *testing.T) {
	t.Parallel()
	tests := map[string]map[string]string{
		"public URL with path":  {EnvPublicURL: "https://x.example/app"},
		"public URL no scheme":  {EnvPublicURL: "x.example"},
		"services URL ftp":      {EnvServicesURL: "ftp://x"},
		"bad cookie keys":       {EnvCookieKeys: "k1:short"},
		"duplicate cookie keys": {EnvCookieKeys: "a:" + strings.Repeat("A", 43) + ",a:" + strings.Repeat("B", 43)},
		"bad store":             {EnvSessionStore: "redis"},
		"bad duration":          {EnvSessionIdleTimeout: "soon"},
		"bad body limit":        {EnvAPIMaxBodyBytes: "-1"},
	}
	for name, m := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := FromEnv(env(m)); err == nil {
				t.Fatal("FromEnv accepted it")
			}
		})
	}
}

func TestResolveSecretARN(t *testing.T) {
	t.Parallel()
	c, err := FromEnv(env(map[string]string{EnvClientSecretARN: "arn:aws:secretsmanager:us-east-1:1:secret:bff", EnvPublicURL: "https://p.example/"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.ClientSecret != "" || !c.HTTPS() || c.PublicURL != "https://p.example" {
		t.Fatalf("config = %+v", c)
	}
	fetch := func(_ context.Context, arn string) (string, error) {
		if arn != c.ClientSecretARN {
			return "", errors.New("wrong arn")
		}
		return " s3cret\n", nil
	}
	if err := c.Resolve(t.Context(), fetch); err != nil || c.ClientSecret != "s3cret" {
		t.Fatalf("Resolve: %v, secret %q", err, c.ClientSecret)
	}
	empty := &Config{ClientSecretARN: "arn:x"}
	if err := empty.Resolve(t.Context(), func(context.Context, string) (string, error) { return "", nil }); err == nil {
		t.Fatal("Resolve accepted an empty secret")
	}
}

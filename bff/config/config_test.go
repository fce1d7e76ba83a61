package config

import (
	"context"
	"encoding/base64"
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
		"sqlite without path":   {EnvSessionStore: "sqlite:"},
		"dynamodb no table":     {EnvSessionStore: "dynamodb:"},
		"memory with argument":  {EnvSessionStore: "memory:x"},
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

func TestResolveCookieKeysARN(t *testing.T) {
	t.Parallel()
	const arn = "arn:aws:secretsmanager:us-east-1:1:secret:cookie-keys"
	key := base64.StdEncoding.EncodeToString(make([]byte, 32))
	tests := []struct {
		name    string
		secret  string
		wantErr bool
	}{
		{"one key", "k1:" + key + "\n", false},
		{"rotation", "k2:" + key + ",k1:" + key, false},
		{"empty", "", true},
		{"short key", "k1:" + base64.StdEncoding.EncodeToString(make([]byte, 16)), true},
		{"not a key list", "placeholder", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := FromEnv(env(map[string]string{EnvCookieKeysARN: arn}))
			if err != nil {
				t.Fatal(err)
			}
			if c.CookieKeysGenerated || len(c.CookieKeys) != 0 || !c.NeedsSecrets() {
				t.Fatalf("keys generated although an ARN is set: %+v", c)
			}
			err = c.Resolve(t.Context(), func(_ context.Context, got string) (string, error) {
				if got != arn {
					return "", errors.New("wrong arn")
				}
				return tt.secret, nil
			})
			if (err != nil) != tt.wantErr {
				t.Fatalf("Resolve: %v, want error %v", err, tt.wantErr)
			}
			if err == nil && (len(c.CookieKeys) == 0 || c.NeedsSecrets()) {
				t.Fatalf("keys not resolved: %+v", c.CookieKeys)
			}
			if err != nil && strings.Contains(err.Error(), key) {
				t.Fatal("the error echoes the secret")
			}
		})
	}
}

func TestFromEnvSessionStores(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"cookie", "memory", "sqlite:.data/bff-sessions.db", "dynamodb:portico-sessions"} {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			c, err := FromEnv(env(map[string]string{EnvSessionStore: v}))
			if err != nil {
				t.Fatal(err)
			}
			if c.SessionStore != v {
				t.Fatalf("SessionStore = %q, want %q", c.SessionStore, v)
			}
		})
	}
}

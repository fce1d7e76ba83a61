package config

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/portico-dev/portico/services/platform/logs"
	"github.com/portico-dev/portico/services/platform/runmode"
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
		"public URL with path":                 {EnvPublicURL: "https://x.example/app"},
		"public URL no scheme":                 {EnvPublicURL: "x.example"},
		"services URL ftp":                     {EnvServicesURL: "ftp://x"},
		"bad cookie keys":                      {EnvCookieKeys: "k1:short"},
		"duplicate cookie keys":                {EnvCookieKeys: "a:" + strings.Repeat("A", 43) + ",a:" + strings.Repeat("B", 43)},
		"bad store":                            {EnvSessionStore: "redis"},
		"sqlite without path":                  {EnvSessionStore: "sqlite:"},
		"dynamodb no table":                    {EnvSessionStore: "dynamodb:"},
		"memory with argument":                 {EnvSessionStore: "memory:x"},
		"bad duration":                         {EnvSessionIdleTimeout: "soon"},
		"bad body limit":                       {EnvAPIMaxBodyBytes: "-1"},
		"scopes without openid":                {EnvScopes: "email profile offline_access"},
		"break-glass without the Cognito hint": {EnvBreakGlassGroup: "Administrators"},
		"tenant not a GUID":                    {EnvAllowedTenants: "contoso.onmicrosoft.com"},
		"tenant list with a template":          {EnvAllowedTenants: "{tenantid}"},
		"issuer template":                      {EnvIssuer: "https://login.microsoftonline.com/{tenantid}/v2.0"},
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

// prodEnv is a complete production environment.
func prodEnv() map[string]string {
	return map[string]string{
		EnvMode:         "production",
		EnvPublicURL:    "https://portico.example.com",
		EnvIssuer:       "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc",
		EnvClientID:     "web123",
		EnvClientSecret: "s3cret",
		EnvCookieKeys:   "k1:" + base64.StdEncoding.EncodeToString(make([]byte, 32)),
		EnvServicesURL:  "https://api.example.com/prod",
	}
}

// TestProductionRefusesDevDefaults: in production (PORTICO_ENV=production, or on Lambda) no
// dev default is used, and one error names every missing variable.
func TestProductionRefusesDevDefaults(t *testing.T) {
	t.Parallel()
	all := []string{EnvPublicURL, EnvIssuer, EnvClientID, EnvClientSecret + " or " + EnvClientSecretARN,
		EnvServicesURL, EnvCookieKeys + " or " + EnvCookieKeysARN}
	with := func(kv ...string) map[string]string {
		m := prodEnv()
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(m, kv[i])
			} else {
				m[kv[i]] = kv[i+1]
			}
		}
		return m
	}
	tests := []struct {
		name    string
		env     map[string]string
		missing []string // nil: starts
	}{
		{"complete production", prodEnv(), nil},
		{"complete on Lambda", with(EnvMode, "", EnvRuntimeAPI, "127.0.0.1:9001"), nil},
		{"secrets by ARN", with(EnvClientSecret, "", EnvClientSecretARN, "arn:aws:secretsmanager:x", EnvCookieKeys, "", EnvCookieKeysARN, "arn:aws:secretsmanager:y"), nil},
		{"nothing in production", map[string]string{EnvMode: "production"}, all},
		{"nothing on Lambda", map[string]string{EnvRuntimeAPI: "127.0.0.1:9001"}, all},
		{"Lambda overrides development", map[string]string{EnvRuntimeAPI: "127.0.0.1:9001", EnvMode: "development"}, all},
		{"without public URL", with(EnvPublicURL, ""), []string{EnvPublicURL}},
		{"without issuer", with(EnvIssuer, ""), []string{EnvIssuer}},
		{"without client id", with(EnvClientID, ""), []string{EnvClientID}},
		{"without client secret", with(EnvClientSecret, ""), []string{EnvClientSecret + " or " + EnvClientSecretARN}},
		{"without services URL", with(EnvServicesURL, ""), []string{EnvServicesURL}},
		{"without cookie keys", with(EnvCookieKeys, ""), []string{EnvCookieKeys + " or " + EnvCookieKeysARN}},
		{"blank counts as unset", with(EnvIssuer, "   "), []string{EnvIssuer}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := FromEnv(env(tt.env))
			if tt.missing == nil {
				if err != nil {
					t.Fatal(err)
				}
				if !c.Mode.Production() || c.CookieKeysGenerated || c.Issuer != tt.env[EnvIssuer] || c.ClientID != "web123" ||
					c.PublicURL != "https://portico.example.com" || c.ServicesURL.String() != "https://api.example.com/prod" {
					t.Errorf("config = %+v", c)
				}
				return
			}
			var missing *runmode.MissingError
			if !errors.As(err, &missing) || !slices.Equal(missing.Variables, tt.missing) {
				t.Fatalf("FromEnv = %v, want missing %v", err, tt.missing)
			}
			for _, v := range tt.missing {
				if !strings.Contains(err.Error(), v) {
					t.Errorf("error %q does not name %s", err, v)
				}
			}
		})
	}
}

// TestModeAndLogFormat: development keeps the dev defaults; the log format follows the one
// rule; a bad PORTICO_ENV, event or format is refused.
func TestModeAndLogFormat(t *testing.T) {
	t.Parallel()
	c, err := FromEnv(env(nil))
	if err != nil || c.Mode != runmode.Development || c.LogFormat != logs.Text || c.Lambda.OnLambda() {
		t.Fatalf("development: %+v, %v", c, err)
	}
	p := prodEnv()
	p[EnvRuntimeAPI] = "127.0.0.1:9001"
	if c, err := FromEnv(env(p)); err != nil || c.LogFormat != logs.JSON || !c.Lambda.OnLambda() {
		t.Errorf("on Lambda: %+v, %v", c, err)
	}
	for _, bad := range []map[string]string{{EnvMode: "prod"}, {EnvLogFormat: "xml"}, {EnvLambdaEvent: "alb"}} {
		if _, err := FromEnv(env(bad)); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// TestCookieKeyErrorsKeepSecrets: a bad PORTICO_COOKIE_KEYS (such as the first rotation's
// "new,placeholder") is refused without its value in the error.
func TestCookieKeyErrorsKeepSecrets(t *testing.T) {
	t.Parallel()
	const placeholder = "Q7bX2mPz9LkR4tVw8NcY1sHj6GdF3eAu" // what Secrets Manager generated
	good := "k202612061000:" + base64.StdEncoding.EncodeToString(make([]byte, 32))
	for _, v := range []string{good + "," + placeholder, placeholder, "k1:" + placeholder} {
		_, err := FromEnv(env(map[string]string{EnvCookieKeys: v}))
		if err == nil || strings.Contains(err.Error(), placeholder) || !strings.Contains(err.Error(), EnvCookieKeys) {
			t.Errorf("%s=…: %v", EnvCookieKeys, err)
		}
	}
}

func TestFromEnvSignInSettings(t *testing.T) {
	t.Parallel()
	const tenant = "6f1c3b9e-2d4a-4c8f-9e1b-7a5d3c2e1f00"
	for _, tc := range []struct {
		name       string
		env        map[string]string
		scopes     []string
		breakGlass string
		tenants    []string
	}{
		{"defaults", nil, []string{"openid", "email", "profile"}, "", nil},
		{"Entra scopes, spaces", map[string]string{EnvScopes: "openid email profile offline_access api://portico/access"},
			[]string{"openid", "email", "profile", "offline_access", "api://portico/access"}, "", nil},
		{"commas and spaces", map[string]string{EnvScopes: " openid, profile ,offline_access"},
			[]string{"openid", "profile", "offline_access"}, "", nil},
		{"break-glass with the hint", map[string]string{EnvIdentityProvider: "EntraID", EnvBreakGlassGroup: "Administrators"},
			[]string{"openid", "email", "profile"}, "Administrators", nil},
		{"tenants", map[string]string{EnvIssuer: "https://login.microsoftonline.com/common/v2.0", EnvAllowedTenants: tenant + ", " + strings.ToUpper(tenant)},
			[]string{"openid", "email", "profile"}, "", []string{tenant, strings.ToUpper(tenant)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := FromEnv(env(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.Scopes, tc.scopes) || c.BreakGlassGroup != tc.breakGlass || !slices.Equal(c.AllowedTenants, tc.tenants) {
				t.Fatalf("scopes %q, break-glass %q, tenants %q", c.Scopes, c.BreakGlassGroup, c.AllowedTenants)
			}
		})
	}
}

func TestFromEnvReportsSignInProblemsTogether(t *testing.T) {
	t.Parallel()
	_, err := FromEnv(env(map[string]string{EnvScopes: "email", EnvBreakGlassGroup: "Administrators", EnvAllowedTenants: "x"}))
	for _, name := range []string{EnvScopes, EnvBreakGlassGroup, EnvAllowedTenants} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error %v does not name %s", err, name)
		}
	}
}

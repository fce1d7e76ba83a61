package main

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/portico-dev/portico/services/platform/gcpace"
	"github.com/portico-dev/portico/services/platform/lambdahttp"
	"github.com/portico-dev/portico/services/platform/logs"
	"github.com/portico-dev/portico/services/platform/runmode"
	"github.com/portico-dev/portico/services/platform/telemetry"
)

// prodEnv is a complete production environment.
func prodEnv() map[string]string {
	return map[string]string{
		EnvMode:              "production",
		EnvIssuer:            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc",
		EnvClientIDs:         "web123,machine456",
		EnvBFFClientIDs:      "web123",
		EnvPolicyFile:        "/var/task/policy.yaml",
		EnvStore:             "dynamodb:portico-ledger",
		EnvAttachmentStore:   "s3:portico-attachments",
		EnvConversationStore: "dynamodb:portico-conversations",
		EnvKeyStore:          "dynamodb:portico-keys",
	}
}

func getenvOf(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// TestProductionRefusesDevDefaults: in production (PORTICO_ENV=production or on Lambda) every
// setting with a dev default must be explicit, and the one error names each one missing.
func TestProductionRefusesDevDefaults(t *testing.T) {
	t.Parallel()
	required := []string{EnvIssuer, EnvClientIDs, EnvPolicyFile, EnvStore, EnvAttachmentStore, EnvConversationStore}
	tests := []struct {
		name    string
		env     map[string]string
		missing []string // nil: starts
	}{
		{"complete production starts", prodEnv(), nil},
		{"complete on Lambda starts", with(prodEnv(), EnvMode, "", EnvRuntimeAPI, "127.0.0.1:9001"), nil},
		{"nothing set in production", map[string]string{EnvMode: "production"}, required},
		{"nothing set on Lambda", map[string]string{EnvRuntimeAPI: "127.0.0.1:9001"}, required},
		{"Lambda overrides PORTICO_ENV=development", map[string]string{EnvMode: "development", EnvRuntimeAPI: "127.0.0.1:9001"}, required},
		{"identity alone needs the store that holds the policy", map[string]string{EnvMode: "production", EnvService: "identity"}, []string{EnvIssuer, EnvClientIDs, EnvPolicyFile, EnvStore}},
		{"identity alone needs no store in file mode", map[string]string{EnvMode: "production", EnvService: "identity", EnvPolicyMode: "file"}, []string{EnvIssuer, EnvClientIDs, EnvPolicyFile}},
		{"admin alone needs no attachment or conversation store", map[string]string{EnvMode: "production", EnvService: "admin"}, []string{EnvIssuer, EnvClientIDs, EnvPolicyFile, EnvStore}},
		{"blank counts as unset", with(prodEnv(), EnvIssuer, "  "), []string{EnvIssuer}},
	}
	for _, name := range required {
		tests = append(tests, struct {
			name    string
			env     map[string]string
			missing []string
		}{"without " + name, with(prodEnv(), name, ""), []string{name}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := fromEnv(getenvOf(tt.env))
			if tt.missing == nil {
				if err != nil {
					t.Fatalf("fromEnv: %v", err)
				}
				if !c.mode.Production() || c.issuer != tt.env[EnvIssuer] || c.policyFile != tt.env[EnvPolicyFile] || c.store != tt.env[EnvStore] || c.attachmentStore != tt.env[EnvAttachmentStore] ||
					!slices.Equal(c.clientIDs, []string{"web123", "machine456"}) || !slices.Equal(c.bffClientIDs, []string{"web123"}) {
					t.Errorf("config = %+v", c)
				}
				return
			}
			var missing *runmode.MissingError
			if !errors.As(err, &missing) {
				t.Fatalf("fromEnv = %v, want a *runmode.MissingError", err)
			}
			if !slices.Equal(missing.Variables, tt.missing) {
				t.Errorf("missing %v, want %v", missing.Variables, tt.missing)
			}
			for _, v := range tt.missing {
				if !strings.Contains(err.Error(), v) {
					t.Errorf("error %q does not name %s", err, v)
				}
			}
		})
	}
}

// TestProductionTrustsNoBFFByDefault: PORTICO_BFF_CLIENT_IDS defaults to portico-web only in
// development; production trusts nobody unless configured, and warns.
func TestProductionTrustsNoBFFByDefault(t *testing.T) {
	t.Parallel()
	dev, err := fromEnv(getenvOf(nil))
	if err != nil || !slices.Equal(dev.bffClientIDs, []string{"portico-web"}) || len(dev.warnings()) != 0 {
		t.Errorf("development: %v, %v, warnings %v", dev, err, dev.warnings())
	}
	prod, err := fromEnv(getenvOf(with(prodEnv(), EnvBFFClientIDs, "")))
	if err != nil {
		t.Fatal(err)
	}
	if len(prod.bffClientIDs) != 0 {
		t.Errorf("production trusts %v with nothing configured", prod.bffClientIDs)
	}
	if w := prod.warnings(); len(w) != 2 || !strings.Contains(w[0], EnvBFFClientIDs) || !strings.Contains(w[1], EnvAccountID) {
		t.Errorf("warnings %v", w)
	}
	list, err := fromEnv(getenvOf(with(prodEnv(), EnvBFFClientIDs, " a, ,b ")))
	if err != nil || !slices.Equal(list.bffClientIDs, []string{"a", "b"}) {
		t.Errorf("list: %v, %v", list, err)
	}
}

// TestDevelopmentDefaults: without PORTICO_ENV and off Lambda, today's dev defaults apply.
func TestDevelopmentDefaults(t *testing.T) {
	t.Parallel()
	c, err := fromEnv(getenvOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.mode != runmode.Development || c.addr != "localhost:8081" || c.issuer != "http://localhost:9000" ||
		!slices.Equal(c.clientIDs, []string{"portico-web", "portico-machine"}) || c.policyFile != "" ||
		c.store != "sqlite:.data/portico.db" || c.attachmentStore != "dir:.data/attachments" || !slices.Equal(c.services, allServices) ||
		c.keyStore != "sqlite:.data/keys.db" || c.publicAPIURL != "http://localhost:8081/v1" ||
		c.logFormat != logs.Text || c.lambda.OnLambda() || c.lambda.Event != lambdahttp.EventFunctionURL ||
		c.export.Endpoint != "" || c.lambdaFunction != "" {
		t.Errorf("defaults = %+v", c)
	}
	explicit := map[string]string{EnvMode: "development", EnvIssuer: "http://idp:9000", EnvAddr: "0.0.0.0:1",
		EnvLogFormat: "json", EnvLambdaFunction: "fn", telemetry.OTLPEndpointEnv: "http://otel:4318"}
	c, err = fromEnv(getenvOf(explicit))
	if err != nil || c.issuer != "http://idp:9000" || c.addr != "0.0.0.0:1" || c.logFormat != logs.JSON ||
		c.lambdaFunction != "fn" || c.export.Endpoint != "http://otel:4318" {
		t.Errorf("explicit = %+v, %v", c, err)
	}
}

// TestConfigReportsEveryProblem: bad values are all named in one error, with the missing
// production settings first.
func TestConfigReportsEveryProblem(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		EnvMode: "production", EnvService: "billing", EnvLambdaEvent: "alb", EnvLogFormat: "xml",
		EnvClientIDs: " , ", telemetry.OTLPTimeoutEnv: "soon",
	}
	_, err := fromEnv(getenvOf(env))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{EnvIssuer, EnvPolicyFile, EnvService, "billing", EnvLambdaEvent, EnvLogFormat, EnvClientIDs + " names no client", telemetry.OTLPTimeoutEnv} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	tests := []struct {
		name, key, value, want string
	}{
		{"unknown mode", EnvMode, "staging", EnvMode},
		{"store kind", EnvStore, "postgres:x", EnvStore},
		{"store without argument", EnvStore, "sqlite:", EnvStore},
		{"attachment store kind", EnvAttachmentStore, "sqlite:x", EnvAttachmentStore},
		{"attachment store without argument", EnvAttachmentStore, "dir:", EnvAttachmentStore},
		{"attachment bucket not a bucket name", EnvAttachmentStore, "s3:Bucket/prefix", EnvAttachmentStore},
		{"service list empty", EnvService, ",", EnvService},
		{"unknown token profile", EnvTokenProfile, "okta", EnvTokenProfile},
		{"entra without tenant or audience", EnvTokenProfile, "entra", EnvEntraTenant},
		{"Entra tenant with the Cognito profile", EnvEntraTenant, "6f1c3b9e-2d4a-4c8f-9e1b-7a5d3c2e1f00", EnvEntraTenant + " applies to"},
		{"GC percent not a number", EnvGCPercent, "lots", EnvGCPercent},
		{"Lambda memory not in MiB", EnvLambdaMemory, "1GB", EnvLambdaMemory},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := fromEnv(getenvOf(with(prodEnv(), tt.key, tt.value))); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s=%q: %v", tt.key, tt.value, err)
			}
		})
	}
}

// with returns a copy of env with key/value pairs set (an empty value deletes).
func with(env map[string]string, kv ...string) map[string]string {
	out := maps.Clone(env)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(out, kv[i])
		} else {
			out[kv[i]] = kv[i+1]
		}
	}
	return out
}

func TestEntraSettings(t *testing.T) {
	t.Parallel()
	const tid = "6f1c3b9e-2d4a-4c8f-9e1b-7a5d3c2e1f00"
	env := with(prodEnv(), EnvTokenProfile, "entra", EnvEntraTenant, tid, EnvEntraAud, "c0ffee00-1234-4abc-9def-000000000001",
		EnvEntraScope, "access", EnvIssuer, "https://login.microsoftonline.com/"+tid+"/v2.0")
	c, err := fromEnv(getenvOf(env))
	if err != nil {
		t.Fatal(err)
	}
	if c.tokens.Profile != "entra" || c.tokens.TenantID != tid || c.tokens.Scope != "access" || !slices.Equal(c.tokens.ClientIDs, c.clientIDs) {
		t.Fatalf("token settings %+v", c.tokens)
	}
	// The issuer must be that tenant's v2.0 issuer.
	_, err = fromEnv(getenvOf(with(env, EnvIssuer, "https://login.microsoftonline.com/common/v2.0")))
	if err == nil || !strings.Contains(err.Error(), EnvIssuer) {
		t.Fatalf("common issuer accepted: %v", err)
	}
}

// TestGCSettings: on Lambda the collector gets a soft limit below the function's memory and
// a higher percent; elsewhere Go's defaults stay unless PORTICO_GC_PERCENT is set.
func TestGCSettings(t *testing.T) {
	t.Parallel()
	dev, err := fromEnv(getenvOf(nil))
	if err != nil || dev.gc != (gcpace.Settings{}) {
		t.Errorf("development: %+v, %v", dev.gc, err)
	}
	lambda, err := fromEnv(getenvOf(with(prodEnv(), EnvRuntimeAPI, "127.0.0.1:9001", EnvLambdaMemory, "512")))
	if want := (gcpace.Settings{Percent: gcpace.LambdaPercent, Limit: 512 << 20 * gcpace.LimitPercent / 100}); err != nil || lambda.gc != want {
		t.Errorf("Lambda: %+v, %v; want %+v", lambda.gc, err, want)
	}
	set, err := fromEnv(getenvOf(with(prodEnv(), EnvGCPercent, "200")))
	if err != nil || set.gc != (gcpace.Settings{Percent: 200}) {
		t.Errorf("%s=200: %+v, %v", EnvGCPercent, set.gc, err)
	}
}

// TestAccountID: development defaults to the local endpoint's account; production has none
// unless set (no knowledge base is used, with a warning); a malformed id is refused.
func TestAccountID(t *testing.T) {
	t.Parallel()
	dev, err := fromEnv(getenvOf(nil))
	if err != nil || dev.accountID != defaultAccountID {
		t.Errorf("development: %q, %v", dev.accountID, err)
	}
	prod, err := fromEnv(getenvOf(prodEnv()))
	if err != nil || prod.accountID != "" {
		t.Errorf("production: %q, %v", prod.accountID, err)
	}
	set, err := fromEnv(getenvOf(with(prodEnv(), EnvAccountID, "123456789012")))
	if err != nil || set.accountID != "123456789012" {
		t.Errorf("set: %q, %v", set.accountID, err)
	}
	for _, bad := range []string{"1234", "12345678901a", "000000000000x"} {
		if _, err := fromEnv(getenvOf(with(prodEnv(), EnvAccountID, bad))); err == nil || !strings.Contains(err.Error(), EnvAccountID) {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
}

// TestKeyStoreConfig: production has no key store by default (keys off, with a warning),
// never the dev SQLite file; a malformed spec, or the apikey service selected without a
// store, is a configuration error.
func TestKeyStoreConfig(t *testing.T) {
	t.Parallel()
	off, err := fromEnv(getenvOf(with(prodEnv(), EnvKeyStore, "")))
	if err != nil {
		t.Fatal(err)
	}
	if off.keyStore != "" || off.publicAPIURL != "" {
		t.Errorf("production defaults: key store %q, URL %q", off.keyStore, off.publicAPIURL)
	}
	if w := off.warnings(); !slices.ContainsFunc(w, func(s string) bool { return strings.Contains(s, EnvKeyStore) }) {
		t.Errorf("warnings %v", w)
	}
	on, err := fromEnv(getenvOf(with(with(prodEnv(), EnvPublicAPIURL, "https://api.example.com/v1"), EnvService, "inference,apikey")))
	if err != nil || on.keyStore != "dynamodb:portico-keys" || on.publicAPIURL != "https://api.example.com/v1" {
		t.Errorf("configured: %+v, %v", on, err)
	}
	for name, env := range map[string]map[string]string{
		"malformed":            with(prodEnv(), EnvKeyStore, "redis:x"),
		"apikey without store": with(with(prodEnv(), EnvKeyStore, ""), EnvService, "apikey"),
	} {
		if _, err := fromEnv(getenvOf(env)); err == nil || !strings.Contains(err.Error(), EnvKeyStore) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

package stacks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/portico-dev/portico/infra/config"
)

// findInRepo returns the first submatch of re in the sources (.go or .ts, tests excluded) under
// dir of the repository, so a file moving within its tree does not break the check; it skips
// the test when the checkout has no such directory (infra/ alone).
func findInRepo(t *testing.T, dir string, re *regexp.Regexp) []string {
	t.Helper()
	root := filepath.Join("..", "..", dir)
	if _, err := os.Stat(root); os.IsNotExist(err) {
		t.Skipf("%s not checked out next to infra/", dir)
	}
	var found []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() && d.Name() == "node_modules" {
			if err == nil {
				err = filepath.SkipDir
			}
			return err
		}
		source := (strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go")) ||
			(strings.HasSuffix(path, ".ts") && !strings.HasSuffix(path, ".spec.ts"))
		if found != nil || d.IsDir() || !source {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		found = re.FindStringSubmatch(string(b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// envOf returns a function's environment variables.
func envOf(t *testing.T, s *synthesized, fn string) map[string]any {
	t.Helper()
	return s.mainJSON.function(t, s.cfg.Name(fn)).Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
}

// clientID returns the logical id of the app client with the given physical name suffix.
func clientID(t *testing.T, s *synthesized, suffix string) string {
	t.Helper()
	ids, clients := s.mainJSON.ofType("AWS::Cognito::UserPoolClient")
	for i, c := range clients {
		if c.Properties["ClientName"] == s.cfg.Name(suffix) {
			return ids[i]
		}
	}
	t.Fatalf("no app client %s", s.cfg.Name(suffix))
	return ""
}

// TestPolicyFileDeployed checks that every environment deploys its own policy file, byte for
// byte, in the configuration layer of the services and the authorizer, and points
// PORTICO_POLICY_FILE at it.
func TestPolicyFileDeployed(t *testing.T) {
	eachEnv(t, func(t *testing.T, s *synthesized) {
		want, err := os.ReadFile(filepath.Join("..", s.cfg.PolicyFile))
		if err != nil {
			t.Fatal(err)
		}
		layerIDs, layers := s.mainJSON.ofType("AWS::Lambda::LayerVersion")
		if len(layers) != 1 {
			t.Fatalf("%d layers, want the configuration layer", len(layers))
		}
		key, _ := layers[0].Properties["Content"].(map[string]any)["S3Key"].(string)
		staged := filepath.Join(s.outdir, "asset."+strings.TrimSuffix(key, ".zip"), "portico", "policy.yaml")
		got, err := os.ReadFile(staged)
		if err != nil {
			t.Fatalf("the layer asset holds no policy: %v", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("deployed policy differs from %s", s.cfg.PolicyFile)
		}
		for _, fn := range []string{"identity", "inference", "admin", "authorizer"} {
			p := s.mainJSON.function(t, s.cfg.Name(fn)).Properties
			if env := envOf(t, s, fn); env["PORTICO_POLICY_FILE"] != LayerPolicyPath {
				t.Errorf("%s: PORTICO_POLICY_FILE = %v, want %s", fn, env["PORTICO_POLICY_FILE"], LayerPolicyPath)
			}
			refs := anyList(p["Layers"])
			if len(refs) != 1 || getAttID(refs[0]) != layerIDs[0] {
				t.Errorf("%s: layers %v, want the configuration layer %s", fn, p["Layers"], layerIDs[0])
			}
		}
	})
}

// TestSynthRefusesPolicy is the table of environments the CDK app must refuse to synthesise:
// no policy file (the services' embedded development policy would be live), the development
// policy itself, a missing or empty file, and a policy granting a group Cognito does not have.
func TestSynthRefusesPolicy(t *testing.T) {
	assets := t.TempDir()
	if err := WritePlaceholderAssets(assets); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name       string
		policyFile string
		want       string
	}{
		{"no policy file", "", "policyFile: required"},
		{"the development policy", "../services/policy/dev.yaml", "development policy"},
		{"missing file", filepath.Join(dir, "missing.yaml"), "no such file"},
		{"empty file", write("empty.yaml", "\n \n"), "is empty"},
		{"group Cognito does not have", write("everyone.yaml", "version: 1\ngroups:\n  - name: Everyone\n    models: [amazon.nova-lite-v1:0]\n"), `group "Everyone"`},
		{"usage admins Cognito does not have", write("auditors.yaml", "version: 1\nusageAdmins: [Auditors]\n"), `"Auditors"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Load("uat")
			if err != nil {
				t.Fatal(err)
			}
			cfg.PolicyFile = tt.policyFile
			_, err = New(awscdk.NewApp(nil), cfg, Options{InfraDir: "..", AssetDir: assets})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New() = %v, want a refusal naming %q", err, tt.want)
			}
		})
	}
}

// TestSynthRefusesCatalog: synthesis stops on a catalog with a model that cannot run in the
// environment's region (the embedded catalog in prod's us-west-2: Jamba runs in us-east-1
// only), and on a policy granting a model the catalog lacks.
func TestSynthRefusesCatalog(t *testing.T) {
	assets := t.TempDir()
	if err := WritePlaceholderAssets(assets); err != nil {
		t.Fatal(err)
	}
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte("version: 1\ngroups:\n  - name: MLUsers\n    models: [ai21.jamba-1-5-mini-v1:0]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(*config.Config)
		want   string
	}{
		{"embedded catalog in us-west-2", func(c *config.Config) { c.CatalogFile = "" }, "ai21.jamba-1-5-mini-v1:0"},
		{"prod catalog in eu-west-1", func(c *config.Config) { c.Region = "eu-west-1" }, "cannot run from eu-west-1"},
		{"policy grants a model the catalog lacks", func(c *config.Config) { c.PolicyFile = policy }, `"ai21.jamba-1-5-mini-v1:0"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Load("prod")
			if err != nil {
				t.Fatal(err)
			}
			tt.mutate(cfg)
			_, err = New(awscdk.NewApp(nil), cfg, Options{InfraDir: "..", AssetDir: assets})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New() = %v, want a refusal naming %q", err, tt.want)
			}
		})
	}
}

// TestEveryFunctionInProduction checks PORTICO_ENV=production on every Portico binary.
func TestEveryFunctionInProduction(t *testing.T) {
	eachEnv(t, func(t *testing.T, s *synthesized) {
		_, fns := s.mainJSON.ofType("AWS::Lambda::Function")
		var names []string
		for _, f := range fns {
			if f.Properties["Runtime"] != "provided.al2023" {
				continue // CDK's own helpers read no PORTICO_ENV
			}
			names = append(names, fmt.Sprint(f.Properties["FunctionName"]))
			env, _ := f.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
			if f.Properties["FunctionName"] == s.cfg.Name("pretoken") {
				// The trigger has no development defaults and reads no PORTICO_ENV.
				if env["PORTICO_ENV"] != nil {
					t.Errorf("%v: PORTICO_ENV = %v, which it does not read", f.Properties["FunctionName"], env["PORTICO_ENV"])
				}
				continue
			}
			if env["PORTICO_ENV"] != EnvProduction {
				t.Errorf("%v: PORTICO_ENV = %v, want %s", f.Properties["FunctionName"], env["PORTICO_ENV"], EnvProduction)
			}
		}
		var want []string
		for _, fn := range []string{"identity", "inference", "admin", "apikey", "authorizer", "bff"} {
			want = append(want, s.cfg.Name(fn))
		}
		if !s.cfg.IsEntra() {
			want = append(want, s.cfg.Name("pretoken"))
		}
		if !sameSet(names, want) {
			t.Errorf("Go functions %v, want %v", names, want)
		}
	})
}

// TestBFFClientIDs checks that the services believe the Portico-Client-* headers of the
// generated web client's tokens (the BFF's) and of no other client.
func TestBFFClientIDs(t *testing.T) {
	eachCognitoEnv(t, func(t *testing.T, s *synthesized) {
		web, machine := clientID(t, s, "web"), clientID(t, s, "machine")
		for _, fn := range []string{"identity", "inference", "admin"} {
			env := envOf(t, s, fn)
			v, ok := env[EnvBFFClientIDs].(map[string]any)
			if !ok || len(v) != 1 || v["Ref"] != web {
				t.Errorf("%s: %s = %v, want exactly the web client {Ref: %s}", fn, EnvBFFClientIDs, env[EnvBFFClientIDs], web)
			}
			b, _ := json.Marshal(env[EnvBFFClientIDs])
			if strings.Contains(string(b), machine) {
				t.Errorf("%s: the machine client is trusted as a BFF", fn)
			}
			// Both clients' tokens are still accepted.
			ids, _ := json.Marshal(env["PORTICO_CLIENT_IDS"])
			if !strings.Contains(string(ids), web) || !strings.Contains(string(ids), machine) {
				t.Errorf("%s: PORTICO_CLIENT_IDS = %s, want both clients", fn, ids)
			}
		}
		for _, fn := range []string{"authorizer", "bff"} {
			if v, ok := envOf(t, s, fn)[EnvBFFClientIDs]; ok {
				t.Errorf("%s: %s = %v set on a function that does not read it", fn, EnvBFFClientIDs, v)
			}
		}
	})
}

// TestViewerAddress checks that the BFF takes the viewer's address from CloudFront: the BFF
// trusts CloudFront-Viewer-Address, and the origin request policy of both BFF behaviours
// forwards it within an allow list that stops what a browser could send about identity,
// address or tracing.
func TestViewerAddress(t *testing.T) {
	csrf := findInRepo(t, "bff", regexp.MustCompile(`CSRFHeader\s*=\s*"([^"]+)"`))
	viewer := findInRepo(t, "bff", regexp.MustCompile(`"((?i)cloudfront-viewer-address)"`))
	sha := findInRepo(t, "frontend/src", regexp.MustCompile(`CONTENT_SHA256_HEADER\s*=\s*'([^']+)'`))
	if csrf == nil || viewer == nil || sha == nil {
		t.Fatalf("header names not found in the BFF or SPA sources (csrf %v, viewer %v, sha256 %v); update this test", csrf, viewer, sha)
	}
	needed := []string{csrf[1], viewer[1], sha[1], "Origin", "Sec-Fetch-Site", "Content-Type", "Connect-Protocol-Version", "User-Agent"}
	stopped := []string{
		"Host", "Authorization", "Cookie", // cookies travel by the cookie behaviour
		"traceparent", "tracestate", "baggage", "X-Request-Id", "X-Amzn-Trace-Id",
		"True-Client-IP", "CF-Connecting-IP", "X-Forwarded-For", "X-Forwarded-Host", "Forwarded", "X-Real-IP",
		"Via", "X-Original-URL", "X-Rewrite-URL", "Portico-Client-Ip", "Portico-Client-User-Agent",
	}
	eachEnv(t, func(t *testing.T, s *synthesized) {
		if v := envOf(t, s, "bff")[EnvTrustViewerAddress]; v != "true" {
			t.Errorf("bff: %s = %v, want true", EnvTrustViewerAddress, v)
		}
		ids, policies := s.mainJSON.ofType("AWS::CloudFront::OriginRequestPolicy")
		if len(policies) != 1 {
			t.Fatalf("%d origin request policies, want 1", len(policies))
		}
		hc := policies[0].Properties["OriginRequestPolicyConfig"].(map[string]any)["HeadersConfig"].(map[string]any)
		if hc["HeaderBehavior"] != "whitelist" {
			t.Errorf("header behaviour %v, want an allow list (whitelist)", hc["HeaderBehavior"])
		}
		headers := strList(hc["Headers"])
		if len(headers) > 10 {
			t.Errorf("%d headers: CloudFront allows 10 per origin request policy", len(headers))
		}
		has := func(h string) bool {
			return slices.ContainsFunc(headers, func(x string) bool { return strings.EqualFold(x, h) })
		}
		for _, h := range needed {
			if !has(h) {
				t.Errorf("the BFF needs %s, which the origin request policy drops", h)
			}
		}
		for _, h := range stopped {
			if has(h) {
				t.Errorf("the origin request policy forwards %s", h)
			}
		}
		_, dists := s.mainJSON.ofType("AWS::CloudFront::Distribution")
		for _, b := range dists[0].Properties["DistributionConfig"].(map[string]any)["CacheBehaviors"].([]any) {
			bm := b.(map[string]any)
			if getAttID(bm["OriginRequestPolicyId"]) != ids[0] {
				t.Errorf("%v: origin request policy %v, want %s", bm["PathPattern"], bm["OriginRequestPolicyId"], ids[0])
			}
		}
	})
}

// TestSessionTable checks the BFF's DynamoDB session table against bff/session/dynamosession
// (key, time-to-live attribute, the calls it makes), its protection (CMK, PITR), the BFF's
// PORTICO_SESSION_STORE, and the BFF's exact grant.
func TestSessionTable(t *testing.T) {
	const pkg = "bff/session/dynamosession"
	key := findInRepo(t, pkg, regexp.MustCompile(`AttributeName:\s*aws\.String\("([^"]+)"\),\s*KeyType:\s*types\.KeyTypeHash`))
	if key == nil || key[1] != SessionPartitionKey {
		t.Errorf("dynamosession's partition key is %v, the table's %q", key, SessionPartitionKey)
	}
	if findInRepo(t, pkg, regexp.MustCompile(`"`+SessionTTLAttribute+`":\s*num\(`)) == nil {
		t.Errorf("dynamosession writes no number attribute %q for time-to-live", SessionTTLAttribute)
	}
	iface := findInRepo(t, pkg, regexp.MustCompile(`(?s)type API interface \{(.*?)\n\}`))
	if iface == nil {
		t.Fatal("dynamosession.API not found; update this test")
	}
	var calls []string
	for _, m := range regexp.MustCompile(`(?m)^\s*(\w+)\(ctx context\.Context`).FindAllStringSubmatch(iface[1], -1) {
		calls = append(calls, "dynamodb:"+m[1])
	}
	if !sameSet(calls, sessionActions) {
		t.Errorf("dynamosession calls %v, the BFF is granted %v", calls, sessionActions)
	}

	eachEnv(t, func(t *testing.T, s *synthesized) {
		cfg := s.cfg
		name := cfg.Name("sessions")
		ids, tables := s.mainJSON.ofType("AWS::DynamoDB::Table")
		i := slices.IndexFunc(tables, func(r resource) bool { return r.Properties["TableName"] == name })
		if i < 0 {
			t.Fatalf("no table %s", name)
		}
		keyIDs, _ := s.mainJSON.ofType("AWS::KMS::Key")
		must(t, "session table", func() {
			s.main.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), map[string]any{
				"TableName":                        name,
				"KeySchema":                        []any{map[string]any{"AttributeName": SessionPartitionKey, "KeyType": "HASH"}},
				"AttributeDefinitions":             []any{map[string]any{"AttributeName": SessionPartitionKey, "AttributeType": "S"}},
				"BillingMode":                      "PAY_PER_REQUEST",
				"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
				"SSESpecification":                 map[string]any{"SSEEnabled": true, "SSEType": "KMS", "KMSMasterKeyId": map[string]any{"Fn::GetAtt": []any{keyIDs[0], "Arn"}}},
				"TimeToLiveSpecification":          map[string]any{"AttributeName": SessionTTLAttribute, "Enabled": true},
				"DeletionProtectionEnabled":        cfg.Protect,
			})
		})
		want := map[string]any{"DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete"}
		if cfg.Protect {
			want = map[string]any{"DeletionPolicy": "RetainExceptOnCreate", "UpdateReplacePolicy": "Retain"}
		}
		must(t, "session table removal policy", func() {
			s.main.HasResource(jsii.String("AWS::DynamoDB::Table"), assertions.Match_ObjectLike(&map[string]any{
				"Properties":     assertions.Match_ObjectLike(&map[string]any{"TableName": name}),
				"DeletionPolicy": want["DeletionPolicy"], "UpdateReplacePolicy": want["UpdateReplacePolicy"],
			}))
		})

		fn := s.mainJSON.function(t, cfg.Name("bff"))
		got, _ := json.Marshal(envOf(t, s, "bff")[EnvSessionStore])
		wantStore, _ := json.Marshal(map[string]any{"Fn::Join": []any{"", []any{"dynamodb:", map[string]any{"Ref": ids[i]}}}})
		if string(got) != string(wantStore) {
			t.Errorf("bff: %s = %s, want %s (dynamodb:<this stack's session table>)", EnvSessionStore, got, wantStore)
		}
		// Every DynamoDB action of the BFF is one dynamosession makes, on the session table only.
		arn := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", cfg.Region, cfg.Account, name)
		_, stmts := s.mainJSON.roleStatements(t, fn)
		sawKey := false
		for _, st := range stmts {
			for _, a := range st.Actions {
				if strings.HasPrefix(a, "dynamodb:") && (!slices.Contains(sessionActions, a) || !slices.Equal(strList(st.Resources), []string{arn})) {
					t.Errorf("%s: bff may %s on %v", st.Sid, a, st.Resources)
				}
			}
			if st.Sid == "SessionTableKey" {
				sawKey = sameSet(st.Actions, sessionKeyActions) && len(st.Resources) == 1 && getAttID(st.Resources[0]) == keyIDs[0]
			}
		}
		if !sawKey {
			t.Error("bff: no SessionTableKey statement for the table's key")
		}
		// The key statement only works through DynamoDB.
		must(t, "key via DynamoDB only", func() {
			s.main.HasResourceProperties(jsii.String("AWS::IAM::Policy"), map[string]any{
				"PolicyDocument": assertions.Match_ObjectLike(&map[string]any{
					"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
						"Sid":       "SessionTableKey",
						"Condition": map[string]any{"StringEquals": map[string]any{"kms:ViaService": "dynamodb." + cfg.Region + ".amazonaws.com"}},
					})}),
				}),
			})
		})
	})
}

// TestClientsCannotWriteGroups checks the app clients' write attributes: the machine client
// may write none; the web client exactly the attributes the Entra mapping writes at
// federated sign-in (Cognito refuses the sign-in otherwise), and no client can obtain a token
// that updates its own user's attributes (aws.cognito.signin.user.admin) or sign in by
// password or SRP. So custom:groups and custom:department change only through Entra (or an
// administrator's IAM call).
func TestClientsCannotWriteGroups(t *testing.T) {
	eachCognitoEnv(t, func(t *testing.T, s *synthesized) {
		_, idps := s.mainJSON.ofType("AWS::Cognito::UserPoolIdentityProvider")
		var mapped []string
		for k := range idps[0].Properties["AttributeMapping"].(map[string]any) {
			mapped = append(mapped, k)
		}
		for _, a := range []string{AttrGroups, AttrDepartment} {
			if !slices.Contains(mapped, a) {
				t.Fatalf("the Entra mapping no longer writes %s; revisit this test", a)
			}
		}
		ids, clients := s.mainJSON.ofType("AWS::Cognito::UserPoolClient")
		if len(clients) != 2 {
			t.Fatalf("%d app clients, want the web and machine clients", len(clients))
		}
		for i, c := range clients {
			p := c.Properties
			w, ok := p["WriteAttributes"]
			if !ok {
				t.Errorf("%s: WriteAttributes unset (Cognito's default)", ids[i])
				continue
			}
			write := strList(w)
			if w == nil || len(anyList(w)) == 0 {
				write = nil
			}
			switch p["ClientName"] {
			case s.cfg.Name("machine"):
				if len(write) != 0 {
					t.Errorf("machine client may write %v, want nothing", write)
				}
			case s.cfg.Name("web"):
				if !sameSet(write, mapped) {
					t.Errorf("web client may write %v, want exactly the Entra-mapped %v", write, mapped)
				}
			default:
				t.Errorf("unexpected client %v", p["ClientName"])
			}
			for _, scope := range strList(p["AllowedOAuthScopes"]) {
				if scope == "aws.cognito.signin.user.admin" {
					t.Errorf("%v: its tokens may update their user's attributes", p["ClientName"])
				}
			}
			if flows := strList(p["ExplicitAuthFlows"]); !slices.Equal(flows, []string{"ALLOW_REFRESH_TOKEN_AUTH"}) {
				t.Errorf("%v: auth flows %v, want only ALLOW_REFRESH_TOKEN_AUTH", p["ClientName"], flows)
			}
		}
	})
}

// TestNoRetainOnFailedCreate checks issue 19's first-deploy trap: no resource is kept when
// its first create rolls back (its fixed name would make every retry fail); a protected
// environment keeps its stateful resources on delete and replacement instead.
func TestNoRetainOnFailedCreate(t *testing.T) {
	stateful := []string{"AWS::DynamoDB::Table", "AWS::Cognito::UserPool", "AWS::KMS::Key", "AWS::SecretsManager::Secret", "AWS::Logs::LogGroup", "AWS::S3::Bucket"}
	eachEnv(t, func(t *testing.T, s *synthesized) {
		for _, st := range []awscdk.Stack{s.portico.Main, s.portico.Edge} {
			b, err := json.Marshal(assertions.Template_FromStack(st, nil).ToJSON())
			if err != nil {
				t.Fatal(err)
			}
			var tmpl struct {
				Resources map[string]struct {
					Type                                string
					DeletionPolicy, UpdateReplacePolicy string
				}
			}
			if err := json.Unmarshal(b, &tmpl); err != nil {
				t.Fatal(err)
			}
			for id, r := range tmpl.Resources {
				if r.DeletionPolicy == "Retain" {
					t.Errorf("%s (%s): DeletionPolicy Retain survives a rolled-back first create", id, r.Type)
				}
				if !slices.Contains(stateful, r.Type) {
					continue
				}
				want := "Delete"
				if s.cfg.Protect {
					want = "RetainExceptOnCreate"
				}
				if r.DeletionPolicy != want {
					t.Errorf("%s (%s): DeletionPolicy %q, want %q", id, r.Type, r.DeletionPolicy, want)
				}
			}
		}
	})
}

// TestGroupIDSuffix checks that configured group names become distinct construct ids made of
// letters, digits and underscores, and that the shipped names keep their construct ids (no
// replacement of existing groups).
func TestGroupIDSuffix(t *testing.T) {
	t.Parallel()
	if got := groupIDSuffix("Administrators") + groupIDSuffix("MLUsers"); got != "AdministratorsMLUsers" {
		t.Errorf("existing groups' ids changed: %q", got)
	}
	names := []string{"Finance/EU", "Finance_EU", "Finance-EU", "FinanceEU", "Finance_2f_EU", "Ünits", "Units"}
	seen := map[string]string{}
	valid := regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	for _, n := range names {
		id := groupIDSuffix(n)
		if !valid.MatchString(id) {
			t.Errorf("%q → %q: not a plain construct id", n, id)
		}
		if other, dup := seen[id]; dup {
			t.Errorf("%q and %q both → %q", n, other, id)
		}
		seen[id] = n
	}
}

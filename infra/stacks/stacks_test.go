package stacks

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
	cdknag "github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/portico-dev/portico/infra/config"
	"github.com/portico-dev/portico/services/testing/dynalitetest"
)

// synthesized is one environment, synthesised once per test binary and shared by the tests
// (a synthesis costs seconds; assertions on the JSON are cheap).
type synthesized struct {
	cfg *config.Config
	// outdir is the app's cloud assembly directory (the staged assets live there).
	outdir     string
	portico    *Portico
	main, edge assertions.Template
	// mainJSON and edgeJSON are the templates as Go values for the table-driven checks.
	mainJSON, edgeJSON template
}

var envs = map[string]*synthesized{}

// EntraExample is the example environment with Entra ID directly (identity.mode entra),
// synthesised beside uat and prod under this name.
const EntraExample = "uat-entra"

// entraExampleFile is its configuration file, relative to infra/.
const entraExampleFile = "config/examples/uat-entra.yaml"

// synthNames are the synthesised configurations: uat and prod (Cognito), then the Entra
// example.
var synthNames = append(slices.Clone(config.Environments), EntraExample)

// TestMain synthesises uat, prod and the Entra example once, with placeholder Lambda
// artifacts (never deployed) and the context of cdk.json, so the tests check what `cdk synth`
// produces.
func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	defer jsii.Close()
	defer dynalitetest.Stop() // TestLedgerGrantsSuffice's
	// dynalitetest looks for the repository's tools next to the nearest go.mod, which here is
	// infra's: point it at the repository root's (make tools) unless told otherwise.
	if os.Getenv("PORTICO_DYNALITE") == "" {
		if p, err := filepath.Abs("../../.tools/dynalite/node_modules/.bin/dynalite"); err == nil {
			if _, err := os.Stat(p); err == nil {
				os.Setenv("PORTICO_DYNALITE", p) //nolint:errcheck // best effort: the test names what is missing
			}
		}
	}
	dir, err := os.MkdirTemp("", "portico-infra-test-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	if err := WritePlaceholderAssets(dir); err != nil {
		return 0, err
	}
	ctx, err := cdkContext()
	if err != nil {
		return 0, err
	}
	for _, name := range synthNames {
		var cfg *config.Config
		if name == EntraExample {
			cfg, err = config.LoadFile(filepath.Join("..", entraExampleFile))
		} else {
			cfg, err = config.Load(name)
		}
		if err != nil {
			return 0, err
		}
		outdir := filepath.Join(dir, "cdk.out."+name)
		app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(outdir)})
		p, err := New(app, cfg, Options{InfraDir: "..", AssetDir: dir})
		if err != nil {
			return 0, err
		}
		s := &synthesized{cfg: cfg, portico: p, outdir: outdir}
		s.main = assertions.Template_FromStack(p.Main, nil)
		s.edge = assertions.Template_FromStack(p.Edge, nil)
		if s.mainJSON, err = toTemplate(s.main); err != nil {
			return 0, err
		}
		if s.edgeJSON, err = toTemplate(s.edge); err != nil {
			return 0, err
		}
		envs[name] = s
	}
	return m.Run(), nil
}

// cdkContext reads the context of infra/cdk.json.
func cdkContext() (map[string]any, error) {
	b, err := os.ReadFile("../cdk.json")
	if err != nil {
		return nil, err
	}
	var f struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("cdk.json: %w", err)
	}
	return f.Context, nil
}

// template is a CloudFormation template as plain Go values.
type template struct {
	Resources map[string]resource `json:"Resources"`
	Outputs   map[string]output   `json:"Outputs"`
}

type output struct {
	Description string `json:"Description"`
	Value       any    `json:"Value"`
}

type resource struct {
	Type           string         `json:"Type"`
	Properties     map[string]any `json:"Properties"`
	Metadata       map[string]any `json:"Metadata"`
	DeletionPolicy string         `json:"DeletionPolicy"`
	DependsOn      any            `json:"DependsOn"`
}

func toTemplate(t assertions.Template) (template, error) {
	b, err := json.Marshal(t.ToJSON())
	if err != nil {
		return template{}, err
	}
	var out template
	err = json.Unmarshal(b, &out)
	return out, err
}

// ofType returns the logical ids and resources of one type, sorted by id.
func (t template) ofType(typ string) ([]string, []resource) {
	var ids []string
	for id, r := range t.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	rs := make([]resource, len(ids))
	for i, id := range ids {
		rs[i] = t.Resources[id]
	}
	return ids, rs
}

// function finds the Lambda function with the given physical name.
func (t template) function(t2 *testing.T, name string) resource {
	t2.Helper()
	_, fns := t.ofType("AWS::Lambda::Function")
	for _, f := range fns {
		if f.Properties["FunctionName"] == name {
			return f
		}
	}
	t2.Fatalf("no function %s", name)
	return resource{}
}

// resourcePath returns the full path of an API Gateway resource ("/a/b"), walking its
// parents up to the API's root.
func (t template) resourcePath(id string) string {
	r, ok := t.Resources[id]
	if !ok || r.Type != "AWS::ApiGateway::Resource" {
		return ""
	}
	return t.resourcePath(getAttID(r.Properties["ParentId"])) + "/" + fmt.Sprint(r.Properties["PathPart"])
}

// statement is one IAM policy statement with Action and Resource normalised to lists.
type statement struct {
	Sid       string
	Actions   []string
	Resources []any
	Condition map[string]any
}

// roleStatements returns every statement of every inline policy attached to the function's
// execution role, and the role resource itself.
func (t template) roleStatements(tt *testing.T, fn resource) (resource, []statement) {
	tt.Helper()
	roleID := getAttID(fn.Properties["Role"])
	role, ok := t.Resources[roleID]
	if !ok {
		tt.Fatalf("role %v not found", fn.Properties["Role"])
	}
	var out []statement
	for _, p := range t.Resources {
		if p.Type != "AWS::IAM::Policy" {
			continue
		}
		attached := false
		for _, r := range p.Properties["Roles"].([]any) {
			if ref, ok := r.(map[string]any)["Ref"]; ok && ref == roleID {
				attached = true
			}
		}
		if !attached {
			continue
		}
		doc := p.Properties["PolicyDocument"].(map[string]any)
		for _, s := range doc["Statement"].([]any) {
			sm := s.(map[string]any)
			st := statement{Actions: strList(sm["Action"]), Resources: anyList(sm["Resource"])}
			st.Sid, _ = sm["Sid"].(string)
			st.Condition, _ = sm["Condition"].(map[string]any)
			out = append(out, st)
		}
	}
	return role, out
}

func getAttID(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	if ga, ok := m["Fn::GetAtt"].([]any); ok {
		return ga[0].(string)
	}
	if ref, ok := m["Ref"].(string); ok {
		return ref
	}
	return ""
}

func anyList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

func strList(v any) []string {
	var out []string
	for _, x := range anyList(v) {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

// must runs a jsii assertion and turns its panic into a test failure.
func must(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	f()
}

// eachEnv runs f for uat, prod and the Entra example. The subtests run in sequence: most
// call into the jsii runtime (one Node process behind a lock), where parallel subtests would
// gain nothing.
func eachEnv(t *testing.T, f func(t *testing.T, s *synthesized)) {
	for _, name := range synthNames {
		t.Run(name, func(t *testing.T) { f(t, envs[name]) })
	}
}

// eachCognitoEnv runs f for the environments with a Cognito user pool (uat and prod).
func eachCognitoEnv(t *testing.T, f func(t *testing.T, s *synthesized)) {
	for _, name := range synthNames {
		if !envs[name].cfg.IsEntra() {
			t.Run(name, func(t *testing.T) { f(t, envs[name]) })
		}
	}
}

func TestNagAwsSolutionsClean(t *testing.T) {
	eachEnv(t, func(t *testing.T, s *synthesized) {
		for _, st := range []awscdk.Stack{s.portico.Edge, s.portico.Main} {
			ann := assertions.Annotations_FromStack(st)
			pattern := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
			errs := ann.FindError(jsii.String("*"), pattern)
			for _, e := range *errs {
				t.Errorf("%s: unsuppressed cdk-nag error at %s: %v", *st.StackName(), *e.Id, e.Entry.Data)
			}
			warns := ann.FindWarning(jsii.String("*"), pattern)
			for _, w := range *warns {
				t.Errorf("%s: unsuppressed cdk-nag warning at %s: %v", *st.StackName(), *w.Id, w.Entry.Data)
			}
			must(t, "HasNoError", func() { ann.HasNoError(jsii.String("*"), pattern) })
		}
	})
}

// TestNagFindsErrors shows that the annotation check above can fail: a bucket without
// encryption, TLS enforcement or access logs draws AwsSolutions errors.
func TestNagFindsErrors(t *testing.T) {
	app := awscdk.NewApp(nil)
	st := awscdk.NewStack(app, jsii.String("NagTest"), nil)
	awss3.NewBucket(st, jsii.String("Bare"), &awss3.BucketProps{})
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(nil), nil)
	errs := assertions.Annotations_FromStack(st).FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-S(1|10)")))
	if len(*errs) < 2 {
		t.Fatalf("cdk-nag found %d of the bare bucket's S1/S10 errors, want 2", len(*errs))
	}
}

// TestNagSuppressionsHaveReasons checks that every cdk-nag suppression in the templates
// carries a written reason of substance.
func TestNagSuppressionsHaveReasons(t *testing.T) {
	eachEnv(t, func(t *testing.T, s *synthesized) {
		count := 0
		for _, tmpl := range []template{s.mainJSON, s.edgeJSON} {
			for id, r := range tmpl.Resources {
				nag, ok := r.Metadata["cdk_nag"].(map[string]any)
				if !ok {
					continue
				}
				for _, x := range nag["rules_to_suppress"].([]any) {
					sup := x.(map[string]any)
					count++
					if reason, _ := sup["reason"].(string); len(reason) < 60 {
						t.Errorf("%s: suppression of %v has no real reason: %q", id, sup["id"], reason)
					}
				}
			}
		}
		if count == 0 {
			t.Fatal("no suppressions found: the metadata check cannot be working")
		}
	})
}

// logStreamsRE is the only wildcard resource a Portico role may hold: its own log streams.
var logStreamsRE = regexp.MustCompile(`^arn:aws:logs:[a-z0-9-]+:[0-9]{12}:log-group:/aws/lambda/portico-(uat|prod)-[a-z-]+:log-stream:\*$`)

// TestLeastPrivilege checks every Portico execution role: no AWS managed policies, no "*"
// resource, wildcards only in the function's own log streams, and exactly the catalog's
// Bedrock and SageMaker ARNs and the ledger table for the services.
func TestLeastPrivilege(t *testing.T) {
	eachEnv(t, checkLeastPrivilege)
}

// TestLeastPrivilegeFileMode: with the policy managed by file (policy.mode file) no function
// but inference and admin reaches the ledger, and admin writes audit records only.
func TestLeastPrivilegeFileMode(t *testing.T) {
	cfg, tmpl := synthVariant(t, func(c *config.Config) { c.Policy.Mode = config.PolicyModeFile })
	checkLeastPrivilege(t, &synthesized{cfg: cfg, mainJSON: tmpl})
}

// checkLeastPrivilege checks every function's role in a synthesised environment: exactly the
// wanted data and model statements (actions, resources and the ledger's partition
// conditions), nothing else reaching data or models, no wildcard.
func checkLeastPrivilege(t *testing.T, s *synthesized) {
	{
		cfg := s.cfg
		cat, err := cfg.Catalog("..")
		if err != nil {
			t.Fatal(err)
		}
		bedrockARNs, sagemakerARNs, err := cfg.ModelARNs(cat)
		if err != nil {
			t.Fatal(err)
		}
		table := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/portico-%s-ledger", cfg.Region, cfg.Account, cfg.Env)
		tableARNs := []string{table, table + "/index/GSI1", table + "/index/GSI2"}
		sessionTable := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/portico-%s-sessions", cfg.Region, cfg.Account, cfg.Env)
		type grant struct {
			actions   []string
			resources []string
			// leading are the ledger partitions the statement is limited to
			// (dynamodb:LeadingKeys); nil: the statement has no condition.
			leading []string
		}
		conversations := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/portico-%s-conversations", cfg.Region, cfg.Account, cfg.Env)
		keys := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/portico-%s-keys", cfg.Region, cfg.Account, cfg.Env)
		keyARNs := []string{keys}
		bucket := fmt.Sprintf("arn:aws:s3:::portico-%s-attachments-%s-%s", cfg.Env, cfg.Account, cfg.Region)
		bus := fmt.Sprintf("arn:aws:events:%s:%s:event-bus/portico-%s-governance", cfg.Region, cfg.Account, cfg.Env)
		// Every services process resolves keys and records their use and people's sign-ins;
		// only ApiKeyService's function lists (Query, Scan) and deletes.
		keyRW := []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}
		keyManage := []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:Scan"}
		kmsRW := []string{"kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"}
		// withPolicy adds the store mode's policy grants to a function's.
		withPolicy := func(base, policyGrants map[string]grant) map[string]grant {
			if cfg.PolicyInStore() {
				maps.Copy(base, policyGrants)
			}
			return base
		}
		adminWrites := []string{"RSV#*", "REC#*", "USAGE#*"}
		if cfg.PolicyInStore() {
			adminWrites = append(adminWrites, "POLICY")
		}
		inferenceGrants := map[string]grant{
			"InvokeCatalogModels":    {[]string{"bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"}, bedrockARNs, nil},
			"InvokeCatalogEndpoints": {[]string{"sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"}, sagemakerARNs, nil},
			"ReadWriteLedger":        {[]string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query"}, tableARNs, nil},
			"ReadWriteConversations": {[]string{"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}, []string{conversations}, nil},
			"ReadWriteAttachments":   {[]string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}, []string{bucket + "/*"}, nil},
			"ListAttachments":        {[]string{"s3:ListBucket"}, []string{bucket}, nil},
			"PutAlertEvents":         {[]string{"events:PutEvents"}, []string{bus}, nil},
			"ReadWriteApiKeys":       {keyRW, keyARNs, nil},
		}
		if arns := cfg.KnowledgeBaseARNs(); len(arns) > 0 {
			inferenceGrants["RetrieveKnowledgeBases"] = grant{[]string{"bedrock:Retrieve"}, arns, nil}
		}
		tests := []struct {
			fn     string
			want   map[string]grant // by Sid; the log and environment statements are checked for all
			absent []string         // action prefixes the role must not hold
		}{
			{"inference", inferenceGrants, []string{"dynamodb:Scan", "dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable", "s3:ListAllMyBuckets", "s3:DeleteBucket", "s3:PutBucket", "s3:PutObjectAcl"}},
			// ApiKeyService: the key table's management calls; of the ledger, in store mode,
			// the policy's partition, read-only.
			{"apikey", withPolicy(map[string]grant{
				"ManageApiKeys": {keyManage, keyARNs, nil},
				"ApiKeysKey":    {kmsRW, []string{"<key>"}, nil},
			}, map[string]grant{
				"ReadPolicy": {[]string{"dynamodb:GetItem"}, []string{table}, []string{"POLICY"}},
			}), []string{"bedrock:", "sagemaker:", "secretsmanager:", "s3:", "events:", "dynamodb:BatchWriteItem"}},
			// IdentityService: the key table (a person's last sign-in) and the key for it; in
			// store mode, read-only, the policy's partition and the counters behind GetMe's
			// alerts.
			{"identity", withPolicy(map[string]grant{
				"ReadWriteApiKeys": {keyRW, keyARNs, nil},
				"ApiKeysKey":       {kmsRW, []string{"<key>"}, nil},
			}, map[string]grant{
				"ReadPolicy": {[]string{"dynamodb:GetItem"}, []string{table}, []string{"POLICY", "CTR#*"}},
			}), []string{"bedrock:", "sagemaker:", "secretsmanager:", "s3:", "events:", "dynamodb:Scan", "dynamodb:Batch", "dynamodb:DeleteItem", "dynamodb:Query"}},
			// AdminService reads the ledger (GetItem and Query on the table and its indexes)
			// and writes only audit records (their reservation and record items) and, in
			// store mode, policy versions; it records sign-ins in the key table.
			{"admin", map[string]grant{
				"ReadLedger":         {[]string{"dynamodb:GetItem", "dynamodb:Query"}, tableARNs, nil},
				"WriteLedgerAudit":   {[]string{"dynamodb:PutItem", "dynamodb:UpdateItem"}, []string{table}, adminWrites},
				"LedgerKeyReadWrite": {kmsRW, []string{"<key>"}, nil},
				"ReadWriteApiKeys":   {keyRW, keyARNs, nil},
				"CountConversations": {[]string{"dynamodb:Scan", "dynamodb:Query"}, []string{conversations}, nil},
			}, []string{"bedrock:", "sagemaker:", "secretsmanager:", "s3:", "events:", "dynamodb:Batch", "dynamodb:DeleteItem"}},
			// The authorizer finds a key by its hash (GetItem) and, in store mode, reads the
			// policy's partition; it writes nothing.
			{"authorizer", withPolicy(map[string]grant{
				"LookUpApiKeys":  {[]string{"dynamodb:GetItem"}, keyARNs, nil},
				"ApiKeysKeyRead": {[]string{"kms:Decrypt", "kms:DescribeKey"}, []string{"<key>"}, nil},
			}, map[string]grant{
				"ReadPolicy": {[]string{"dynamodb:GetItem"}, []string{table}, []string{"POLICY"}},
			}), []string{"bedrock:", "sagemaker:", "secretsmanager:", "s3:", "events:", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Batch", "dynamodb:Query", "dynamodb:Scan", "kms:Encrypt", "kms:GenerateDataKey"}},
			// The BFF: its session table only, with exactly bff/session/dynamosession's calls.
			{"bff", map[string]grant{"ReadWriteSessions": {sessionActions, []string{sessionTable}, nil}}, []string{"bedrock:", "sagemaker:", "dynamodb:Query", "dynamodb:Scan", "dynamodb:UpdateItem", "dynamodb:Batch", "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable"}},
			// The pre token generation trigger: its logs only (TestPreTokenTrigger lists them).
			{"pretoken", nil, []string{"bedrock:", "sagemaker:", "dynamodb:", "secretsmanager:", "s3:", "events:", "cognito-idp:", "kms:Encrypt", "kms:GenerateDataKey"}},
		}
		if cfg.IsEntra() {
			// No Cognito, so no trigger: its function must be gone, not merely unchecked.
			tests = tests[:len(tests)-1]
			_, fns := s.mainJSON.ofType("AWS::Lambda::Function")
			for _, f := range fns {
				if f.Properties["FunctionName"] == cfg.Name("pretoken") {
					t.Error("the Cognito pre token generation trigger is deployed without Cognito")
				}
			}
		}
		for _, tt := range tests {
			t.Run(tt.fn, func(t *testing.T) {
				name := cfg.Name(tt.fn)
				role, stmts := s.mainJSON.roleStatements(t, s.mainJSON.function(t, name))
				if m := role.Properties["ManagedPolicyArns"]; m != nil {
					t.Errorf("role has managed policies %v", m)
				}
				if len(stmts) == 0 {
					t.Fatal("role has no statements")
				}
				sawLogs := false
				for _, st := range stmts {
					for _, a := range st.Actions {
						if strings.Contains(a, "*") {
							t.Errorf("%s: wildcard action %s", st.Sid, a)
						}
						for _, p := range tt.absent {
							if strings.HasPrefix(a, p) {
								t.Errorf("%s: action %s must not be granted to %s", st.Sid, a, tt.fn)
							}
						}
					}
					// Every data and model grant is one of the wanted statements, checked
					// exactly below: nothing else reaches a table, bucket, bus or model.
					if _, wanted := tt.want[st.Sid]; !wanted && slices.ContainsFunc(st.Actions, func(a string) bool {
						return slices.ContainsFunc([]string{"dynamodb:", "s3:", "events:", "bedrock:", "sagemaker:"}, func(p string) bool { return strings.HasPrefix(a, p) })
					}) {
						t.Errorf("%s: unexpected grant %v on %v", st.Sid, st.Actions, strList(st.Resources))
					}
					for _, r := range st.Resources {
						str, isString := r.(string)
						if isString && str == "*" {
							t.Errorf("%s: resource \"*\"", st.Sid)
						}
						if isString && tt.fn == "inference" && st.Sid == "ReadWriteAttachments" && str == bucket+"/*" {
							continue // the attachment objects (a suppression with its reason in nag.go)
						}
						if isString && strings.Contains(str, "*") {
							if !logStreamsRE.MatchString(str) || str != fmt.Sprintf("arn:aws:logs:%s:%s:log-group:/aws/lambda/%s:log-stream:*", cfg.Region, cfg.Account, name) {
								t.Errorf("%s: wildcard resource %s", st.Sid, str)
							}
							sawLogs = true
						}
					}
				}
				if !sawLogs {
					t.Error("the role cannot write its own log streams")
				}
				for sid, g := range tt.want {
					i := slices.IndexFunc(stmts, func(st statement) bool { return st.Sid == sid })
					if i < 0 {
						t.Errorf("no statement %s", sid)
						continue
					}
					st := stmts[i]
					if !sameSet(st.Actions, g.actions) {
						t.Errorf("%s actions = %v, want %v", sid, st.Actions, g.actions)
					}
					if got := leadingKeysOf(t, st); !sameSet(got, g.leading) || (g.leading == nil) != (st.Condition == nil) {
						t.Errorf("%s condition = %v, want dynamodb:LeadingKeys %v", sid, st.Condition, g.leading)
					}
					got := strList(st.Resources)
					if slices.Equal(g.resources, []string{"<key>"}) && len(got) == 1 && s.isKeyARN(st.Resources[0]) {
						continue
					}
					if !sameSet(got, g.resources) {
						t.Errorf("%s resources =\n%s\nwant\n%s", sid, strings.Join(got, "\n"), strings.Join(g.resources, "\n"))
					}
				}
			})
		}
	}
}

// leadingKeysOf returns the partitions a statement's condition limits it to: the values of
// its only condition, ForAllValues:StringLike on dynamodb:LeadingKeys (nil without a
// condition; a test failure for any other condition).
func leadingKeysOf(t *testing.T, st statement) []string {
	t.Helper()
	if st.Condition == nil {
		return nil
	}
	op, ok := st.Condition["ForAllValues:StringLike"].(map[string]any)
	if len(st.Condition) != 1 || !ok || len(op) != 1 || op["dynamodb:LeadingKeys"] == nil {
		t.Errorf("%s: condition %v is not ForAllValues:StringLike on dynamodb:LeadingKeys alone", st.Sid, st.Condition)
		return nil
	}
	return strList(op["dynamodb:LeadingKeys"])
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestCatalogARNs pins, in the synthesized prod inference role, how the catalog's models run
// in us-west-2: Nova through the US inference profile (the profile and the model in every
// routing region), Haiku on demand, and no grant for a region the model does not run in.
func TestCatalogARNs(t *testing.T) {
	s := envs["prod"]
	_, stmts := s.mainJSON.roleStatements(t, s.mainJSON.function(t, s.cfg.Name("inference")))
	var arns []string
	for _, st := range stmts {
		if st.Sid == "InvokeCatalogModels" {
			arns = strList(st.Resources)
		}
	}
	for _, want := range []string{
		"arn:aws:bedrock:us-west-2:222222222222:inference-profile/us.anthropic.claude-sonnet-4-20250514-v1:0",
		"arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-20250514-v1:0",
		"arn:aws:bedrock:us-east-2::foundation-model/anthropic.claude-sonnet-4-20250514-v1:0",
		"arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-sonnet-4-20250514-v1:0",
		"arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0",
		"arn:aws:bedrock:us-west-2:222222222222:inference-profile/us.amazon.nova-lite-v1:0",
		"arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0",
		"arn:aws:bedrock:us-east-2::foundation-model/amazon.nova-lite-v1:0",
		"arn:aws:bedrock:us-west-2::foundation-model/amazon.nova-lite-v1:0",
	} {
		if !slices.Contains(arns, want) {
			t.Errorf("inference role lacks %s", want)
		}
	}
	for _, a := range arns {
		if strings.Contains(a, "jamba") || strings.Contains(a, "eu-") {
			t.Errorf("inference role grants %s, which prod cannot or need not call", a)
		}
	}
	env := envOf(t, s, "inference")
	if env["PORTICO_CATALOG_FILE"] != LayerCatalogPath {
		t.Errorf("PORTICO_CATALOG_FILE = %v, want the deployed catalog %s", env["PORTICO_CATALOG_FILE"], LayerCatalogPath)
	}
}

// TestServicesArtifact checks the services' one artifact: the three service functions deploy
// the same build/lambda/portico-services bundle, each with its own role, PORTICO_SERVICE
// picking the service and the DynamoDB store (Lambda builds have no SQLite).
func TestServicesArtifact(t *testing.T) {
	eachEnv(t, func(t *testing.T, s *synthesized) {
		cfg := s.cfg
		code := func(fn string) string {
			c, _ := json.Marshal(s.mainJSON.function(t, cfg.Name(fn)).Properties["Code"])
			return string(c)
		}
		services := code("identity")
		if !strings.Contains(services, ".zip") {
			t.Fatalf("identity code %s is not an asset", services)
		}
		for _, fn := range []string{"inference", "admin", "apikey"} {
			if got := code(fn); got != services {
				t.Errorf("%s code %s, want the services artifact %s", fn, got, services)
			}
		}
		for _, fn := range []string{"authorizer", "bff"} {
			if code(fn) == services {
				t.Errorf("%s deploys the services artifact", fn)
			}
		}
		roles := map[string]string{}
		for _, fn := range []string{"identity", "inference", "admin", "apikey"} {
			p := s.mainJSON.function(t, cfg.Name(fn)).Properties
			role := getAttID(p["Role"])
			if other, dup := roles[role]; dup {
				t.Errorf("%s shares its role with %s", fn, other)
			}
			roles[role] = fn
			env := p["Environment"].(map[string]any)["Variables"].(map[string]any)
			want := map[string]any{"PORTICO_SERVICE": fn, "PORTICO_STORE": "dynamodb:" + cfg.Name("ledger"), "PORTICO_LAMBDA_EVENT": "api-gateway"}
			for k, v := range want {
				if env[k] != v {
					t.Errorf("%s: %s = %v, want %v", fn, k, env[k], v)
				}
			}
		}
		// Each Connect service path routes to its own function.
		fnID := map[string]string{}
		for id, r := range s.mainJSON.Resources {
			if r.Type == "AWS::Lambda::Function" {
				fnID[fmt.Sprint(r.Properties["FunctionName"])] = id
			}
		}
		routes := map[string]string{}
		ids, methods := s.mainJSON.ofType("AWS::ApiGateway::Method")
		for i, m := range methods {
			if m.Properties["HttpMethod"] == "OPTIONS" {
				continue
			}
			path := fmt.Sprint(m.Properties["HttpMethod"], " ", s.mainJSON.resourcePath(getAttID(m.Properties["ResourceId"])))
			uri, _ := json.Marshal(m.Properties["Integration"].(map[string]any)["Uri"])
			for name, id := range fnID {
				if strings.Contains(string(uri), `"`+id+`"`) {
					if prev, ok := routes[path]; ok && prev != name {
						t.Errorf("%s: %s routes to %s and %s", ids[i], path, prev, name)
					}
					routes[path] = name
				}
			}
		}
		// Conversations and the OpenAI-compatible endpoint are the inference function's (it
		// holds their stores); the API keys' service has its own function.
		want := map[string]string{}
		for svc, fn := range map[string]string{
			"portico.identity.v1.IdentityService":         "identity",
			"portico.inference.v1.InferenceService":       "inference",
			"portico.admin.v1.AdminService":               "admin",
			"portico.conversation.v1.ConversationService": "inference",
			"portico.apikey.v1.ApiKeyService":             "apikey",
		} {
			for _, verb := range []string{"GET", "POST"} {
				want[verb+" /"+svc+"/{method}"] = cfg.Name(fn)
			}
		}
		want["GET /v1/models"] = cfg.Name("inference")
		want["POST /v1/chat/completions"] = cfg.Name("inference")
		if fmt.Sprint(routes) != fmt.Sprint(want) {
			t.Errorf("routes %v, want %v", routes, want)
		}
	})
}

func TestLambdas(t *testing.T) {
	eachEnv(t, func(t *testing.T, s *synthesized) {
		cfg := s.cfg
		for fn, service := range map[string]string{"identity": "identity", "inference": "inference", "admin": "admin", "authorizer": "", "bff": ""} {
			f := s.mainJSON.function(t, cfg.Name(fn))
			p := f.Properties
			if p["Runtime"] != "provided.al2023" || p["Handler"] != "bootstrap" || fmt.Sprint(p["Architectures"]) != "[arm64]" {
				t.Errorf("%s: runtime %v handler %v architectures %v", fn, p["Runtime"], p["Handler"], p["Architectures"])
			}
			if p["KmsKeyArn"] == nil {
				t.Errorf("%s: environment not encrypted with the key", fn)
			}
			lc, _ := p["LoggingConfig"].(map[string]any)
			if lc["LogGroup"] == nil {
				t.Errorf("%s: no explicit log group", fn)
			}
			env := p["Environment"].(map[string]any)["Variables"].(map[string]any)
			if service != "" {
				if env["PORTICO_SERVICE"] != service || env["PORTICO_LAMBDA_EVENT"] != "api-gateway" || env["PORTICO_STORE"] != "dynamodb:"+cfg.Name("ledger") {
					t.Errorf("%s: environment %v", fn, env)
				}
			}
			if fn == "bff" {
				for _, k := range []string{"PORTICO_OIDC_CLIENT_SECRET_ARN", "PORTICO_COOKIE_KEYS_ARN", "PORTICO_SERVICES_URL", "PORTICO_OIDC_ISSUER", "PORTICO_OIDC_CLIENT_ID"} {
					if env[k] == nil {
						t.Errorf("bff: %s unset", k)
					}
				}
				if env["PORTICO_PUBLIC_URL"] != cfg.PublicURL() || env["PORTICO_COOKIE_KEYS"] != nil || env["PORTICO_OIDC_CLIENT_SECRET"] != nil {
					t.Errorf("bff: secrets or public URL wrong in the environment: %v", env)
				}
			}
			if env["PORTICO_ENV"] != EnvProduction {
				t.Errorf("%s: PORTICO_ENV = %v, want %s", fn, env["PORTICO_ENV"], EnvProduction)
			}
		}
	})
}

func TestLogGroupsRetainedAndEncrypted(t *testing.T) {
	eachEnv(t, func(t *testing.T, s *synthesized) {
		ids, groups := s.mainJSON.ofType("AWS::Logs::LogGroup")
		if len(groups) < 7 {
			t.Fatalf("%d log groups, want one per function and the access log", len(groups))
		}
		for i, g := range groups {
			if fmt.Sprint(g.Properties["RetentionInDays"]) != fmt.Sprint(s.cfg.LogRetentionDays) {
				t.Errorf("%s: retention %v, want %d", ids[i], g.Properties["RetentionInDays"], s.cfg.LogRetentionDays)
			}
			if g.Properties["KmsKeyId"] == nil {
				t.Errorf("%s: not KMS-encrypted", ids[i])
			}
		}
	})
}

func TestData(t *testing.T) {
	eachEnv(t, func(t *testing.T, s *synthesized) {
		must(t, "table", func() {
			s.main.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), map[string]any{
				"TableName":                        s.cfg.Name("ledger"),
				"BillingMode":                      "PAY_PER_REQUEST",
				"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
				"SSESpecification":                 map[string]any{"SSEEnabled": true, "SSEType": "KMS", "KMSMasterKeyId": assertions.Match_AnyValue()},
				"DeletionProtectionEnabled":        s.cfg.Protect,
				"TimeToLiveSpecification":          map[string]any{"AttributeName": "ttl", "Enabled": true},
				"KeySchema":                        []any{map[string]any{"AttributeName": "PK", "KeyType": "HASH"}, map[string]any{"AttributeName": "SK", "KeyType": "RANGE"}},
			})
		})
		must(t, "key rotation", func() {
			s.main.HasResourceProperties(jsii.String("AWS::KMS::Key"), map[string]any{"EnableKeyRotation": true})
		})
		want := map[string]any{"DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete"}
		if s.cfg.Protect {
			want = map[string]any{"DeletionPolicy": "RetainExceptOnCreate", "UpdateReplacePolicy": "Retain"}
		}
		must(t, "table removal policy", func() {
			s.main.HasResource(jsii.String("AWS::DynamoDB::Table"), want)
		})
	})
	if !envs["prod"].cfg.Protect {
		t.Fatal("prod must be protected")
	}
}

func TestIdentity(t *testing.T) {
	eachCognitoEnv(t, func(t *testing.T, s *synthesized) {
		cfg := s.cfg
		pool := map[string]any{
			"AdminCreateUserConfig": map[string]any{"AllowAdminCreateUserOnly": true},
			"MfaConfiguration":      "ON",
			"Policies": map[string]any{"PasswordPolicy": assertions.Match_ObjectLike(&map[string]any{
				"MinimumLength": 14, "RequireLowercase": true, "RequireUppercase": true, "RequireNumbers": true, "RequireSymbols": true,
			})},
			"DeletionProtection": map[bool]string{true: "ACTIVE", false: "INACTIVE"}[cfg.Protect],
		}
		if cfg.Identity.ThreatProtection {
			pool["UserPoolTier"] = "PLUS"
			pool["UserPoolAddOns"] = map[string]any{"AdvancedSecurityMode": "ENFORCED"}
		}
		must(t, "user pool", func() { s.main.HasResourceProperties(jsii.String("AWS::Cognito::UserPool"), pool) })
		must(t, "Entra SAML", func() {
			s.main.HasResourceProperties(jsii.String("AWS::Cognito::UserPoolIdentityProvider"), map[string]any{
				"ProviderName":    EntraProviderName,
				"ProviderType":    "SAML",
				"ProviderDetails": assertions.Match_ObjectLike(&map[string]any{"MetadataURL": cfg.Identity.EntraMetadataURL}),
				"AttributeMapping": map[string]any{
					"email": claimEmail, "given_name": claimGivenName, "family_name": claimSurname,
					"custom:department": claimDepartment, "custom:groups": claimGroups,
				},
			})
		})
		// The groups are configuration: exactly identity.groups, with their descriptions.
		_, groups := s.mainJSON.ofType("AWS::Cognito::UserPoolGroup")
		var got, want []string
		for _, g := range groups {
			desc, _ := g.Properties["Description"].(string)
			got = append(got, fmt.Sprint(g.Properties["GroupName"], ": ", desc))
		}
		for _, g := range cfg.Identity.Groups {
			want = append(want, g.Name+": "+g.Description)
		}
		if !sameSet(got, want) {
			t.Errorf("Cognito groups %v, want %v", got, want)
		}
		must(t, "resource server", func() {
			s.main.HasResourceProperties(jsii.String("AWS::Cognito::UserPoolResourceServer"), map[string]any{
				"Identifier": "portico",
				"Scopes": []any{
					map[string]any{"ScopeName": "inference", "ScopeDescription": assertions.Match_AnyValue()},
					map[string]any{"ScopeName": "identity", "ScopeDescription": assertions.Match_AnyValue()},
				},
			})
		})
		minutes := cfg.Identity.AccessTokenTTL.Minutes()
		must(t, "web client", func() {
			s.main.HasResourceProperties(jsii.String("AWS::Cognito::UserPoolClient"), map[string]any{
				"ClientName":                      cfg.Name("web"),
				"GenerateSecret":                  true,
				"AllowedOAuthFlows":               []any{"code"},
				"AllowedOAuthFlowsUserPoolClient": true,
				"CallbackURLs":                    []any{cfg.PublicURL() + "/auth/callback"},
				"LogoutURLs":                      []any{cfg.PublicURL() + "/"},
				"ExplicitAuthFlows":               []any{"ALLOW_REFRESH_TOKEN_AUTH"},
				"AccessTokenValidity":             minutes,
				"IdTokenValidity":                 minutes,
				"RefreshTokenValidity":            cfg.Identity.RefreshTokenTTL.Minutes(),
				"TokenValidityUnits":              map[string]any{"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "minutes"},
				"EnableTokenRevocation":           true,
				"PreventUserExistenceErrors":      "ENABLED",
			})
		})
		must(t, "machine client", func() {
			s.main.HasResourceProperties(jsii.String("AWS::Cognito::UserPoolClient"), map[string]any{
				"ClientName":        cfg.Name("machine"),
				"GenerateSecret":    true,
				"AllowedOAuthFlows": []any{"client_credentials"},
				"ExplicitAuthFlows": []any{"ALLOW_REFRESH_TOKEN_AUTH"},
				"AllowedOAuthScopes": []any{
					map[string]any{"Fn::Join": []any{"", []any{map[string]any{"Ref": assertions.Match_AnyValue()}, "/inference"}}},
					map[string]any{"Fn::Join": []any{"", []any{map[string]any{"Ref": assertions.Match_AnyValue()}, "/identity"}}},
				},
			})
		})
		// The client secrets come from the ClientSecret attribute: never in the template.
		_, secrets := s.mainJSON.ofType("AWS::SecretsManager::Secret")
		fromAttr := 0
		for _, sec := range secrets {
			if v, ok := sec.Properties["SecretString"].(map[string]any); ok {
				if ga, ok := v["Fn::GetAtt"].([]any); ok && ga[1] == "ClientSecret" {
					fromAttr++
				}
			}
			if sec.Properties["KmsKeyId"] == nil {
				t.Errorf("secret %v not encrypted with the key", sec.Properties["Name"])
			}
		}
		if fromAttr != 2 {
			t.Errorf("%d secrets hold an app client's ClientSecret attribute, want 2", fromAttr)
		}
		must(t, "pre token generation trigger", func() {
			s.main.HasResourceProperties(jsii.String("AWS::Cognito::UserPool"), map[string]any{
				"LambdaConfig": map[string]any{"PreTokenGenerationConfig": map[string]any{"LambdaArn": assertions.Match_AnyValue(), "LambdaVersion": "V2_0"}},
			})
		})
	})
}

func TestAPI(t *testing.T) {
	eachEnv(t, func(t *testing.T, s *synthesized) {
		cfg := s.cfg
		must(t, "regional", func() {
			s.main.HasResourceProperties(jsii.String("AWS::ApiGateway::RestApi"), map[string]any{
				"EndpointConfiguration": map[string]any{"Types": []any{"REGIONAL"}},
				// Binary request bodies arrive base64-encoded; JSON ones stay text (no "*/*").
				"BinaryMediaTypes": assertions.Match_ArrayWith(&[]any{"application/proto", "application/connect+proto", "application/grpc-web", "application/grpc-web+proto"}),
			})
		})
		must(t, "stage", func() {
			s.main.HasResourceProperties(jsii.String("AWS::ApiGateway::Stage"), map[string]any{
				"StageName": StageName,
				"MethodSettings": []any{map[string]any{
					"HttpMethod": "*", "ResourcePath": "/*",
					"DataTraceEnabled": false, "MetricsEnabled": true, "LoggingLevel": "ERROR",
					"ThrottlingRateLimit": cfg.API.ThrottleRate, "ThrottlingBurstLimit": cfg.API.ThrottleBurst,
				}},
				"AccessLogSetting": map[string]any{"DestinationArn": assertions.Match_AnyValue(), "Format": accessLogFormat},
			})
		})
		_, rests := s.mainJSON.ofType("AWS::ApiGateway::RestApi")
		if types := strList(rests[0].Properties["BinaryMediaTypes"]); slices.Contains(types, "*/*") {
			t.Errorf("binary media types %v: */* would base64 JSON requests too", types)
		}
		var fields map[string]string
		if err := json.Unmarshal([]byte(accessLogFormat), &fields); err != nil || fields["requestId"] == "" || fields["status"] == "" {
			t.Errorf("access log format is not the JSON it claims: %v", err)
		}
		// Every service method: the Lambda authorizer and a streamed proxy integration.
		ids, methods := s.mainJSON.ofType("AWS::ApiGateway::Method")
		services := 0
		for i, m := range methods {
			p := m.Properties
			integ, _ := p["Integration"].(map[string]any)
			if p["HttpMethod"] == "OPTIONS" {
				// CORS preflight: exact origins, never "*".
				for _, ir := range integ["IntegrationResponses"].([]any) {
					origin := ir.(map[string]any)["ResponseParameters"].(map[string]any)["method.response.header.Access-Control-Allow-Origin"]
					if origin != "'"+cfg.API.AllowedOrigins[0]+"'" {
						t.Errorf("%s: CORS origin %v", ids[i], origin)
					}
				}
				continue
			}
			services++
			uri, _ := json.Marshal(integ["Uri"])
			if p["AuthorizationType"] != "CUSTOM" || p["AuthorizerId"] == nil {
				t.Errorf("%s: not behind the Lambda authorizer", ids[i])
			}
			if integ["Type"] != "AWS_PROXY" || integ["ResponseTransferMode"] != "STREAM" || !strings.Contains(string(uri), "response-streaming-invocations") {
				t.Errorf("%s: integration is not a streamed Lambda proxy: %v", ids[i], integ)
			}
			if fmt.Sprint(integ["TimeoutInMillis"]) != "900000" {
				t.Errorf("%s: timeout %v", ids[i], integ["TimeoutInMillis"])
			}
		}
		if services != 12 {
			t.Errorf("%d service methods, want GET and POST for five services, GET /v1/models and POST /v1/chat/completions", services)
		}
		// One REQUEST authorizer whose only identity source is the Authorization header, in
		// front of every service method.
		authIDs, authorizers := s.mainJSON.ofType("AWS::ApiGateway::Authorizer")
		if len(authorizers) != 1 {
			t.Fatalf("%d authorizers, want 1", len(authorizers))
		}
		ap := authorizers[0].Properties
		if ap["Type"] != "REQUEST" || ap["IdentitySource"] != "method.request.header.Authorization" || fmt.Sprint(ap["AuthorizerResultTtlInSeconds"]) != fmt.Sprint(cfg.API.AuthorizerCacheTTL.Seconds()) {
			t.Errorf("authorizer %v: want REQUEST on method.request.header.Authorization with the configured cache", ap)
		}
		for i, m := range methods {
			if m.Properties["HttpMethod"] != "OPTIONS" && getAttID(m.Properties["AuthorizerId"]) != authIDs[0] {
				t.Errorf("%s: authorizer %v, want %s", ids[i], m.Properties["AuthorizerId"], authIDs[0])
			}
		}
	})
}

// TestGatewayResponses checks that API Gateway's own refusals are Connect errors with precise
// codes: 503 unavailable (with Retry-After) while the authorizer cannot verify tokens, 401
// unauthenticated, 403 permission_denied.
func TestGatewayResponses(t *testing.T) {
	eachEnv(t, func(t *testing.T, s *synthesized) {
		_, responses := s.mainJSON.ofType("AWS::ApiGateway::GatewayResponse")
		byType := map[string]resource{}
		for _, r := range responses {
			byType[fmt.Sprint(r.Properties["ResponseType"])] = r
		}
		tests := []struct {
			kind, status, code string
			retryAfter         bool
		}{
			{"AUTHORIZER_FAILURE", "503", "unavailable", true},
			{"AUTHORIZER_CONFIGURATION_ERROR", "503", "unavailable", true},
			{"UNAUTHORIZED", "401", "unauthenticated", false},
			{"ACCESS_DENIED", "403", "permission_denied", false},
		}
		for _, tt := range tests {
			r, ok := byType[tt.kind]
			if !ok {
				t.Errorf("no gateway response %s", tt.kind)
				continue
			}
			p := r.Properties
			if p["StatusCode"] != tt.status {
				t.Errorf("%s: status %v, want %s", tt.kind, p["StatusCode"], tt.status)
			}
			params, _ := p["ResponseParameters"].(map[string]any)
			if params["gatewayresponse.header.Content-Type"] != "'application/json'" {
				t.Errorf("%s: content type %v", tt.kind, params["gatewayresponse.header.Content-Type"])
			}
			if got, want := params["gatewayresponse.header.Retry-After"], fmt.Sprintf("'%d'", RetryAfterSeconds); tt.retryAfter != (got == want) || (!tt.retryAfter && got != nil) {
				t.Errorf("%s: Retry-After %v (want it: %v)", tt.kind, got, tt.retryAfter)
			}
			templates, _ := p["ResponseTemplates"].(map[string]any)
			body, _ := templates["application/json"].(string)
			var e map[string]string
			if err := json.Unmarshal([]byte(body), &e); err != nil || e["code"] != tt.code || e["message"] == "" || len(e) != 2 {
				t.Errorf("%s: body %q is not a Connect %s error (%v)", tt.kind, body, tt.code, err)
			}
		}
	})
}

// wafRules returns the rule names and the managed rule groups of a web ACL resource.
func wafRules(acl resource) (names, groups []string, rate bool) {
	for _, r := range acl.Properties["Rules"].([]any) {
		rule := r.(map[string]any)
		names = append(names, rule["Name"].(string))
		st := rule["Statement"].(map[string]any)
		if mg, ok := st["ManagedRuleGroupStatement"].(map[string]any); ok {
			groups = append(groups, mg["Name"].(string))
		}
		if _, ok := st["RateBasedStatement"]; ok {
			rate = true
		}
	}
	return names, groups, rate
}

func TestWAF(t *testing.T) {
	wantGroups := []string{"AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesSQLiRuleSet"}
	eachEnv(t, func(t *testing.T, s *synthesized) {
		for _, c := range []struct {
			where string
			tmpl  template
			scope string
			geo   bool
		}{
			{"regional", s.mainJSON, "REGIONAL", len(s.cfg.API.AllowedCountries) > 0},
			{"edge", s.edgeJSON, "CLOUDFRONT", len(s.cfg.Web.AllowedCountries) > 0},
		} {
			ids, acls := c.tmpl.ofType("AWS::WAFv2::WebACL")
			if len(acls) != 1 {
				t.Fatalf("%s: %d web ACLs", c.where, len(acls))
			}
			acl := acls[0]
			if acl.Properties["Scope"] != c.scope {
				t.Errorf("%s: scope %v", c.where, acl.Properties["Scope"])
			}
			names, groups, rate := wafRules(acl)
			if !sameSet(groups, wantGroups) || !rate {
				t.Errorf("%s: managed groups %v, rate rule %v", c.where, groups, rate)
			}
			if slices.Contains(names, "BlockOutsideCountries") != c.geo {
				t.Errorf("%s: geo rule present = %v, want %v", c.where, !c.geo, c.geo)
			}
			if c.scope == "REGIONAL" {
				_, assoc := c.tmpl.ofType("AWS::WAFv2::WebACLAssociation")
				if len(assoc) != 1 || getAttID(assoc[0].Properties["WebACLArn"]) != ids[0] {
					t.Errorf("regional web ACL not associated with the stage: %v", assoc)
				}
			}
		}
		// The distribution uses the edge web ACL (an import, or a cross-region reference).
		_, dists := s.mainJSON.ofType("AWS::CloudFront::Distribution")
		b, _ := json.Marshal(dists[0].Properties["DistributionConfig"].(map[string]any)["WebACLId"])
		if !strings.Contains(string(b), "WebAcl") {
			t.Errorf("distribution web ACL = %s", b)
		}
	})
}

// TestWebACLOptionalRules synthesises a bare web ACL with the optional geo and IP rules.
func TestWebACLOptionalRules(t *testing.T) {
	app := awscdk.NewApp(nil)
	st := awscdk.NewStack(app, jsii.String("AclTest"), &awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("us-east-1")}})
	newWebACL(st, "Acl", webACLProps{name: "t", scope: "REGIONAL", rateLimit: 100, callerKey: callerKey{header: "Authorization"}, ipRateLimit: 1000,
		countries: []string{"DE"}, ipAllow: []string{"192.0.2.0/24"}, chatPaths: APIChatPaths(), bodyRules: "block"})
	tmpl, err := toTemplate(assertions.Template_FromStack(st, nil))
	if err != nil {
		t.Fatal(err)
	}
	_, acls := tmpl.ofType("AWS::WAFv2::WebACL")
	names, _, _ := wafRules(acls[0])
	if want := []string{"BlockOutsideAllowList", "BlockOutsideCountries", "RateLimitPerCaller", "FloodGuardPerIp"}; !slices.Equal(names[:4], want) {
		t.Errorf("first rules = %v, want %v", names, want)
	}
	_, sets := tmpl.ofType("AWS::WAFv2::IPSet")
	if len(sets) != 1 || fmt.Sprint(sets[0].Properties["Addresses"]) != "[192.0.2.0/24]" {
		t.Errorf("IP sets = %v", sets)
	}
}

func TestWeb(t *testing.T) {
	eachEnv(t, func(t *testing.T, s *synthesized) {
		cfg := s.cfg
		_, dists := s.mainJSON.ofType("AWS::CloudFront::Distribution")
		d := dists[0].Properties["DistributionConfig"].(map[string]any)
		vc := d["ViewerCertificate"].(map[string]any)
		if vc["MinimumProtocolVersion"] != "TLSv1.2_2021" || vc["SslSupportMethod"] != "sni-only" || vc["AcmCertificateArn"] != cfg.Web.CertificateARN {
			t.Errorf("viewer certificate %v", vc)
		}
		if fmt.Sprint(d["Aliases"]) != "["+cfg.Web.Domain+"]" || d["Logging"] == nil {
			t.Errorf("aliases %v, logging %v", d["Aliases"], d["Logging"])
		}
		for _, o := range d["Origins"].([]any) {
			if o.(map[string]any)["OriginAccessControlId"] == nil {
				t.Errorf("origin without origin access control: %v", o)
			}
		}
		behaviors := map[string]map[string]any{}
		for _, b := range d["CacheBehaviors"].([]any) {
			bm := b.(map[string]any)
			behaviors[bm["PathPattern"].(string)] = bm
		}
		for _, path := range []string{"/auth/*", "/api/*"} {
			b := behaviors[path]
			if b == nil {
				t.Errorf("no behaviour for %s", path)
				continue
			}
			if len(b["AllowedMethods"].([]any)) != 7 || b["CachePolicyId"] != "4135ea2d-6df8-44a3-9df3-4b5a84be39ad" || b["OriginRequestPolicyId"] == nil || b["ResponseHeadersPolicyId"] == nil {
				t.Errorf("%s: behaviour %v (want all methods, CachingDisabled, origin request and headers policies)", path, b)
			}
		}
		def := d["DefaultCacheBehavior"].(map[string]any)
		if def["CachePolicyId"] != "658327ea-f89d-4fab-a63d-7e88639e58f6" || def["ViewerProtocolPolicy"] != "redirect-to-https" {
			t.Errorf("default behaviour %v (want CachingOptimized)", def)
		}
		must(t, "origin request policy", func() {
			s.main.HasResourceProperties(jsii.String("AWS::CloudFront::OriginRequestPolicy"), map[string]any{
				"OriginRequestPolicyConfig": assertions.Match_ObjectLike(&map[string]any{
					"HeadersConfig":      map[string]any{"HeaderBehavior": "whitelist", "Headers": toAny(BFFOriginHeaders)},
					"CookiesConfig":      map[string]any{"CookieBehavior": "all"},
					"QueryStringsConfig": map[string]any{"QueryStringBehavior": "all"},
				}),
			})
		})
		must(t, "function URL", func() {
			s.main.HasResourceProperties(jsii.String("AWS::Lambda::Url"), map[string]any{"AuthType": "AWS_IAM", "InvokeMode": "RESPONSE_STREAM"})
		})
		must(t, "lambda OAC", func() {
			s.main.HasResourceProperties(jsii.String("AWS::CloudFront::OriginAccessControl"), map[string]any{
				"OriginAccessControlConfig": assertions.Match_ObjectLike(&map[string]any{"OriginAccessControlOriginType": "lambda", "SigningBehavior": "always"}),
			})
		})
		must(t, "invoke via URL", func() {
			s.main.HasResourceProperties(jsii.String("AWS::Lambda::Permission"), map[string]any{
				"Action": "lambda:InvokeFunction", "Principal": "cloudfront.amazonaws.com", "InvokedViaFunctionUrl": true,
			})
		})
		must(t, "security headers", func() {
			s.main.HasResourceProperties(jsii.String("AWS::CloudFront::ResponseHeadersPolicy"), map[string]any{
				"ResponseHeadersPolicyConfig": assertions.Match_ObjectLike(&map[string]any{
					"SecurityHeadersConfig": map[string]any{
						"ContentSecurityPolicy":   map[string]any{"ContentSecurityPolicy": ContentSecurityPolicy(FormActionOrigin(cfg)), "Override": true},
						"StrictTransportSecurity": map[string]any{"AccessControlMaxAgeSec": 63072000, "IncludeSubdomains": true, "Override": true},
						"FrameOptions":            map[string]any{"FrameOption": "DENY", "Override": true},
						"ContentTypeOptions":      map[string]any{"Override": true},
						"ReferrerPolicy":          map[string]any{"ReferrerPolicy": "no-referrer", "Override": true},
					},
				}),
			})
		})
		// Buckets: private, encrypted, TLS-only.
		ids, buckets := s.mainJSON.ofType("AWS::S3::Bucket")
		for i, b := range buckets {
			pab, _ := json.Marshal(b.Properties["PublicAccessBlockConfiguration"])
			if string(pab) != `{"BlockPublicAcls":true,"BlockPublicPolicy":true,"IgnorePublicAcls":true,"RestrictPublicBuckets":true}` || b.Properties["BucketEncryption"] == nil {
				t.Errorf("%s: public access block %s, encryption %v", ids[i], pab, b.Properties["BucketEncryption"])
			}
		}
		_, policies := s.mainJSON.ofType("AWS::S3::BucketPolicy")
		tlsOnly := 0
		for _, p := range policies {
			b, _ := json.Marshal(p.Properties["PolicyDocument"])
			if strings.Contains(string(b), `"aws:SecureTransport":"false"`) {
				tlsOnly++
			}
		}
		if tlsOnly != len(buckets) {
			t.Errorf("%d of %d buckets deny plain HTTP", tlsOnly, len(buckets))
		}
	})
}

func TestOperations(t *testing.T) {
	eachEnv(t, func(t *testing.T, s *synthesized) {
		_, alarms := s.mainJSON.ofType("AWS::CloudWatch::Alarm")
		seen := map[string]bool{}
		for _, a := range alarms {
			seen[fmt.Sprint(a.Properties["Namespace"], "/", a.Properties["MetricName"])] = true
			if a.Properties["AlarmName"] == s.cfg.Name("bedrock-throttles") {
				// The Metrics Insights query over the dimension set the services emit.
				q, _ := json.Marshal(a.Properties["Metrics"])
				if a.Properties["MetricName"] != nil || !strings.Contains(string(q), `"Expression":"`+UpstreamThrottlesQuery+`"`) || !strings.Contains(string(q), `"Period":300`) {
					t.Errorf("throttle alarm %v, want the query %s over 5 minutes", a.Properties, UpstreamThrottlesQuery)
				}
				seen["Portico/"+MetricUpstreamThrottles] = true
			}
			if a.Properties["AlarmActions"] == nil {
				t.Errorf("alarm %v notifies nobody", a.Properties["AlarmName"])
			}
		}
		for _, want := range []string{"AWS/ApiGateway/5XXError", "AWS/Lambda/Errors", "AWS/Lambda/Throttles", "Portico/" + MetricAuthorizerDenials, "Portico/" + MetricUpstreamThrottles} {
			if !seen[want] {
				t.Errorf("no alarm on %s (have %v)", want, seen)
			}
		}
		must(t, "denials metric filter", func() {
			s.main.HasResourceProperties(jsii.String("AWS::Logs::MetricFilter"), map[string]any{
				"MetricTransformations": []any{assertions.Match_ObjectLike(&map[string]any{"MetricNamespace": "Portico", "MetricName": MetricAuthorizerDenials})},
			})
		})
		must(t, "dashboard", func() { s.main.ResourceCountIs(jsii.String("AWS::CloudWatch::Dashboard"), jsii.Number(1)) })
		must(t, "alarm e-mail", func() {
			s.main.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), map[string]any{"Protocol": "email", "Endpoint": s.cfg.AlarmEmail})
		})
	})
}

// TestUpstreamThrottlesMatchesEMF reads the services' EMF recorder and checks the alarm's
// query selects a dimension set it emits, in its namespace, with its metric name.
func TestUpstreamThrottlesMatchesEMF(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../../services/metering/emf.go")
	if os.IsNotExist(err) {
		t.Skip("services/metering not checked out next to infra/")
	}
	if err != nil {
		t.Fatal(err)
	}
	code := string(src)
	dims := regexp.MustCompile(`Dimensions:\s*\[\]\[\]string\{(.*)\}`).FindStringSubmatch(code)
	if dims == nil {
		t.Fatal("emf.go: no Dimensions literal found; update this test with the recorder")
	}
	if !strings.Contains(dims[1], `{"Model"}`) {
		t.Errorf("emf.go emits dimension sets %s, the alarm queries SCHEMA(%s, Model)", dims[1], MetricNamespace)
	}
	if !strings.Contains(code, `EMFNamespace = "`+MetricNamespace+`"`) || !strings.Contains(code, `"`+MetricUpstreamThrottles+`"`) {
		t.Errorf("emf.go no longer emits %s/%s", MetricNamespace, MetricUpstreamThrottles)
	}
}

// TestBFFSecrets checks the BFF finds both secrets by ARN in its environment and may read
// exactly those two.
// TestBFFSecrets checks that the BFF reads exactly two secrets, its client secret and its
// cookie keys, and only by GetSecretValue: with Cognito both are secrets of the stack; with
// Entra ID directly the client secret is the operator's (identity.entra.clientSecretArn).
func TestBFFSecrets(t *testing.T) {
	eachEnv(t, func(t *testing.T, s *synthesized) {
		fn := s.mainJSON.function(t, s.cfg.Name("bff"))
		env := fn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
		var want []string
		for _, k := range []string{"PORTICO_COOKIE_KEYS_ARN", "PORTICO_OIDC_CLIENT_SECRET_ARN"} {
			if k == "PORTICO_OIDC_CLIENT_SECRET_ARN" && s.cfg.IsEntra() {
				if arn := s.cfg.Identity.Entra.ClientSecretARN; env[k] != arn {
					t.Errorf("%s = %v, want the configured %s", k, env[k], arn)
				}
				want = append(want, s.cfg.Identity.Entra.ClientSecretARN)
				continue
			}
			id := getAttID(env[k])
			if r, ok := s.mainJSON.Resources[id]; !ok || r.Type != "AWS::SecretsManager::Secret" {
				t.Errorf("%s = %v, want a Secrets Manager secret of this stack", k, env[k])
				continue
			}
			want = append(want, id)
		}
		if len(want) == 2 && want[0] == want[1] {
			t.Errorf("cookie keys and client secret are the same secret %s", want[0])
		}
		_, stmts := s.mainJSON.roleStatements(t, fn)
		var got []string
		for _, st := range stmts {
			for _, a := range st.Actions {
				if !strings.HasPrefix(a, "secretsmanager:") {
					continue
				}
				if a != "secretsmanager:GetSecretValue" {
					t.Errorf("%s: BFF may %s", st.Sid, a)
				}
				for _, r := range st.Resources {
					if arn, ok := r.(string); ok {
						got = append(got, arn)
					} else {
						got = append(got, getAttID(r))
					}
				}
			}
		}
		if !sameSet(got, want) {
			t.Errorf("BFF may read secrets %v, want exactly %v", got, want)
		}
	})
}

func TestCheckAssets(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := CheckAssets(dir); err == nil || !strings.Contains(err.Error(), "make build") {
		t.Fatalf("CheckAssets(empty) = %v, want a make build hint", err)
	}
	if err := WritePlaceholderAssets(dir); err != nil {
		t.Fatal(err)
	}
	if err := CheckAssets(dir); err != nil {
		t.Fatal(err)
	}
}

// isKeyARN reports whether v is the ARN of the environment's customer-managed key
// ({"Fn::GetAtt": [<the key>, "Arn"]}).
func (s *synthesized) isKeyARN(v any) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	ga, ok := m["Fn::GetAtt"].([]any)
	if !ok || len(ga) != 2 || ga[1] != "Arn" {
		return false
	}
	r, ok := s.mainJSON.Resources[fmt.Sprint(ga[0])]
	return ok && r.Type == "AWS::KMS::Key"
}

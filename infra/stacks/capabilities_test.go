package stacks

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/portico-dev/portico/infra/config"
)

// synthVariant synthesises uat changed by mutate (a configuration none of the shipped files
// has: the optional parts switched the other way) and returns its main template.
func synthVariant(t *testing.T, mutate func(*config.Config)) (*config.Config, template) {
	t.Helper()
	assets := t.TempDir()
	if err := WritePlaceholderAssets(assets); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load("uat")
	if err != nil {
		t.Fatal(err)
	}
	mutate(cfg)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	p, err := New(awscdk.NewApp(nil), cfg, Options{InfraDir: "..", AssetDir: assets})
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := toTemplate(assertions.Template_FromStack(p.Main, nil))
	if err != nil {
		t.Fatal(err)
	}
	return cfg, tmpl
}

// tableNamed returns the DynamoDB table with the physical name.
func (t template) tableNamed(tt *testing.T, name string) resource {
	tt.Helper()
	_, tables := t.ofType("AWS::DynamoDB::Table")
	for _, r := range tables {
		if r.Properties["TableName"] == name {
			return r
		}
	}
	tt.Fatalf("no table %s", name)
	return resource{}
}

// checkEncryptedTable checks what every Portico table has: on demand, point-in-time
// recovery, the environment's key, deletion protection and the removal policy of the
// environment, and the string key schema pk/sk.
func checkEncryptedTable(t *testing.T, s *synthesized, tmpl template, r resource) {
	t.Helper()
	p := r.Properties
	if p["BillingMode"] != "PAY_PER_REQUEST" {
		t.Errorf("billing %v", p["BillingMode"])
	}
	if fmt.Sprint(p["PointInTimeRecoverySpecification"]) != "map[PointInTimeRecoveryEnabled:true]" {
		t.Errorf("point-in-time recovery %v", p["PointInTimeRecoverySpecification"])
	}
	sse, _ := p["SSESpecification"].(map[string]any)
	if sse["SSEEnabled"] != true || sse["SSEType"] != "KMS" || !s.isKeyARN(sse["KMSMasterKeyId"]) {
		t.Errorf("encryption %v, want the environment's key", sse)
	}
	if p["DeletionProtectionEnabled"] != s.cfg.Protect {
		t.Errorf("deletion protection %v, want %v", p["DeletionProtectionEnabled"], s.cfg.Protect)
	}
	want := "Delete"
	if s.cfg.Protect {
		want = "RetainExceptOnCreate"
	}
	if r.DeletionPolicy != want {
		t.Errorf("deletion policy %q, want %q", r.DeletionPolicy, want)
	}
	if got := fmt.Sprint(p["KeySchema"]); got != "[map[AttributeName:pk KeyType:HASH] map[AttributeName:sk KeyType:RANGE]]" {
		t.Errorf("key schema %s, want pk HASH and sk RANGE", got)
	}
	for _, a := range anyList(p["AttributeDefinitions"]) {
		if a.(map[string]any)["AttributeType"] != "S" {
			t.Errorf("attribute %v is not a string", a)
		}
	}
}

func TestConversationTable(t *testing.T) {
	eachEnv(t, func(t *testing.T, s *synthesized) {
		r := s.mainJSON.tableNamed(t, s.cfg.Name("conversations"))
		checkEncryptedTable(t, s, s.mainJSON, r)
		if got := fmt.Sprint(r.Properties["TimeToLiveSpecification"]); got != "map[AttributeName:expiresAt Enabled:true]" {
			t.Errorf("time to live %s, want expiresAt", got)
		}
		if r.Properties["GlobalSecondaryIndexes"] != nil || r.Properties["LocalSecondaryIndexes"] != nil {
			t.Errorf("indexes %v %v: every read stays in the owner's partition", r.Properties["GlobalSecondaryIndexes"], r.Properties["LocalSecondaryIndexes"])
		}
	})
}

func TestKeyTable(t *testing.T) {
	eachEnv(t, func(t *testing.T, s *synthesized) {
		r := s.mainJSON.tableNamed(t, s.cfg.Name("keys"))
		checkEncryptedTable(t, s, s.mainJSON, r)
		// services/apikey/dynamokeys finds a key by its hash with GetItem (HASH#<sha256>).
		if r.Properties["GlobalSecondaryIndexes"] != nil || r.Properties["LocalSecondaryIndexes"] != nil {
			t.Errorf("indexes %v %v, want none", r.Properties["GlobalSecondaryIndexes"], r.Properties["LocalSecondaryIndexes"])
		}
		if r.Properties["TimeToLiveSpecification"] != nil {
			t.Errorf("time to live %v: keys end by their own expiry, checked by the services", r.Properties["TimeToLiveSpecification"])
		}
	})
}

// attachmentBucket returns the attachment bucket and its bucket policy.
func attachmentBucket(t *testing.T, tmpl template, cfg *config.Config) (string, resource, resource) {
	t.Helper()
	ids, buckets := tmpl.ofType("AWS::S3::Bucket")
	name := fmt.Sprintf("portico-%s-attachments-%s-%s", cfg.Env, cfg.Account, cfg.Region)
	i := slices.IndexFunc(buckets, func(r resource) bool { return r.Properties["BucketName"] == name })
	if i < 0 {
		t.Fatalf("no bucket %s", name)
	}
	_, policies := tmpl.ofType("AWS::S3::BucketPolicy")
	j := slices.IndexFunc(policies, func(r resource) bool { return getAttID(r.Properties["Bucket"]) == ids[i] })
	if j < 0 {
		t.Fatalf("bucket %s has no policy", name)
	}
	return ids[i], buckets[i], policies[j]
}

func TestAttachmentBucket(t *testing.T) {
	eachEnv(t, func(t *testing.T, s *synthesized) {
		_, b, policy := attachmentBucket(t, s.mainJSON, s.cfg)
		p := b.Properties
		enc := anyList(p["BucketEncryption"].(map[string]any)["ServerSideEncryptionConfiguration"])[0].(map[string]any)
		def := enc["ServerSideEncryptionByDefault"].(map[string]any)
		if def["SSEAlgorithm"] != "aws:kms" || !s.isKeyARN(def["KMSMasterKeyID"]) || enc["BucketKeyEnabled"] != true {
			t.Errorf("encryption %v, want SSE-KMS with the environment's key and a bucket key", enc)
		}
		if got := fmt.Sprint(p["PublicAccessBlockConfiguration"]); got != "map[BlockPublicAcls:true BlockPublicPolicy:true IgnorePublicAcls:true RestrictPublicBuckets:true]" {
			t.Errorf("public access block %s", got)
		}
		if v, ok := p["VersioningConfiguration"].(map[string]any); ok && v["Status"] == "Enabled" {
			t.Error("versioned: a deleted conversation's attachments would outlive the delete")
		}
		if fmt.Sprint(p["OwnershipControls"]) != "map[Rules:[map[ObjectOwnership:BucketOwnerEnforced]]]" {
			t.Errorf("ownership %v, want ACLs disabled", p["OwnershipControls"])
		}
		logging, _ := p["LoggingConfiguration"].(map[string]any)
		if logging["DestinationBucketName"] == nil || logging["LogFilePrefix"] != "s3/attachments/" {
			t.Errorf("server access logs %v", logging)
		}
		var expiration []string
		for _, r := range anyList(p["LifecycleConfiguration"].(map[string]any)["Rules"]) {
			rule := r.(map[string]any)
			if d, ok := rule["ExpirationInDays"]; ok {
				expiration = append(expiration, fmt.Sprint(d))
			}
		}
		// A message is written to expire 1.5 retention periods later
		// (services/conversation/dynamostore); its attachment lives as long, in whole days.
		if want := []string{fmt.Sprint(math.Ceil(1.5 * float64(s.cfg.Conversations.RetentionDays)))}; !slices.Equal(expiration, want) {
			t.Errorf("expiration %v days, want %v (1.5 × conversations.retentionDays, rounded up)", expiration, want)
		}
		// TLS only: a Deny for aws:SecureTransport false and one for TLS below 1.2.
		var denies []string
		for _, x := range anyList(policy.Properties["PolicyDocument"].(map[string]any)["Statement"]) {
			st := x.(map[string]any)
			if st["Effect"] == "Deny" {
				denies = append(denies, fmt.Sprint(st["Condition"]))
			}
		}
		joined := strings.Join(denies, " ")
		if !strings.Contains(joined, "aws:SecureTransport:false") || !strings.Contains(joined, "s3:TlsVersion:1.2") {
			t.Errorf("bucket policy denies %v, want TLS only (1.2 or later)", denies)
		}
	})
}

// TestCapabilityEnvironment checks the new variables: the stores, retention, bus and account on the
// inference function (which mounts inference, conversations and /v1), the key store on
// every service and the authorizer, the public API URL on ApiKeyService's function (which
// tells the app), and none of them where they do not belong.
func TestCapabilityEnvironment(t *testing.T) {
	eachEnv(t, func(t *testing.T, s *synthesized) {
		cfg := s.cfg
		keys := "dynamodb:" + cfg.Name("keys")
		want := map[string]map[string]any{
			"inference": {
				EnvConversationStore:     "dynamodb:" + cfg.Name("conversations"),
				EnvConversationRetention: fmt.Sprint(cfg.Conversations.RetentionDays),
				EnvAttachmentStore:       fmt.Sprintf("s3:portico-%s-attachments-%s-%s", cfg.Env, cfg.Account, cfg.Region),
				EnvEventBus:              cfg.Name("governance"),
				EnvKeyStore:              keys,
				EnvAccountID:             cfg.Account,
			},
			"apikey":     {EnvKeyStore: keys, EnvPublicAPIURL: "<api>/v1"},
			"identity":   {EnvKeyStore: keys},
			"admin":      {EnvKeyStore: keys, EnvConversationStore: "dynamodb:" + cfg.Name("conversations")},
			"authorizer": {EnvKeyStore: keys},
			"bff":        {},
		}
		vars := []string{EnvConversationStore, EnvConversationRetention, EnvAttachmentStore, EnvEventBus, EnvKeyStore, EnvPublicAPIURL, EnvAccountID}
		for fn, w := range want {
			env := envOf(t, s, fn)
			for _, v := range vars {
				got, has := env[v]
				exp, wanted := w[v]
				switch {
				case !wanted && has:
					t.Errorf("%s: %s = %v, want unset", fn, v, got)
				case wanted && exp == "<api>/v1":
					if j := joined(t, got); !strings.HasPrefix(j, "https://") || !strings.HasSuffix(j, ".amazonaws.com/"+StageName+"/v1") {
						t.Errorf("%s: %s = %s, want the stage URL + /v1", fn, v, j)
					}
				case wanted && got != exp:
					t.Errorf("%s: %s = %v, want %v", fn, v, got, exp)
				}
			}
		}
	})
}

func TestGovernanceBus(t *testing.T) {
	eachEnv(t, func(t *testing.T, s *synthesized) {
		busIDs, buses := s.mainJSON.ofType("AWS::Events::EventBus")
		if len(buses) != 1 || buses[0].Properties["Name"] != s.cfg.Name("governance") {
			t.Fatalf("event buses %v, want %s", buses, s.cfg.Name("governance"))
		}
		_, rules := s.mainJSON.ofType("AWS::Events::Rule")
		if len(rules) != 1 {
			t.Fatalf("%d rules, want 1", len(rules))
		}
		r := rules[0].Properties
		if getAttID(r["EventBusName"]) != busIDs[0] {
			t.Errorf("rule on bus %v, want the governance bus", r["EventBusName"])
		}
		if got := fmt.Sprint(r["EventPattern"]); got != "map[detail-type:[Portico Quota Threshold Crossed] source:[portico.governance]]" {
			t.Errorf("pattern %s", got)
		}
		topicIDs, topics := s.mainJSON.ofType("AWS::SNS::Topic")
		alertTopic := slices.IndexFunc(topics, func(r resource) bool { return r.Properties["TopicName"] == s.cfg.Name("quota-alerts") })
		targets := anyList(r["Targets"])
		if len(s.cfg.Alerts.Emails) == 0 {
			if alertTopic >= 0 || r["Targets"] != nil {
				t.Errorf("no alerts.emails, yet topic %d and targets %v", alertTopic, r["Targets"])
			}
			if strings.Contains(fmt.Sprint(s.mainJSON.Resources), "EventBridgeAlerts") {
				t.Error("the key lets EventBridge use it with no topic to publish to")
			}
			return
		}
		if alertTopic < 0 {
			t.Fatal("alerts.emails without a topic")
		}
		if !s.isKeyARN(topics[alertTopic].Properties["KmsMasterKeyId"]) {
			t.Errorf("topic key %v, want the environment's key", topics[alertTopic].Properties["KmsMasterKeyId"])
		}
		if len(targets) != 1 || getAttID(targets[0].(map[string]any)["Arn"]) != topicIDs[alertTopic] {
			t.Errorf("rule targets %v, want the alert topic", targets)
		}
		_, subs := s.mainJSON.ofType("AWS::SNS::Subscription")
		var emails []string
		for _, sub := range subs {
			if getAttID(sub.Properties["TopicArn"]) == topicIDs[alertTopic] {
				if sub.Properties["Protocol"] != "email" {
					t.Errorf("subscription %v", sub.Properties)
				}
				emails = append(emails, fmt.Sprint(sub.Properties["Endpoint"]))
			}
		}
		if !sameSet(emails, s.cfg.Alerts.Emails) {
			t.Errorf("subscribers %v, want %v", emails, s.cfg.Alerts.Emails)
		}
		_, keys := s.mainJSON.ofType("AWS::KMS::Key")
		found := false
		for _, k := range keys {
			for _, x := range anyList(k.Properties["KeyPolicy"].(map[string]any)["Statement"]) {
				st := x.(map[string]any)
				if st["Sid"] != "EventBridgeAlerts" {
					continue
				}
				found = true
				if fmt.Sprint(st["Principal"]) != "map[Service:events.amazonaws.com]" || !sameSet(strList(st["Action"]), []string{"kms:Decrypt", "kms:GenerateDataKey"}) ||
					fmt.Sprint(st["Condition"]) != fmt.Sprintf("map[StringEquals:map[aws:SourceAccount:%s]]", s.cfg.Account) {
					t.Errorf("key statement %v", st)
				}
			}
		}
		if !found {
			t.Error("EventBridge cannot publish to the encrypted topic: no key statement")
		}
	})
	if len(envs["prod"].cfg.Alerts.Emails) == 0 || len(envs["uat"].cfg.Alerts.Emails) != 0 {
		t.Error("the shipped environments no longer cover both sides (prod with alert e-mails, uat without)")
	}
}

// TestOptionalCapabilities synthesises what no shipped environment has: knowledge bases
// (Retrieve on exactly them), no retention (no expiration), and alert e-mails in uat.
func TestOptionalCapabilities(t *testing.T) {
	cfg, tmpl := synthVariant(t, func(c *config.Config) {
		c.Conversations.RetentionDays = 0
		c.Alerts.Emails = []string{"a@example.com", "b@example.com"}
		c.Models.KnowledgeBases = []config.KnowledgeBase{{ID: "KBAAAAAAA1"}, {ID: "KBBBBBBBB2", Region: c.Region, AccountID: c.Account}}
	})
	s := &synthesized{cfg: cfg, mainJSON: tmpl}
	_, stmts := tmpl.roleStatements(t, tmpl.function(t, cfg.Name("inference")))
	var retrieve []statement
	for _, st := range stmts {
		if slices.ContainsFunc(st.Actions, func(a string) bool { return strings.HasPrefix(a, "bedrock:Retrieve") }) {
			retrieve = append(retrieve, st)
		}
	}
	wantARNs := []string{
		fmt.Sprintf("arn:aws:bedrock:%s:%s:knowledge-base/KBAAAAAAA1", cfg.Region, cfg.Account),
		fmt.Sprintf("arn:aws:bedrock:%s:%s:knowledge-base/KBBBBBBBB2", cfg.Region, cfg.Account),
	}
	if len(retrieve) != 1 || !slices.Equal(retrieve[0].Actions, []string{"bedrock:Retrieve"}) || !sameSet(strList(retrieve[0].Resources), wantARNs) {
		t.Errorf("Retrieve statements %+v, want one on exactly %v", retrieve, wantARNs)
	}
	for _, fn := range []string{"identity", "admin", "authorizer", "bff"} {
		_, other := tmpl.roleStatements(t, tmpl.function(t, cfg.Name(fn)))
		for _, st := range other {
			if slices.Contains(st.Actions, "bedrock:Retrieve") {
				t.Errorf("%s may Retrieve", fn)
			}
		}
	}
	_, b, _ := attachmentBucket(t, tmpl, cfg)
	for _, r := range anyList(b.Properties["LifecycleConfiguration"].(map[string]any)["Rules"]) {
		if _, ok := r.(map[string]any)["ExpirationInDays"]; ok {
			t.Errorf("retention 0 (keep), yet rule %v expires attachments", r)
		}
	}
	if got := envOf(t, s, "inference")[EnvConversationRetention]; got != "0" {
		t.Errorf("%s = %v, want 0", EnvConversationRetention, got)
	}
	_, topics := tmpl.ofType("AWS::SNS::Topic")
	if !slices.ContainsFunc(topics, func(r resource) bool { return r.Properties["TopicName"] == cfg.Name("quota-alerts") }) {
		t.Error("alert e-mails in uat, yet no alert topic")
	}
}

// TestNoKnowledgeBasesNoRetrieve: the shipped environments configure no knowledge base, so
// no role may call Retrieve at all.
func TestNoKnowledgeBasesNoRetrieve(t *testing.T) {
	eachEnv(t, func(t *testing.T, s *synthesized) {
		if len(s.cfg.Models.KnowledgeBases) > 0 {
			t.Skip("this environment configures knowledge bases")
		}
		if strings.Contains(fmt.Sprint(s.mainJSON.Resources), "bedrock:Retrieve") {
			t.Error("bedrock:Retrieve granted without a configured knowledge base")
		}
	})
}

// TestPolicyModeEnvironment: PORTICO_POLICY_MODE is the configured mode on every function
// that reads the policy (the four services and the authorizer, not the BFF), and the
// authorizer is told the ledger (PORTICO_STORE) only in store mode, where it reads the
// policy's versions from it; in file mode it decides by the file alone.
func TestPolicyModeEnvironment(t *testing.T) {
	fileCfg, fileTmpl := synthVariant(t, func(c *config.Config) { c.Policy.Mode = config.PolicyModeFile })
	cases := []*synthesized{envs["uat"], envs["prod"], envs[EntraExample], {cfg: fileCfg, mainJSON: fileTmpl}}
	if !cases[0].cfg.PolicyInStore() || !cases[1].cfg.PolicyInStore() {
		t.Error("the shipped environments no longer keep the policy in the store (the default)")
	}
	for _, s := range cases {
		cfg := s.cfg
		t.Run(cfg.Env+"-"+cfg.PolicyMode(), func(t *testing.T) {
			ledger := "dynamodb:" + cfg.Name("ledger")
			for _, fn := range []string{"identity", "inference", "admin", "apikey", "authorizer", "bff"} {
				env := envOf(t, s, fn)
				mode, has := env[EnvPolicyMode]
				switch {
				case fn == "bff" && has:
					t.Errorf("bff: %s = %v, want unset (the BFF reads no policy)", EnvPolicyMode, mode)
				case fn != "bff" && mode != cfg.PolicyMode():
					t.Errorf("%s: %s = %v, want %s", fn, EnvPolicyMode, mode, cfg.PolicyMode())
				}
				store, has := env["PORTICO_STORE"]
				switch {
				case fn == "bff" && has:
					t.Errorf("bff: PORTICO_STORE = %v, want unset", store)
				case fn == "authorizer" && !cfg.PolicyInStore() && has:
					t.Errorf("authorizer in file mode: PORTICO_STORE = %v, want unset (it reads the file)", store)
				case fn != "bff" && (fn != "authorizer" || cfg.PolicyInStore()) && store != ledger:
					t.Errorf("%s: PORTICO_STORE = %v, want %s", fn, store, ledger)
				}
			}
		})
	}
}

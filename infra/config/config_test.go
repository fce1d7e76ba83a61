package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadEnvironments(t *testing.T) {
	t.Parallel()
	for _, env := range Environments {
		t.Run(env, func(t *testing.T) {
			t.Parallel()
			c, err := Load(env)
			if err != nil {
				t.Fatal(err)
			}
			if c.Env != env {
				t.Fatalf("env = %q, want %q", c.Env, env)
			}
		})
	}
	if _, err := Load("dev"); err == nil {
		t.Fatal("Load(dev) succeeded; want an unknown-environment error")
	}
}

func TestValidateRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"wildcard origin", func(c *Config) { c.API.AllowedOrigins = []string{"*"} }, "api.allowedOrigins"},
		{"http origin", func(c *Config) { c.API.AllowedOrigins = []string{"http://x.example.com"} }, "api.allowedOrigins"},
		{"prod unprotected", func(c *Config) { c.Env = "prod"; c.Protect = false }, "protect"},
		{"certificate outside us-east-1", func(c *Config) {
			c.Web.CertificateARN = "arn:aws:acm:eu-west-1:111111111111:certificate/abc"
		}, "web.certificateArn"},
		{"public URL with a path", func(c *Config) { c.Web.PublicURL = "https://x.example.com/app" }, "web.publicUrl"},
		{"bad account", func(c *Config) { c.Account = "12" }, "account"},
		{"edge flood guard below the session limit", func(c *Config) { c.Web.IPRateLimit = c.Web.RateLimit - 1 }, "web.ipRateLimit"},
		{"API flood guard below the token limit", func(c *Config) { c.API.IPRateLimit = 10 }, "api.ipRateLimit"},
		{"origin read timeout past the quota", func(c *Config) { c.Web.OriginReadTimeout.Duration = 61 * time.Second }, "web.originReadTimeout"},
		{"API accepting TLS 1.0", func(c *Config) { c.API.SecurityPolicy = "TLS_1_0" }, "api.securityPolicy"},
		{"no API security policy", func(c *Config) { c.API.SecurityPolicy = "" }, "api.securityPolicy"},
		{"body rules neither count nor block", func(c *Config) { c.WAFBodyRules = "allow" }, "wafBodyRules"},
		{"prod only counting body rules", func(c *Config) { c.Env = "prod"; c.Protect = true; c.WAFBodyRules = "count" }, "must be block in prod"},
		{"no reserved concurrency", func(c *Config) { c.Concurrency.Inference = 0 }, "concurrency"},
		{"reserving the whole account", func(c *Config) { c.Concurrency.BFF, c.Concurrency.Inference = 500, 500 }, "concurrency"},
		{"bad CIDR", func(c *Config) { c.API.IPAllowList = []string{"10.0.0.0/99"} }, "api.ipAllowList"},
		{"bad country", func(c *Config) { c.Web.AllowedCountries = []string{"usa"} }, "web.allowedCountries"},
		{"short access token", func(c *Config) { c.Identity.AccessTokenTTL.Duration = 1 }, "identity.accessTokenTtl"},
		{"unknown group", func(c *Config) { c.Identity.EntraGroups = map[string]string{"x": "Everyone"} }, "identity.entraGroups"},
		{"no policy file", func(c *Config) { c.PolicyFile = "" }, "policyFile: required"},
		{"blank policy file", func(c *Config) { c.PolicyFile = "  " }, "policyFile: required"},
		{"dev policy", func(c *Config) { c.PolicyFile = "../services/policy/dev.yaml" }, "development policy"},
		{"negative retention", func(c *Config) { c.Conversations.RetentionDays = -1 }, "conversations.retentionDays"},
		{"retention past ten years", func(c *Config) { c.Conversations.RetentionDays = MaxRetentionDays + 1 }, "conversations.retentionDays"},
		{"bad alert e-mail", func(c *Config) { c.Alerts.Emails = []string{"not-an-address"} }, "alerts.emails"},
		{"unknown policy mode", func(c *Config) { c.Policy.Mode = "git" }, "policy.mode"},
		{"policy mode in capitals", func(c *Config) { c.Policy.Mode = "Store" }, "policy.mode"},
		{"knowledge base id lower case", func(c *Config) {
			c.Models.KnowledgeBases = []KnowledgeBase{{ID: "abcdefghij"}}
		}, "models.knowledgeBases"},
		{"knowledge base ARN instead of id", func(c *Config) {
			c.Models.KnowledgeBases = []KnowledgeBase{{ID: "arn:aws:bedrock:us-east-1:111111111111:knowledge-base/ABCDEFGHIJ"}}
		}, "models.knowledgeBases"},
		{"knowledge base wildcard", func(c *Config) { c.Models.KnowledgeBases = []KnowledgeBase{{ID: "*"}} }, "models.knowledgeBases"},
		{"knowledge base twice", func(c *Config) {
			c.Models.KnowledgeBases = []KnowledgeBase{{ID: "ABCDEFGHIJ"}, {ID: "ABCDEFGHIJ"}}
		}, "listed twice"},
		{"knowledge base in another account", func(c *Config) {
			c.Models.KnowledgeBases = []KnowledgeBase{{ID: "ABCDEFGHIJ", AccountID: "999999999999"}}
		}, "its own account"},
		{"knowledge base in another region", func(c *Config) {
			c.Models.KnowledgeBases = []KnowledgeBase{{ID: "ABCDEFGHIJ", Region: "ap-south-1"}}
		}, "own region"},
		{"dev policy, roundabout", func(c *Config) { c.PolicyFile = "config/../../services/policy/./dev.yaml" }, "development policy"},
		{"dev policy, absolute", func(c *Config) { c.PolicyFile = "/src/portico/services/policy/dev.yaml" }, "development policy"},
		{"no groups", func(c *Config) { c.Identity.Groups = nil; c.Identity.EntraGroups = nil }, "identity.groups: at least one"},
		{"group with a space", func(c *Config) { c.Identity.Groups = append(c.Identity.Groups, Group{Name: "ML Users"}) }, "identity.groups"},
		{"group listed twice", func(c *Config) { c.Identity.Groups = append(c.Identity.Groups, Group{Name: "MLUsers"}) }, "listed twice"},
		{"Cognito's federated group", func(c *Config) {
			c.Identity.Groups = append(c.Identity.Groups, Group{Name: "us-east-1_abc_EntraID"})
		}, "federated users"},
		{"Entra group to a removed group", func(c *Config) { c.Identity.Groups = c.Identity.Groups[:1] }, "identity.entraGroups"},
		{"retention", func(c *Config) { c.LogRetentionDays = 31 }, "logRetentionDays"},
		{"http metadata", func(c *Config) { c.Identity.EntraMetadataURL = "http://login.example.com/m.xml" }, "identity.entraMetadataUrl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load("uat")
			if err != nil {
				t.Fatal(err)
			}
			tt.mutate(c)
			err = c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want an error about %s", err, tt.want)
			}
		})
	}
}

// TestGroupsAreConfiguration shows a new group needs no code change: a configuration with a
// third group, mapped from Entra, validates.
func TestGroupsAreConfiguration(t *testing.T) {
	t.Parallel()
	c, err := Load("uat")
	if err != nil {
		t.Fatal(err)
	}
	c.Identity.Groups = append(c.Identity.Groups, Group{Name: "Finance-Analysts", Description: "Finance's models."})
	c.Identity.EntraGroups["00000000-0000-0000-0000-0000000000f1"] = "Finance-Analysts"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestCheckPolicy(t *testing.T) {
	t.Parallel()
	c, err := Load("uat")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, policy string
		want         []string // substrings of the error; none: accepted
	}{
		{"configured groups", "version: 1\nusageAdmins: [Administrators]\ngroups:\n  - name: MLUsers\n  - name: Administrators\n", nil},
		{"scopes only", "version: 1\nscopes:\n  - scope: portico/identity\n", nil},
		{"unknown group", "version: 1\ngroups:\n  - name: Everyone\n", []string{`group "Everyone"`}},
		{"unknown usage admin", "version: 1\nusageAdmins: [Auditors]\n", []string{`usageAdmins group "Auditors"`}},
		{"every problem at once", "groups:\n  - name: A\n  - name: B\nusageAdmins: [C]\n", []string{`"A"`, `"B"`, `"C"`}},
		{"case differs", "groups:\n  - name: mlusers\n", []string{`"mlusers"`}},
		{"not YAML", "groups: [\n", []string{"policy file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := c.CheckPolicy([]byte(tt.policy))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckPolicy accepted %q", tt.policy)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("CheckPolicy() = %v, want it to name %s", err, w)
				}
			}
		})
	}
}

// TestShippedPolicies checks that every environment's policy file exists and names only
// the environment's groups. The services' policy package validates the files in full
// (services/policy/deployed_test.go in the main module).
func TestShippedPolicies(t *testing.T) {
	t.Parallel()
	for _, env := range Environments {
		c, err := Load(env)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join("..", c.PolicyFile))
		if err != nil {
			t.Fatalf("%s: %v", env, err)
		}
		if err := c.CheckPolicy(b); err != nil {
			t.Errorf("%s: %v", env, err)
		}
	}
}

func TestParseRejectsUnknownField(t *testing.T) {
	t.Parallel()
	if _, err := Parse([]byte("env: uat\nbogus: 1\n")); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("Parse() = %v, want an unknown-field error", err)
	}
}

func TestPublicURL(t *testing.T) {
	t.Parallel()
	c := &Config{Web: Web{Domain: "bff.example.com"}}
	if got := c.PublicURL(); got != "https://bff.example.com" {
		t.Errorf("PublicURL() = %q", got)
	}
	c.Web.PublicURL = "https://portico.example.com/"
	if got := c.PublicURL(); got != "https://portico.example.com" {
		t.Errorf("PublicURL() with override = %q", got)
	}
}

func TestKnowledgeBaseARNs(t *testing.T) {
	t.Parallel()
	c, err := Load("uat")
	if err != nil {
		t.Fatal(err)
	}
	c.Models.KnowledgeBases = []KnowledgeBase{{ID: "ZZZZZZZZZ1"}, {ID: "AAAAAAAAA1", Region: c.Region, AccountID: c.Account}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	got := c.KnowledgeBaseARNs()
	want := []string{
		"arn:aws:bedrock:" + c.Region + ":" + c.Account + ":knowledge-base/AAAAAAAAA1",
		"arn:aws:bedrock:" + c.Region + ":" + c.Account + ":knowledge-base/ZZZZZZZZZ1",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("KnowledgeBaseARNs = %q, want %q", got, want)
	}
	c.Models.KnowledgeBases = nil
	if got := c.KnowledgeBaseARNs(); len(got) != 0 {
		t.Errorf("no knowledge bases: ARNs %q", got)
	}
}

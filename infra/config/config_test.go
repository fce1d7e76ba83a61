package config

import (
	"strings"
	"testing"
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

func TestBedrockARNs(t *testing.T) {
	t.Parallel()
	c := &Config{
		Account: "123456789012",
		Region:  "us-west-2",
		Models: Models{
			Bedrock:           []string{"amazon.nova-lite-v1:0"},
			InferenceProfiles: []InferenceProfile{{ID: "us.anthropic.claude-sonnet-4-20250514-v1:0", Regions: []string{"us-east-1", "us-west-2"}}},
		},
	}
	want := []string{
		"arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-20250514-v1:0",
		"arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.anthropic.claude-sonnet-4-20250514-v1:0",
		"arn:aws:bedrock:us-west-2::foundation-model/amazon.nova-lite-v1:0",
		"arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-sonnet-4-20250514-v1:0",
	}
	got := c.BedrockARNs()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("BedrockARNs() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
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
		{"wildcard model", func(c *Config) { c.Models.Bedrock = []string{"anthropic.*"} }, "models.bedrock"},
		{"profile without geography", func(c *Config) {
			c.Models.InferenceProfiles = []InferenceProfile{{ID: "anthropic.claude", Regions: []string{"us-east-1"}}}
		}, "models.inferenceProfiles"},
		{"bad CIDR", func(c *Config) { c.API.IPAllowList = []string{"10.0.0.0/99"} }, "api.ipAllowList"},
		{"bad country", func(c *Config) { c.Web.AllowedCountries = []string{"usa"} }, "web.allowedCountries"},
		{"short access token", func(c *Config) { c.Identity.AccessTokenTTL.Duration = 1 }, "identity.accessTokenTtl"},
		{"unknown group", func(c *Config) { c.Identity.EntraGroups = map[string]string{"x": "Everyone"} }, "identity.entraGroups"},
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

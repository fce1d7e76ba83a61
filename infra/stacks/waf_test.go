package stacks

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// A prompt people send every day: markup, a file path, an SQL snippet, a metadata URL.
// Whatever AWS's body rules make of it, the chat procedures must let it through.
const everydayPrompt = `Why does <script>alert(1)</script> run in my page? The log is at /etc/nginx/../passwd,
and SELECT * FROM users WHERE name = '' OR 1=1 -- returns every row; also explain http://169.254.169.254/latest/meta-data/`

// bodyRulesOfAWS are, per managed group, the rules that inspect the body and the labels they
// add, as AWS documents them (AWS WAF developer guide, "Baseline rule groups", "Use-case
// specific rule groups"): written out here, independently of stacks/waf.go, so a missing
// override or label there fails this test.
var bodyRulesOfAWS = map[string]map[string]string{
	"AWSManagedRulesCommonRuleSet": {
		"SizeRestrictions_BODY":   "awswaf:managed:aws:core-rule-set:SizeRestrictions_Body",
		"EC2MetaDataSSRF_BODY":    "awswaf:managed:aws:core-rule-set:EC2MetaDataSSRF_Body",
		"GenericLFI_BODY":         "awswaf:managed:aws:core-rule-set:GenericLFI_Body",
		"GenericRFI_BODY":         "awswaf:managed:aws:core-rule-set:GenericRFI_Body",
		"CrossSiteScripting_BODY": "awswaf:managed:aws:core-rule-set:CrossSiteScripting_Body",
	},
	"AWSManagedRulesKnownBadInputsRuleSet": {
		"JavaDeserializationRCE_BODY": "awswaf:managed:aws:known-bad-inputs:JavaDeserializationRCE_Body",
		"Log4JRCE_BODY":               "awswaf:managed:aws:known-bad-inputs:Log4JRCE_Body",
	},
	"AWSManagedRulesSQLiRuleSet": {
		"SQLi_BODY":                 "awswaf:managed:aws:sql-database:SQLi_Body",
		"SQLiExtendedPatterns_BODY": "awswaf:managed:aws:sql-database:SQLiExtendedPatterns_Body",
	},
	"AWSManagedRulesAmazonIpReputationList": {},
}

// wafRequest is what the evaluation below knows of a request: its URI path and the labels
// rules have added so far. Its address is inside every allow list and country, and under
// every rate limit.
type wafRequest struct {
	path   string
	labels []string
}

// evalStatement evaluates the statement types Portico's web ACLs use.
func evalStatement(t *testing.T, st map[string]any, r *wafRequest) bool {
	t.Helper()
	switch {
	case st["AndStatement"] != nil:
		for _, s := range st["AndStatement"].(map[string]any)["Statements"].([]any) {
			if !evalStatement(t, s.(map[string]any), r) {
				return false
			}
		}
		return true
	case st["OrStatement"] != nil:
		for _, s := range st["OrStatement"].(map[string]any)["Statements"].([]any) {
			if evalStatement(t, s.(map[string]any), r) {
				return true
			}
		}
		return false
	case st["NotStatement"] != nil:
		return !evalStatement(t, st["NotStatement"].(map[string]any)["Statement"].(map[string]any), r)
	case st["LabelMatchStatement"] != nil:
		lm := st["LabelMatchStatement"].(map[string]any)
		key := lm["Key"].(string)
		return slices.ContainsFunc(r.labels, func(l string) bool {
			return l == key || (lm["Scope"] == "NAMESPACE" && strings.HasPrefix(l, key))
		})
	case st["ByteMatchStatement"] != nil:
		bm := st["ByteMatchStatement"].(map[string]any)
		if _, ok := bm["FieldToMatch"].(map[string]any)["UriPath"]; !ok {
			t.Fatalf("byte match on %v: the evaluation knows only the URI path", bm["FieldToMatch"])
		}
		s := bm["SearchString"].(string)
		switch bm["PositionalConstraint"] {
		case "EXACTLY":
			return r.path == s
		case "STARTS_WITH":
			return strings.HasPrefix(r.path, s)
		case "CONTAINS":
			return strings.Contains(r.path, s)
		}
		t.Fatalf("positional constraint %v", bm["PositionalConstraint"])
	case st["GeoMatchStatement"] != nil, st["IPSetReferenceStatement"] != nil:
		return true // the caller is inside
	case st["RateBasedStatement"] != nil:
		return false // under every limit
	}
	t.Fatalf("statement %v: not evaluated", st)
	return false
}

// blockingRule runs the request through the web ACL's rules in priority order, assuming the
// worst of the prompt: every body rule of every managed group matches it. It returns the
// rule (or managed rule) that blocks it, or "" when it reaches the default action.
func blockingRule(t *testing.T, acl resource, path string) string {
	t.Helper()
	r := &wafRequest{path: path}
	rules := acl.Properties["Rules"].([]any)
	slices.SortFunc(rules, func(a, b any) int {
		return int(a.(map[string]any)["Priority"].(float64) - b.(map[string]any)["Priority"].(float64))
	})
	for _, x := range rules {
		rule := x.(map[string]any)
		st := rule["Statement"].(map[string]any)
		if mg, ok := st["ManagedRuleGroupStatement"].(map[string]any); ok {
			group := mg["Name"].(string)
			body, known := bodyRulesOfAWS[group]
			if !known {
				t.Fatalf("managed group %s: its body rules are not in the table", group)
			}
			if sd, ok := mg["ScopeDownStatement"].(map[string]any); ok && !evalStatement(t, sd, r) {
				continue
			}
			overridden := map[string]string{}
			for _, o := range anyList(mg["RuleActionOverrides"]) {
				if om, ok := o.(map[string]any); ok {
					for action := range om["ActionToUse"].(map[string]any) {
						overridden[om["Name"].(string)] = action
					}
				}
			}
			_, groupCounts := rule["OverrideAction"].(map[string]any)["Count"]
			for name, label := range body {
				r.labels = append(r.labels, label) // a matching rule labels whatever its action
				if overridden[name] != "Count" && !groupCounts {
					return group + ":" + name
				}
			}
			continue
		}
		if evalStatement(t, st, r) {
			if _, blocks := rule["Action"].(map[string]any)["Block"]; blocks {
				return rule["Name"].(string)
			}
		}
	}
	return ""
}

// TestWAFLetsPromptsThrough: a prompt with a <script> example, a file path and an SQL
// snippet reaches every chat procedure through both web ACLs, in every environment, while
// the same body on sign-in, admin and other paths is blocked where the body rules block
// (prod) and only counted where they count (uat).
func TestWAFLetsPromptsThrough(t *testing.T) {
	t.Logf("prompt: %q", everydayPrompt)
	eachEnv(t, func(t *testing.T, s *synthesized) {
		for _, c := range []struct {
			where string
			tmpl  template
			chat  []string
			other []string
		}{
			{"edge", s.edgeJSON, EdgeChatPaths(), []string{"/auth/callback", "/auth/logout", "/api/portico.admin.v1.AdminService/ListUsage", "/api/portico.inference.v1.InferenceService/GetUsage", "/index.html", "/api/portico.inference.v1.InferenceService/Converse/x"}},
			{"api", s.mainJSON, APIChatPaths(), []string{"/" + StageName + "/portico.admin.v1.AdminService/ListUsage", "/" + StageName + "/portico.identity.v1.IdentityService/GetMe", "/" + StageName + "/portico.inference.v1.InferenceService/ListModels",
				"/" + StageName + "/portico.apikey.v1.ApiKeyService/CreateApiKey", "/" + StageName + "/v1/models", "/" + StageName + "/v1/chat/completions/x", "/" + StageName + "/portico.conversation.v1.ConversationService/DeleteConversation"}},
		} {
			_, acls := c.tmpl.ofType("AWS::WAFv2::WebACL")
			if len(acls) != 1 {
				t.Fatalf("%s: %d web ACLs", c.where, len(acls))
			}
			for _, path := range c.chat {
				if rule := blockingRule(t, acls[0], path); rule != "" {
					t.Errorf("%s: the prompt on %s is blocked by %s", c.where, path, rule)
				}
			}
			for _, path := range c.other {
				rule := blockingRule(t, acls[0], path)
				switch s.cfg.WAFBodyRules {
				case "block":
					if rule != "BodyAttacksOutsideChat" {
						t.Errorf("%s: the same body on %s is blocked by %q, want BodyAttacksOutsideChat", c.where, path, rule)
					}
				case "count":
					if rule != "" {
						t.Errorf("%s (count mode): the body on %s is blocked by %s", c.where, path, rule)
					}
				}
			}
		}
	})
}

// TestChatPathsCoverPrompts pins, independently of waf.go's lists, the paths whose bodies
// are prompts: an OpenAI client's chat completion (base URL <stage URL>/v1, so the path
// carries the stage and /v1), and the conversation search and rename, at the edge and at the
// API.
func TestChatPathsCoverPrompts(t *testing.T) {
	for _, want := range []string{
		"/v1/v1/chat/completions",
		"/v1/portico.inference.v1.InferenceService/ConverseStream",
		"/v1/portico.conversation.v1.ConversationService/SearchConversations",
		"/v1/portico.conversation.v1.ConversationService/UpdateConversation",
	} {
		if !slices.Contains(APIChatPaths(), want) {
			t.Errorf("the API's chat paths lack %s", want)
		}
	}
	for _, want := range []string{
		"/api/portico.conversation.v1.ConversationService/SearchConversations",
		"/api/portico.conversation.v1.ConversationService/UpdateConversation",
	} {
		if !slices.Contains(EdgeChatPaths(), want) {
			t.Errorf("the edge's chat paths lack %s", want)
		}
	}
	for _, p := range append(APIChatPaths(), EdgeChatPaths()...) {
		if strings.Contains(p, "ApiKeyService") || strings.Contains(p, "AdminService") || strings.HasSuffix(p, "/models") {
			t.Errorf("%s is exempted from the body rules but carries no prompt", p)
		}
	}
}

// TestWAFEvaluationCanFail: the evaluation above does see a blocking body rule — the web
// ACL a rule set without overrides would be.
func TestWAFEvaluationCanFail(t *testing.T) {
	acl := resource{Properties: map[string]any{"Rules": []any{
		map[string]any{"Name": "AWSManagedRulesSQLiRuleSet", "Priority": 0.0, "OverrideAction": map[string]any{"None": map[string]any{}},
			"Statement": map[string]any{"ManagedRuleGroupStatement": map[string]any{"VendorName": "AWS", "Name": "AWSManagedRulesSQLiRuleSet"}}},
	}}}
	if rule := blockingRule(t, acl, EdgeChatPaths()[0]); !strings.HasPrefix(rule, "AWSManagedRulesSQLiRuleSet:SQLi") {
		t.Fatalf("blocking rule = %q, want an SQLi body rule", rule)
	}
}

// TestWAFRateLimitsByCaller: each web ACL counts requests per caller (the session cookie at
// the edge, the access token at the API) at the configured limit, and keeps a per-address
// rule only as a flood guard above it.
func TestWAFRateLimitsByCaller(t *testing.T) {
	eachEnv(t, func(t *testing.T, s *synthesized) {
		for _, c := range []struct {
			where         string
			tmpl          template
			key           string
			limit, ipRate int
		}{
			{"edge", s.edgeJSON, fmt.Sprintf(`{"Cookie":{"Name":"%s"`, SessionCookie), s.cfg.Web.RateLimit, s.cfg.Web.IPRateLimit},
			{"api", s.mainJSON, `{"Header":{"Name":"Authorization"`, s.cfg.API.RateLimit, s.cfg.API.IPRateLimit},
		} {
			_, acls := c.tmpl.ofType("AWS::WAFv2::WebACL")
			rates := map[string]map[string]any{}
			for _, x := range acls[0].Properties["Rules"].([]any) {
				rule := x.(map[string]any)
				if rb, ok := rule["Statement"].(map[string]any)["RateBasedStatement"].(map[string]any); ok {
					rates[rule["Name"].(string)] = rb
				}
			}
			caller, ip := rates["RateLimitPerCaller"], rates["FloodGuardPerIp"]
			if caller == nil || ip == nil || len(rates) != 2 {
				t.Fatalf("%s: rate rules %v", c.where, rates)
			}
			keys := fmt.Sprint(mustJSON(t, caller["CustomKeys"]))
			if caller["AggregateKeyType"] != "CUSTOM_KEYS" || !strings.Contains(keys, c.key) || caller["Limit"] != float64(c.limit) {
				t.Errorf("%s: per-caller rule %v, want %s at %d", c.where, caller, c.key, c.limit)
			}
			if ip["AggregateKeyType"] != "IP" || ip["Limit"] != float64(c.ipRate) || c.ipRate <= c.limit {
				t.Errorf("%s: flood guard %v, want IP at %d above %d", c.where, ip, c.ipRate, c.limit)
			}
		}
	})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSessionCookieIsTheBFFs: the edge's per-caller rate limit counts by the cookie the BFF
// actually sets.
func TestSessionCookieIsTheBFFs(t *testing.T) {
	got := findInRepo(t, "bff", regexp.MustCompile(`SessionCookieName\s*=\s*"([^"]+)"`))
	if len(got) != 2 || got[1] != SessionCookie {
		t.Fatalf("the BFF's session cookie is %v, the WAF counts by %s", got, SessionCookie)
	}
}

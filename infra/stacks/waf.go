package stacks

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awswafv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// SessionCookie is the BFF's session cookie (bff.SessionCookieName): the edge's per-caller
// rate limit counts by it.
const SessionCookie = "__Host-portico-session"

// ChatProcedures are the procedures whose request bodies are prompts (text people write,
// code, paths, markup and SQL included) and never inspected by the body rules: the chat
// calls, and the conversation calls that carry a prompt's words (a search for a phrase of
// an answer, a title, which is the first words of a prompt until renamed).
var ChatProcedures = []string{
	"portico.inference.v1.InferenceService/Converse",
	"portico.inference.v1.InferenceService/ConverseStream",
	"portico.inference.v1.InferenceService/InvokeEndpoint",
	"portico.inference.v1.InferenceService/InvokeEndpointStream",
	"portico.conversation.v1.ConversationService/SearchConversations",
	"portico.conversation.v1.ConversationService/UpdateConversation",
}

// EdgeChatPaths are the chat procedures as CloudFront sees them: behind the BFF's /api/.
func EdgeChatPaths() []string {
	out := make([]string, 0, len(ChatProcedures))
	for _, p := range ChatProcedures {
		out = append(out, "/api/"+p)
	}
	return out
}

// APIChatPaths are the chat procedures and the OpenAI-compatible chat completions as the
// regional web ACL may see them: with the stage (the execute-api URL) and without it. Either
// form only routes to the Inference function, so neither widens the exception.
func APIChatPaths() []string {
	out := make([]string, 0, 2*len(ChatProcedures)+2)
	for _, p := range ChatProcedures {
		out = append(out, "/"+StageName+"/"+p, "/"+p)
	}
	return append(out, "/"+StageName+OpenAIChatPath, OpenAIChatPath)
}

// bodyRule is a managed rule that inspects request bodies, and the label it adds.
type bodyRule struct{ rule, label string }

// managedGroup is an AWS managed rule group with its body-inspecting rules.
type managedGroup struct {
	name string
	body []bodyRule
}

// managedGroups are the AWS managed rule groups of both web ACLs, in order, with the rules
// that inspect bodies (AWS WAF developer guide, "Baseline rule groups" and "Use-case
// specific rule groups": rule names and labels). Those rules only count (and label) inside
// the group; the BodyAttacksOutsideChat rule then blocks on their labels everywhere but
// the chat procedures. Every other rule of the groups (headers, URI path, query string,
// cookies) blocks on every path, chat included.
var managedGroups = []managedGroup{
	{name: "AWSManagedRulesAmazonIpReputationList"},
	{name: "AWSManagedRulesCommonRuleSet", body: []bodyRule{
		{"SizeRestrictions_BODY", "awswaf:managed:aws:core-rule-set:SizeRestrictions_Body"},
		{"EC2MetaDataSSRF_BODY", "awswaf:managed:aws:core-rule-set:EC2MetaDataSSRF_Body"},
		{"GenericLFI_BODY", "awswaf:managed:aws:core-rule-set:GenericLFI_Body"},
		{"GenericRFI_BODY", "awswaf:managed:aws:core-rule-set:GenericRFI_Body"},
		{"CrossSiteScripting_BODY", "awswaf:managed:aws:core-rule-set:CrossSiteScripting_Body"},
	}},
	{name: "AWSManagedRulesKnownBadInputsRuleSet", body: []bodyRule{
		{"JavaDeserializationRCE_BODY", "awswaf:managed:aws:known-bad-inputs:JavaDeserializationRCE_Body"},
		{"Log4JRCE_BODY", "awswaf:managed:aws:known-bad-inputs:Log4JRCE_Body"},
	}},
	{name: "AWSManagedRulesSQLiRuleSet", body: []bodyRule{
		{"SQLi_BODY", "awswaf:managed:aws:sql-database:SQLi_Body"},
		{"SQLiExtendedPatterns_BODY", "awswaf:managed:aws:sql-database:SQLiExtendedPatterns_Body"},
	}},
}

// callerKey is what identifies a caller to the per-caller rate limit: a header (the API's
// Authorization) or a cookie (the edge's session). Requests without it are not counted by
// that rule, only by the per-address flood guard.
type callerKey struct{ header, cookie string }

// webACLProps describes a web ACL: optional IP allow list and geo rules, a per-caller and a
// per-address rate-based rule, the AWS managed rule groups with their body rules scoped
// away from the chat procedures, and the rule that blocks on those body rules elsewhere.
type webACLProps struct {
	name        string
	scope       string // REGIONAL or CLOUDFRONT
	rateLimit   int    // per caller (callerKey) per 5 minutes
	callerKey   callerKey
	ipRateLimit int // per address per 5 minutes: the flood guard
	countries   []string
	ipAllow     []string
	chatPaths   []string // exact URI paths whose bodies are prompts
	bodyRules   string   // "count" or "block": the body rules outside chatPaths, and the SQLi group
}

func visibility(metric string) *awswafv2.CfnWebACL_VisibilityConfigProperty {
	return &awswafv2.CfnWebACL_VisibilityConfigProperty{
		CloudWatchMetricsEnabled: jsii.Bool(true),
		MetricName:               jsii.String(strings.ReplaceAll(metric, "-", "")),
		SampledRequestsEnabled:   jsii.Bool(true),
	}
}

var noTransformation = &[]any{&awswafv2.CfnWebACL_TextTransformationProperty{Priority: jsii.Number(0), Type: jsii.String("NONE")}}

// newWebACL builds a web ACL in scope (used by the regional stack and the edge stack).
func newWebACL(scope constructs.Construct, id string, p webACLProps) awswafv2.CfnWebACL {
	var rules []any
	block := &awswafv2.CfnWebACL_RuleActionProperty{Block: map[string]any{}}
	count := &awswafv2.CfnWebACL_RuleActionProperty{Count: map[string]any{}}
	bodyAction := block
	if p.bodyRules == "count" {
		bodyAction = count
	}
	priority := 0
	add := func(r *awswafv2.CfnWebACL_RuleProperty) {
		r.Priority = jsii.Number(priority)
		priority++
		rules = append(rules, r)
	}
	if len(p.ipAllow) > 0 {
		set := awswafv2.NewCfnIPSet(scope, jsii.String(id+"AllowList"), &awswafv2.CfnIPSetProps{
			Name:             jsii.String(p.name + "-allow"),
			Scope:            jsii.String(p.scope),
			IpAddressVersion: jsii.String("IPV4"),
			Addresses:        jsii.Strings(p.ipAllow...),
		})
		add(&awswafv2.CfnWebACL_RuleProperty{
			Name:   jsii.String("BlockOutsideAllowList"),
			Action: block,
			Statement: &awswafv2.CfnWebACL_StatementProperty{NotStatement: &awswafv2.CfnWebACL_NotStatementProperty{
				Statement: &awswafv2.CfnWebACL_StatementProperty{IpSetReferenceStatement: &awswafv2.CfnWebACL_IPSetReferenceStatementProperty{Arn: set.AttrArn()}},
			}},
			VisibilityConfig: visibility(p.name + "-allowlist"),
		})
	}
	if len(p.countries) > 0 {
		add(&awswafv2.CfnWebACL_RuleProperty{
			Name:   jsii.String("BlockOutsideCountries"),
			Action: block,
			Statement: &awswafv2.CfnWebACL_StatementProperty{NotStatement: &awswafv2.CfnWebACL_NotStatementProperty{
				Statement: &awswafv2.CfnWebACL_StatementProperty{GeoMatchStatement: &awswafv2.CfnWebACL_GeoMatchStatementProperty{CountryCodes: jsii.Strings(p.countries...)}},
			}},
			VisibilityConfig: visibility(p.name + "-geo"),
		})
	}
	// Per caller: the session cookie at the edge, the access token at the API (WAF keeps
	// only an aggregate of the value, not the token).
	key := &awswafv2.CfnWebACL_RateBasedStatementCustomKeyProperty{}
	if p.callerKey.header != "" {
		key.Header = &awswafv2.CfnWebACL_RateLimitHeaderProperty{Name: jsii.String(p.callerKey.header), TextTransformations: noTransformation}
	} else {
		key.Cookie = &awswafv2.CfnWebACL_RateLimitCookieProperty{Name: jsii.String(p.callerKey.cookie), TextTransformations: noTransformation}
	}
	add(&awswafv2.CfnWebACL_RuleProperty{
		Name:   jsii.String("RateLimitPerCaller"),
		Action: block,
		Statement: &awswafv2.CfnWebACL_StatementProperty{RateBasedStatement: &awswafv2.CfnWebACL_RateBasedStatementProperty{
			Limit:            jsii.Number(p.rateLimit),
			AggregateKeyType: jsii.String("CUSTOM_KEYS"),
			CustomKeys:       &[]any{key},
		}},
		VisibilityConfig: visibility(p.name + "-rate-caller"),
	})
	// Per address: only a coarse flood guard (an office NAT or the BFF's egress addresses
	// carry many callers).
	add(&awswafv2.CfnWebACL_RuleProperty{
		Name:   jsii.String("FloodGuardPerIp"),
		Action: block,
		Statement: &awswafv2.CfnWebACL_StatementProperty{RateBasedStatement: &awswafv2.CfnWebACL_RateBasedStatementProperty{
			Limit:            jsii.Number(p.ipRateLimit),
			AggregateKeyType: jsii.String("IP"),
		}},
		VisibilityConfig: visibility(p.name + "-rate-ip"),
	})
	var labels []any
	for _, g := range managedGroups {
		var ov []any
		for _, b := range g.body {
			ov = append(ov, &awswafv2.CfnWebACL_RuleActionOverrideProperty{Name: jsii.String(b.rule), ActionToUse: count})
			labels = append(labels, &awswafv2.CfnWebACL_StatementProperty{LabelMatchStatement: &awswafv2.CfnWebACL_LabelMatchStatementProperty{
				Scope: jsii.String("LABEL"), Key: jsii.String(b.label),
			}})
		}
		stmt := &awswafv2.CfnWebACL_ManagedRuleGroupStatementProperty{VendorName: jsii.String("AWS"), Name: jsii.String(g.name)}
		if len(ov) > 0 {
			stmt.RuleActionOverrides = &ov
		}
		override := &awswafv2.CfnWebACL_OverrideActionProperty{None: map[string]any{}}
		if g.name == "AWSManagedRulesSQLiRuleSet" && p.bodyRules == "count" {
			// New to these web ACLs: watched in count mode first.
			override = &awswafv2.CfnWebACL_OverrideActionProperty{Count: map[string]any{}}
		}
		add(&awswafv2.CfnWebACL_RuleProperty{
			Name:             jsii.String(g.name),
			OverrideAction:   override,
			Statement:        &awswafv2.CfnWebACL_StatementProperty{ManagedRuleGroupStatement: stmt},
			VisibilityConfig: visibility(p.name + "-" + g.name),
		})
	}
	var chat []any
	for _, path := range p.chatPaths {
		chat = append(chat, &awswafv2.CfnWebACL_StatementProperty{ByteMatchStatement: &awswafv2.CfnWebACL_ByteMatchStatementProperty{
			FieldToMatch:         &awswafv2.CfnWebACL_FieldToMatchProperty{UriPath: map[string]any{}},
			PositionalConstraint: jsii.String("EXACTLY"),
			SearchString:         jsii.String(path),
			TextTransformations:  noTransformation,
		}})
	}
	// The body rules' verdict: block (or count) wherever the body is not a prompt.
	add(&awswafv2.CfnWebACL_RuleProperty{
		Name:   jsii.String("BodyAttacksOutsideChat"),
		Action: bodyAction,
		Statement: &awswafv2.CfnWebACL_StatementProperty{AndStatement: &awswafv2.CfnWebACL_AndStatementProperty{Statements: &[]any{
			&awswafv2.CfnWebACL_StatementProperty{OrStatement: &awswafv2.CfnWebACL_OrStatementProperty{Statements: &labels}},
			&awswafv2.CfnWebACL_StatementProperty{NotStatement: &awswafv2.CfnWebACL_NotStatementProperty{
				Statement: &awswafv2.CfnWebACL_StatementProperty{OrStatement: &awswafv2.CfnWebACL_OrStatementProperty{Statements: &chat}},
			}},
		}}},
		VisibilityConfig: visibility(p.name + "-body"),
	})
	return awswafv2.NewCfnWebACL(scope, jsii.String(id), &awswafv2.CfnWebACLProps{
		Name:             jsii.String(p.name),
		Scope:            jsii.String(p.scope),
		DefaultAction:    &awswafv2.CfnWebACL_DefaultActionProperty{Allow: map[string]any{}},
		Rules:            &rules,
		VisibilityConfig: visibility(p.name),
	})
}

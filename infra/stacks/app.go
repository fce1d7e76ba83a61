package stacks

import (
	"fmt"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/portico-dev/portico/infra/config"
)

// EdgeRegion is where CloudFront's web ACL (and certificate) must live.
const EdgeRegion = "us-east-1"

// Options are the build-time inputs that are not part of an environment's configuration.
type Options struct {
	// InfraDir is the infra/ directory; relative paths of the configuration resolve against
	// it. Empty means the current directory.
	InfraDir string
	// AssetDir overrides the configuration's assetDir (the tests point it at placeholders).
	AssetDir string
}

// Portico is one environment's stacks.
type Portico struct {
	// Edge is the us-east-1 stack holding the CloudFront web ACL.
	Edge awscdk.Stack
	// Main is the regional stack holding everything else.
	Main awscdk.Stack
}

// StackNames returns the edge and main stack names of cfg's environment.
func StackNames(cfg *config.Config) (edge, main string) {
	return "Portico-" + cfg.Env + "-Edge", "Portico-" + cfg.Env
}

// New adds cfg's environment to app: the edge stack (us-east-1) and the regional stack,
// which reads the edge web ACL's ARN through a CDK cross-region reference. It also applies
// the cdk-nag AwsSolutions checks with Portico's documented suppressions.
func New(app awscdk.App, cfg *config.Config, opts Options) (*Portico, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	infraDir := opts.InfraDir
	if infraDir == "" {
		infraDir = "."
	}
	assetDir := opts.AssetDir
	if assetDir == "" {
		assetDir = cfg.AssetDir
		if !filepath.IsAbs(assetDir) {
			assetDir = filepath.Join(infraDir, assetDir)
		}
	}
	if err := CheckAssets(assetDir); err != nil {
		return nil, err
	}
	edgeName, mainName := StackNames(cfg)
	tags := map[string]*string{"project": jsii.String("portico"), "environment": jsii.String(cfg.Env)}

	edge := awscdk.NewStack(app, jsii.String(edgeName), &awscdk.StackProps{
		Env:                   &awscdk.Environment{Account: jsii.String(cfg.Account), Region: jsii.String(EdgeRegion)},
		Description:           jsii.String("Portico " + cfg.Env + ": CloudFront web ACL (us-east-1)"),
		CrossRegionReferences: jsii.Bool(true),
		Tags:                  &tags,
	})
	edgeACL := newWebACL(edge, "WebAcl", webACLProps{
		name:        cfg.Name("edge"),
		scope:       "CLOUDFRONT",
		rateLimit:   cfg.Web.RateLimit,
		callerKey:   callerKey{cookie: SessionCookie},
		ipRateLimit: cfg.Web.IPRateLimit,
		countries:   cfg.Web.AllowedCountries,
		chatPaths:   EdgeChatPaths(),
		bodyRules:   cfg.WAFBodyRules,
	})

	// The edge stack gets CDK's helper function (the cross-region reference's writer) only
	// when the regional stack is in another region.
	if cfg.Region != EdgeRegion {
		edgeRemoval := awscdk.RemovalPolicy_DESTROY
		if cfg.Protect {
			edgeRemoval = awscdk.RemovalPolicy_RETAIN_ON_UPDATE_OR_DELETE
		}
		helperLogGroup(edge, cfg, "edge", edgeLogsKey(edge, cfg, edgeRemoval), edgeRemoval)
	}

	main := awscdk.NewStack(app, jsii.String(mainName), &awscdk.StackProps{
		Env:                   &awscdk.Environment{Account: jsii.String(cfg.Account), Region: jsii.String(cfg.Region)},
		Description:           jsii.String("Portico " + cfg.Env + ": identity, services, API, web, data, operations"),
		CrossRegionReferences: jsii.Bool(true),
		TerminationProtection: jsii.Bool(cfg.Protect),
		Tags:                  &tags,
	})
	e := &env{cfg: cfg, stack: main, assetDir: assetDir}
	e.key = e.newKey(main)
	helperLogGroup(main, cfg, "main", e.key, e.removal())
	table := e.newTable(main)
	sessions := e.newSessionTable(main)
	id := e.newIdentity(main)
	svc, err := e.newServices(main, id, jsii.String(cfg.Name("ledger")), infraDir)
	if err != nil {
		return nil, err
	}
	for _, g := range svc.all() {
		g.fn.Node().AddDependency(table)
	}
	a := e.newAPI(main, svc)
	caps := e.newCapabilities(main, svc, a.openAIBaseURL())
	w := e.newWeb(main, id, a, sessions, edgeACL.AttrArn())
	attachments := e.newAttachmentBucket(main, w.logs)
	svc.inference.fn.Node().AddDependency(attachments)
	e.newOps(main, svc, a, w)

	out := func(name, desc string, v *string) {
		awscdk.NewCfnOutput(main, jsii.String(name), &awscdk.CfnOutputProps{Description: jsii.String(desc), Value: v})
	}
	out("PublicUrl", "Open this (after the DNS record below)", jsii.String(cfg.PublicURL()))
	out("DistributionDomain", "CNAME/alias target for "+cfg.Web.Domain, w.distribution.DistributionDomainName())
	out("DistributionId", "For cache invalidation after an SPA upload", w.distribution.DistributionId())
	out("SpaBucket", "Upload frontend/dist/portico/browser here", w.bucket.BucketName())
	out("Issuer", "Token issuer", id.issuer)
	out("CookieKeysSecretArn", "Set the BFF cookie keys here (docs/deploy.md)", id.cookieKeys.SecretArn())
	if p := id.cognito; p != nil {
		out("UserPoolId", "Cognito user pool", p.pool.UserPoolId())
		out("SamlEntityId", "Entra: Identifier (Entity ID)", jsii.String(fmt.Sprintf("urn:amazon:cognito:sp:%s", *p.pool.UserPoolId())))
		out("SamlReplyUrl", "Entra: Reply URL (Assertion Consumer Service URL)", jsii.String(fmt.Sprintf("https://%s.auth.%s.amazoncognito.com/saml2/idpresponse", cfg.Identity.DomainPrefix, cfg.Region)))
		out("WebClientId", "BFF app client", p.webClient.UserPoolClientId())
		out("MachineClientId", "Client-credentials app client", p.machineClient.UserPoolClientId())
		out("MachineClientSecretArn", "Secret of the machine client", p.machineSecret.SecretArn())
		out("TokenEndpoint", "Client-credentials token endpoint", jsii.String(fmt.Sprintf("https://%s.auth.%s.amazoncognito.com/oauth2/token", cfg.Identity.DomainPrefix, cfg.Region)))
	} else {
		// The two Web redirect URIs of the BFF's Entra app registration: the sign-in callback
		// and the return from RP-initiated logout (post_logout_redirect_uri).
		out("EntraRedirectUri", "Entra web app: Web redirect URI (sign-in)", jsii.String(cfg.PublicURL()+"/auth/callback"))
		out("EntraSignedOutUri", "Entra web app: Web redirect URI (return from sign-out)", jsii.String(cfg.PublicURL()+"/auth/signed-out"))
		out("WebClientId", "BFF web app (Entra)", id.webClientID)
		out("TokenEndpoint", "Client-credentials token endpoint (scope <Application ID URI>/.default)", jsii.String(cfg.EntraTokenEndpoint()))
	}
	out("ApiUrl", "Services behind API Gateway", a.url())
	out("TableName", "Ledger table", table.TableName())
	out("SessionTableName", "BFF session table (PORTICO_SESSION_STORE)", sessions.TableName())
	out("ConversationTableName", "Conversation table (PORTICO_CONVERSATION_STORE)", jsii.String(cfg.Name("conversations")))
	out("AttachmentBucketName", "Attachment bucket (PORTICO_ATTACHMENT_STORE)", attachments.BucketName())
	out("KeyTableName", "Personal API key table (PORTICO_KEY_STORE)", jsii.String(cfg.Name("keys")))
	out("EventBusName", "Governance alert events (PORTICO_EVENT_BUS)", caps.governance.bus.EventBusName())
	out("OpenAIBaseUrl", "OpenAI-compatible endpoint for API keys (PORTICO_PUBLIC_API_URL)", a.openAIBaseURL())
	if t := caps.governance.topic; t != nil {
		out("AlertTopicArn", "E-mail topic of the quota alerts (alerts.emails)", t.TopicArn())
	}

	parts := nagParts{
		apiLogsRole:  a.rest.Node().FindChild(jsii.String("CloudWatchRole")),
		cookieKeys:   id.cookieKeys,
		distribution: w.distribution,
		attachments:  svc.inference.role,
	}
	for _, g := range append(svc.all(), svc.authorizer, w.bff) {
		parts.lambdaRoles = append(parts.lambdaRoles, g.role)
	}
	if p := id.cognito; p != nil {
		parts.clientSecrets = []constructs.IConstruct{p.webSecret, p.machineSecret}
		parts.userPool = p.pool
		parts.lambdaRoles = append(parts.lambdaRoles, p.preToken.role)
	}
	for _, m := range a.methods {
		parts.methods = append(parts.methods, m)
	}
	applyNag(app, cfg, parts)
	return &Portico{Edge: edge, Main: main}, nil
}

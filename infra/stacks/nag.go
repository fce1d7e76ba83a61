package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	cdknag "github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/portico-dev/portico/infra/config"
)

// suppression is one accepted cdk-nag finding: the rule, optionally the exact finding it
// covers (appliesTo, a regular expression), and why Portico accepts it.
type suppression struct {
	rule      string
	appliesTo string // regular expression over the finding ("Resource::…"), or empty
	reason    string
}

// Reasons, written once so the report and the template say the same thing.
const (
	reasonLogStreams = "Lambda names its log streams at run time: the resource is the function's own log group's " +
		"streams (arn:aws:logs:<region>:<account>:log-group:/aws/lambda/<function>:log-stream:*), the narrowest ARN " +
		"logs:CreateLogStream and logs:PutLogEvents accept."
	reasonAPIGatewayLogsRole = "API Gateway's account-level CloudWatch role: AWS documents this managed policy for " +
		"exactly this purpose; it only lets API Gateway write its own execution and access logs."
	reasonLambdaAuthorizer = "A Lambda REQUEST authorizer (identity source: the Authorization header) verifies the Cognito access token (RS256, issuer, client_id, " +
		"token_use, expiry) and applies Portico's group and scope policy, which a Cognito user pool authorizer cannot " +
		"do (it neither checks cognito:groups against the policy nor machine-client scopes per service)."
	reasonLambdaAuthorizerEntra = "A Lambda REQUEST authorizer (identity source: the Authorization header) verifies the Entra ID v2.0 access " +
		"token (RS256, the tenant's exact issuer, tid, aud, azp, scp or roles, expiry) and applies Portico's group and scope " +
		"policy; this environment has no Cognito user pool (identity.mode entra), so no Cognito authorizer can exist."
	reasonClientSecret = "A Cognito app-client secret is generated and held by Cognito; it rotates with Cognito's " +
		"two-active-secrets procedure (add-user-pool-client-secret, update this secret, retire the old one) " +
		"described in docs/deploy.md, not with a Secrets Manager rotation function."
	reasonCookieKeys = "The BFF cookie keys rotate by an operator procedure (prepend a new key, keep the old one " +
		"until sessions expire, then drop it; docs/deploy.md); an automatic single-value rotation would end every " +
		"session at once."
	reasonNoPlusUAT = "This environment (uat) runs on the Essentials feature plan to save the Plus tier's per-user " +
		"cost; it holds test users only. prod sets identity.threatProtection (Plus, full-function threat protection)."
	reasonAttachmentObjects = "The attachment objects of one bucket (arn:aws:s3:::portico-<env>-attachments-<account>-<region>/*): " +
		"each object key is made at run time from the owner's hash, the conversation and the attachment " +
		"(services/attachment/s3store), so the bucket's objects are the narrowest resource s3:GetObject, " +
		"s3:PutObject and s3:DeleteObject can name; only the Inference function holds it."
	reasonNoGeoUAT = "This environment (uat) is not restricted by country (testers travel); the edge WAF, Entra " +
		"sign-in and the authorizer still apply. prod sets web.allowedCountries."
)

// nagParts are the constructs that carry suppressions.
type nagParts struct {
	lambdaRoles   []constructs.IConstruct
	attachments   constructs.IConstruct // the role that reads and writes attachment objects
	apiLogsRole   constructs.IConstruct
	methods       []constructs.IConstruct
	clientSecrets []constructs.IConstruct
	cookieKeys    constructs.IConstruct
	userPool      constructs.IConstruct // nil with Entra ID directly
	distribution  constructs.IConstruct
}

// applyNag runs cdk-nag's AwsSolutions pack over the app and records Portico's accepted
// findings, each with its reason, on the exact constructs they concern.
func applyNag(app awscdk.App, cfg *config.Config, p nagParts) {
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	suppress := func(c constructs.IConstruct, children bool, ss ...suppression) {
		list := make([]*cdknag.NagPackSuppression, 0, len(ss))
		for _, s := range ss {
			n := &cdknag.NagPackSuppression{Id: jsii.String(s.rule), Reason: jsii.String(s.reason)}
			if s.appliesTo != "" {
				n.AppliesTo = &[]any{&cdknag.RegexAppliesTo{Regex: jsii.String(s.appliesTo)}}
			}
			list = append(list, n)
		}
		cdknag.NagSuppressions_AddResourceSuppressions(c, &list, jsii.Bool(children))
	}
	for _, r := range p.lambdaRoles {
		suppress(r, true, suppression{"AwsSolutions-IAM5", `/^Resource::arn:aws:logs:[a-z0-9-]+:[0-9]{12}:log-group:\/aws\/lambda\/portico-(uat|prod)-[a-z-]+:log-stream:\*$/`, reasonLogStreams})
	}
	suppress(p.attachments, true, suppression{"AwsSolutions-IAM5", `/^Resource::arn:aws:s3:::portico-(uat|prod)-attachments-[0-9]{12}-[a-z0-9-]+\/\*$/`, reasonAttachmentObjects})
	suppress(p.apiLogsRole, false, suppression{"AwsSolutions-IAM4", `/^Policy::arn:<AWS::Partition>:iam::aws:policy\/service-role\/AmazonAPIGatewayPushToCloudWatchLogs$/`, reasonAPIGatewayLogsRole})
	authorizer := reasonLambdaAuthorizer
	if cfg.IsEntra() {
		authorizer = reasonLambdaAuthorizerEntra
	}
	for _, m := range p.methods {
		suppress(m, false, suppression{"AwsSolutions-COG4", "", authorizer})
	}
	for _, s := range p.clientSecrets {
		suppress(s, false, suppression{"AwsSolutions-SMG4", "", reasonClientSecret})
	}
	suppress(p.cookieKeys, false, suppression{"AwsSolutions-SMG4", "", reasonCookieKeys})
	if p.userPool != nil && !cfg.Identity.ThreatProtection {
		suppress(p.userPool, false, suppression{"AwsSolutions-COG8", "", reasonNoPlusUAT})
	}
	if len(cfg.Web.AllowedCountries) == 0 {
		suppress(p.distribution, false, suppression{"AwsSolutions-CFR1", "", reasonNoGeoUAT})
	}
}

package stacks

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfront"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfrontorigins"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// ContentSecurityPolicy is the strict policy CloudFront adds to every response: the same as
// the BFF's own header (bff/headers), whose form-action allows the token issuer's origin
// (FormActionOrigin).
func ContentSecurityPolicy(formActionOrigin string) string {
	return strings.Join([]string{
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self' 'unsafe-inline'",
		"connect-src 'self'",
		"img-src 'self' data: blob:",
		"font-src 'self' data:",
		"object-src 'none'",
		"frame-ancestors 'none'",
		"base-uri 'self'",
		"form-action 'self' " + formActionOrigin,
	}, "; ")
}

// PermissionsPolicy is the BFF's Permissions-Policy header.
const PermissionsPolicy = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"

// spaRouterCode sends every extension-less path of the SPA to index.html (history-API
// routing) without masking the BFF's real 403/404 answers the way custom error pages would.
const spaRouterCode = `function handler(event) {
  var request = event.request;
  if (request.uri.indexOf('.') === -1) {
    request.uri = '/index.html';
  }
  return request;
}`

// BFFOriginHeaders are the only request headers CloudFront forwards to the BFF (an allow
// list: whatever else a browser sends, tracing, identity or address headers included, stops
// at the edge). CloudFront allows 10 headers per origin request policy by default.
var BFFOriginHeaders = []string{
	// Connect protocol (connect-web sends no compression headers).
	"Content-Type", "Connect-Protocol-Version", "Connect-Timeout-Ms",
	// The BFF's cross-site request guard (bff/headers.Guard).
	"X-CSRF", "Origin", "Sec-Fetch-Site",
	// The browser's user agent, for the audit trail (else CloudFront sends its own).
	"User-Agent",
	// The body hash the SPA computes: Lambda verifies POST bodies behind origin access control.
	"x-amz-content-sha256",
	// A CloudFront header: CloudFront sets it from the viewer's connection (address and
	// port); the BFF takes it as the client address (PORTICO_TRUST_CLOUDFRONT_VIEWER_ADDRESS).
	"CloudFront-Viewer-Address",
}

// BFF environment variables the infrastructure sets beyond the OIDC and secret settings.
const (
	EnvSessionStore       = "PORTICO_SESSION_STORE"
	EnvTrustViewerAddress = "PORTICO_TRUST_CLOUDFRONT_VIEWER_ADDRESS"
)

// web is the browser-facing part: the SPA bucket, the BFF function and the distribution.
type web struct {
	bucket       awss3.Bucket
	logs         awss3.Bucket
	bff          *goFunction
	url          awslambda.FunctionUrl
	distribution awscloudfront.Distribution
	headers      awscloudfront.ResponseHeadersPolicy
	originReq    awscloudfront.OriginRequestPolicy
}

func (e *env) newWeb(scope constructs.Construct, id *identity, a *api, sessions awsdynamodb.Table, edgeACL *string) *web {
	c := constructs.NewConstruct(scope, jsii.String("Web"))
	cfg := e.cfg
	w := &web{}

	w.logs = awss3.NewBucket(c, jsii.String("AccessLogs"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		// CloudFront standard logging writes with ACLs.
		ObjectOwnership: awss3.ObjectOwnership_BUCKET_OWNER_PREFERRED,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Expiration: awscdk.Duration_Days(jsii.Number(cfg.LogRetentionDays)),
		}},
		RemovalPolicy: e.removal(),
	})
	w.bucket = awss3.NewBucket(c, jsii.String("Spa"), &awss3.BucketProps{
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:             awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:             jsii.Bool(true),
		Versioned:              jsii.Bool(true),
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		ServerAccessLogsBucket: w.logs,
		ServerAccessLogsPrefix: jsii.String("s3/spa/"),
		RemovalPolicy:          e.removal(),
	})

	w.bff = e.newGoFunction(c, "Bff", goFunctionProps{
		name: "bff", asset: BFFAsset, description: "Portico BFF (OIDC code flow, /auth/*, /api/*) behind CloudFront",
		memory: 512, timeout: awscdk.Duration_Minutes(jsii.Number(15)), reserved: cfg.Concurrency.BFF,
		environment: withEnv(id.bffEnv, map[string]*string{
			"PORTICO_LAMBDA_EVENT":           jsii.String("function-url"),
			"PORTICO_PUBLIC_URL":             jsii.String(cfg.PublicURL()),
			"PORTICO_OIDC_ISSUER":            id.issuer,
			"PORTICO_OIDC_CLIENT_ID":         id.webClientID,
			"PORTICO_OIDC_CLIENT_SECRET_ARN": id.webSecretARN,
			"PORTICO_COOKIE_KEYS_ARN":        id.cookieKeys.SecretArn(),
			"PORTICO_SERVICES_URL":           a.url(),
			// Server-side sessions: logout deletes the item, so a copied cookie dies at once.
			EnvSessionStore: jsii.String("dynamodb:" + *sessions.TableName()),
			// Only CloudFront can reach the Function URL (AWS_IAM, origin access control), and
			// it sets CloudFront-Viewer-Address itself (BFFOriginHeaders).
			EnvTrustViewerAddress: jsii.String("true"),
		}),
	})
	// The session table: exactly the calls bff/session/dynamosession makes, on that table only,
	// and its key only through DynamoDB.
	w.bff.role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadWriteSessions"),
		Actions:   jsii.Strings(sessionActions...),
		Resources: jsii.Strings(e.sessionTableARN()),
	}))
	w.bff.role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("SessionTableKey"),
		Actions:   jsii.Strings(sessionKeyActions...),
		Resources: &[]*string{e.key.KeyArn()},
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"kms:ViaService": "dynamodb." + cfg.Region + ".amazonaws.com"},
		},
	}))
	w.bff.role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadOwnSecrets"),
		Actions:   jsii.Strings("secretsmanager:GetSecretValue"),
		Resources: &[]*string{id.webSecretARN, id.cookieKeys.SecretArn()},
	}))
	// Function URL with IAM auth: only CloudFront (origin access control) can call it.
	w.url = w.bff.fn.AddFunctionUrl(&awslambda.FunctionUrlOptions{
		AuthType:   awslambda.FunctionUrlAuthType_AWS_IAM,
		InvokeMode: awslambda.InvokeMode_RESPONSE_STREAM,
	})

	w.headers = awscloudfront.NewResponseHeadersPolicy(c, jsii.String("Headers"), &awscloudfront.ResponseHeadersPolicyProps{
		ResponseHeadersPolicyName: jsii.String(cfg.Name("headers")),
		Comment:                   jsii.String("Portico security headers (same as the BFF's)"),
		SecurityHeadersBehavior: &awscloudfront.ResponseSecurityHeadersBehavior{
			ContentSecurityPolicy: &awscloudfront.ResponseHeadersContentSecurityPolicy{ContentSecurityPolicy: jsii.String(ContentSecurityPolicy(FormActionOrigin(cfg))), Override: jsii.Bool(true)},
			StrictTransportSecurity: &awscloudfront.ResponseHeadersStrictTransportSecurity{
				AccessControlMaxAge: awscdk.Duration_Days(jsii.Number(730)), IncludeSubdomains: jsii.Bool(true), Override: jsii.Bool(true),
			},
			FrameOptions:       &awscloudfront.ResponseHeadersFrameOptions{FrameOption: awscloudfront.HeadersFrameOption_DENY, Override: jsii.Bool(true)},
			ContentTypeOptions: &awscloudfront.ResponseHeadersContentTypeOptions{Override: jsii.Bool(true)},
			ReferrerPolicy:     &awscloudfront.ResponseHeadersReferrerPolicy{ReferrerPolicy: awscloudfront.HeadersReferrerPolicy_NO_REFERRER, Override: jsii.Bool(true)},
		},
		CustomHeadersBehavior: &awscloudfront.ResponseCustomHeadersBehavior{CustomHeaders: &[]*awscloudfront.ResponseCustomHeader{
			{Header: jsii.String("Cross-Origin-Opener-Policy"), Value: jsii.String("same-origin"), Override: jsii.Bool(true)},
			{Header: jsii.String("Permissions-Policy"), Value: jsii.String(PermissionsPolicy), Override: jsii.Bool(true)},
			{Header: jsii.String("Cross-Origin-Resource-Policy"), Value: jsii.String("same-origin"), Override: jsii.Bool(true)},
		}},
		RemoveHeaders: jsii.Strings("Server"),
	})
	// An allow list of headers (never Host: a Function URL answers only to its own host), all
	// cookies and query strings. CloudFront-Viewer-Address can only be had this way: the
	// all-but-Host behaviour forwards viewer headers and no CloudFront ones.
	w.originReq = awscloudfront.NewOriginRequestPolicy(c, jsii.String("BffOriginRequest"), &awscloudfront.OriginRequestPolicyProps{
		OriginRequestPolicyName: jsii.String(cfg.Name("bff")),
		Comment:                 jsii.String("Portico BFF: allow-listed headers with the viewer address, all cookies and query strings"),
		HeaderBehavior:          awscloudfront.OriginRequestHeaderBehavior_AllowList(*jsii.Strings(BFFOriginHeaders...)...),
		CookieBehavior:          awscloudfront.OriginRequestCookieBehavior_All(),
		QueryStringBehavior:     awscloudfront.OriginRequestQueryStringBehavior_All(),
	})

	bffOrigin := awscloudfrontorigins.FunctionUrlOrigin_WithOriginAccessControl(w.url, &awscloudfrontorigins.FunctionUrlOriginWithOACProps{
		// The BFF answers a streamed chat with its first byte only once the model's first
		// token arrives: wait as long as CloudFront allows without a quota increase.
		ReadTimeout: awscdk.Duration_Seconds(jsii.Number(cfg.Web.OriginReadTimeout.Seconds())),
		OriginAccessControl: awscloudfront.NewFunctionUrlOriginAccessControl(c, jsii.String("BffOac"), &awscloudfront.FunctionUrlOriginAccessControlProps{
			OriginAccessControlName: jsii.String(cfg.Name("bff")),
			Signing:                 awscloudfront.Signing_SIGV4_ALWAYS(),
		}),
	})
	bffBehavior := &awscloudfront.BehaviorOptions{
		Origin:                bffOrigin,
		ViewerProtocolPolicy:  awscloudfront.ViewerProtocolPolicy_HTTPS_ONLY,
		AllowedMethods:        awscloudfront.AllowedMethods_ALLOW_ALL(),
		CachePolicy:           awscloudfront.CachePolicy_CACHING_DISABLED(),
		OriginRequestPolicy:   w.originReq,
		ResponseHeadersPolicy: w.headers,
		Compress:              jsii.Bool(false),
	}
	router := awscloudfront.NewFunction(c, jsii.String("SpaRouter"), &awscloudfront.FunctionProps{
		FunctionName: jsii.String(cfg.Name("spa-router")),
		Comment:      jsii.String("SPA history-API routing to index.html"),
		Runtime:      awscloudfront.FunctionRuntime_JS_2_0(),
		Code:         awscloudfront.FunctionCode_FromInline(jsii.String(spaRouterCode)),
	})

	var geo awscloudfront.GeoRestriction
	if len(cfg.Web.AllowedCountries) > 0 {
		geo = awscloudfront.GeoRestriction_Allowlist(*jsii.Strings(cfg.Web.AllowedCountries...)...)
	}
	priceClass := map[string]awscloudfront.PriceClass{
		"100": awscloudfront.PriceClass_PRICE_CLASS_100, "200": awscloudfront.PriceClass_PRICE_CLASS_200, "All": awscloudfront.PriceClass_PRICE_CLASS_ALL,
	}[cfg.Web.PriceClass]
	w.distribution = awscloudfront.NewDistribution(c, jsii.String("Distribution"), &awscloudfront.DistributionProps{
		Comment:                jsii.String("Portico " + cfg.Env),
		DomainNames:            jsii.Strings(cfg.Web.Domain),
		Certificate:            awscertificatemanager.Certificate_FromCertificateArn(c, jsii.String("Certificate"), jsii.String(cfg.Web.CertificateARN)),
		MinimumProtocolVersion: awscloudfront.SecurityPolicyProtocol_TLS_V1_2_2021,
		SslSupportMethod:       awscloudfront.SSLMethod_SNI,
		HttpVersion:            awscloudfront.HttpVersion_HTTP2_AND_3,
		PriceClass:             priceClass,
		DefaultRootObject:      jsii.String("index.html"),
		WebAclId:               edgeACL,
		GeoRestriction:         geo,
		EnableLogging:          jsii.Bool(true),
		LogBucket:              w.logs,
		LogFilePrefix:          jsii.String("cloudfront/"),
		DefaultBehavior: &awscloudfront.BehaviorOptions{
			Origin:                awscloudfrontorigins.S3BucketOrigin_WithOriginAccessControl(w.bucket, nil),
			ViewerProtocolPolicy:  awscloudfront.ViewerProtocolPolicy_REDIRECT_TO_HTTPS,
			AllowedMethods:        awscloudfront.AllowedMethods_ALLOW_GET_HEAD_OPTIONS(),
			CachePolicy:           awscloudfront.CachePolicy_CACHING_OPTIMIZED(),
			ResponseHeadersPolicy: w.headers,
			Compress:              jsii.Bool(true),
			FunctionAssociations: &[]*awscloudfront.FunctionAssociation{{
				Function: router, EventType: awscloudfront.FunctionEventType_VIEWER_REQUEST,
			}},
		},
		AdditionalBehaviors: &map[string]*awscloudfront.BehaviorOptions{
			"/auth/*": bffBehavior,
			"/api/*":  bffBehavior,
		},
	})
	// Since October 2025 a Function URL with IAM auth also needs lambda:InvokeFunction for the
	// caller, limited to calls through the URL; FunctionUrlOrigin grants only InvokeFunctionUrl.
	awslambda.NewCfnPermission(c, jsii.String("BffInvokeViaUrl"), &awslambda.CfnPermissionProps{
		Action:                jsii.String("lambda:InvokeFunction"),
		FunctionName:          w.bff.fn.FunctionArn(),
		Principal:             jsii.String("cloudfront.amazonaws.com"),
		SourceArn:             jsii.String("arn:aws:cloudfront::" + cfg.Account + ":distribution/" + *w.distribution.DistributionId()),
		InvokedViaFunctionUrl: jsii.Bool(true),
	})
	return w
}

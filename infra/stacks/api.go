package stacks

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awswafv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// StageName is the API Gateway stage; the BFF's PORTICO_SERVICES_URL ends with it.
const StageName = "v1"

// BinaryMediaTypes are the request content types API Gateway passes to the functions as
// binary (base64 in the proxy event, decoded by services/platform/lambdahttp): Connect unary and
// streaming protobuf, gRPC-Web, and raw octet streams. Streamed (ResponseTransferMode STREAM)
// proxy integrations return response bytes as they are whatever this list says (API Gateway
// guide, "Binary media types for REST APIs"), so the list only governs request bodies; "*/*"
// is not needed and would also base64 the Connect JSON requests, so the list stays explicit.
var BinaryMediaTypes = []string{
	"application/proto", "application/connect+proto", "application/grpc-web", "application/grpc-web+proto",
	"application/octet-stream",
}

// serviceRoute is one Connect service (routed /<package.Service>/<Method>) and the function
// (by PORTICO_SERVICE name) that serves it.
type serviceRoute struct{ path, fn string }

// ServiceRoutes are the Connect services behind API Gateway. The conversations are served by
// the function that mounts inference (PORTICO_SERVICE=inference mounts ConversationService
// too: it holds the conversation store); the API keys by their own (PORTICO_SERVICE=apikey).
var ServiceRoutes = []serviceRoute{
	{"portico.identity.v1.IdentityService", "identity"},
	{"portico.inference.v1.InferenceService", "inference"},
	{"portico.admin.v1.AdminService", "admin"},
	{"portico.conversation.v1.ConversationService", "inference"},
	{"portico.apikey.v1.ApiKeyService", "apikey"},
}

// OpenAI-compatible endpoint: its resources under the stage, as the services route them
// (services: /v1/models, /v1/chat/completions), so its base URL is <stage URL>/v1.
const (
	OpenAIModelsPath = "/v1/models"
	OpenAIChatPath   = "/v1/chat/completions"
)

// OpenAIRoutes are the OpenAI-compatible endpoint's methods, all served by the inference
// function behind the same authorizer (which accepts Portico API keys there).
var OpenAIRoutes = []struct{ path, verb string }{
	{OpenAIModelsPath, "GET"},
	{OpenAIChatPath, "POST"},
}

// accessLogFormat is the stage's JSON access log line: who, what, how it ended, and why the
// authorizer or WAF refused. No headers, bodies or tokens.
const accessLogFormat = `{"requestId":"$context.requestId","extendedRequestId":"$context.extendedRequestId",` +
	`"time":"$context.requestTimeEpoch","ip":"$context.identity.sourceIp","method":"$context.httpMethod",` +
	`"path":"$context.path","resourcePath":"$context.resourcePath","protocol":"$context.protocol",` +
	`"status":"$context.status","responseLength":"$context.responseLength","latency":"$context.responseLatency",` +
	`"integrationLatency":"$context.integrationLatency","integrationStatus":"$context.integration.status",` +
	`"integrationError":"$context.integration.error","principal":"$context.authorizer.principalId",` +
	`"authorizerStatus":"$context.authorizer.status","authorizerError":"$context.authorizer.error",` +
	`"authorizerLatency":"$context.authorizer.latency","wafStatus":"$context.waf.status",` +
	`"wafResponseCode":"$context.wafResponseCode","errorType":"$context.error.responseType"}`

// AuthorizerHeader is the REQUEST authorizer's identity source.
const AuthorizerHeader = "Authorization"

// RetryAfterSeconds is the Retry-After of the 503 answered while the authorizer cannot
// verify tokens (the issuer's keys are unreachable); authorizer errors are never cached.
const RetryAfterSeconds = 5

// gatewayResponse is an answer API Gateway gives by itself, shaped as a Connect error
// (https://connectrpc.com/docs/protocol#error-end-stream): the HTTP status carries the code
// for streaming and gRPC-Web clients, the JSON body carries it for unary Connect clients.
type gatewayResponse struct {
	id         string
	kind       awsapigateway.ResponseType
	status     string
	code       string // Connect error code
	message    string
	retryAfter bool
}

// gatewayResponses: the authorizer's three outcomes besides Allow. A Lambda authorizer that
// returns an error other than "Unauthorized" (the Go authorizer's ErrUnavailable while the
// issuer's keys cannot be fetched) yields a 500, reported as AUTHORIZER_CONFIGURATION_ERROR
// (or AUTHORIZER_FAILURE); both become 503 unavailable with Retry-After, so clients retry
// instead of treating a valid session as signed out. A misconfigured authorizer still shows
// in the 5xx alarm.
func gatewayResponses() []gatewayResponse {
	unavailable := "token verification is temporarily unavailable; retry shortly"
	return []gatewayResponse{
		{"AuthorizerFailure", awsapigateway.ResponseType_AUTHORIZER_FAILURE(), "503", "unavailable", unavailable, true},
		{"AuthorizerConfigurationError", awsapigateway.ResponseType_AUTHORIZER_CONFIGURATION_ERROR(), "503", "unavailable", unavailable, true},
		{"Unauthorized", awsapigateway.ResponseType_UNAUTHORIZED(), "401", "unauthenticated", "missing, invalid or expired access token", false},
		{"AccessDenied", awsapigateway.ResponseType_ACCESS_DENIED(), "403", "permission_denied", "the caller may not call this procedure", false},
	}
}

// connectErrorBody is the JSON body of a Connect error.
func connectErrorBody(code, message string) string {
	b, err := json.Marshal(map[string]string{"code": code, "message": message})
	if err != nil {
		panic(err) // strings always marshal
	}
	return string(b)
}

// api is the REST API with its access log group and web ACL.
type api struct {
	rest      awsapigateway.RestApi
	accessLog awslogs.LogGroup
	webACL    awswafv2.CfnWebACL
	// methods are the service methods (authorised, streamed), for the checks.
	methods []awsapigateway.Method
}

func (e *env) newAPI(scope constructs.Construct, svc *services) *api {
	c := constructs.NewConstruct(scope, jsii.String("Api"))
	cfg := e.cfg
	a := &api{}
	a.accessLog = e.logGroup(c, "AccessLogs", "/aws/apigateway/"+cfg.Name("api")+"/access")
	a.rest = awsapigateway.NewRestApi(c, jsii.String("RestApi"), &awsapigateway.RestApiProps{
		RestApiName:           jsii.String(cfg.Name("api")),
		Description:           jsii.String("Portico services (Connect/gRPC-Web) behind the Lambda authorizer"),
		EndpointConfiguration: &awsapigateway.EndpointConfiguration{Types: &[]awsapigateway.EndpointType{awsapigateway.EndpointType_REGIONAL}},
		// Execution logging needs the account's API Gateway CloudWatch role.
		CloudWatchRole:              jsii.Bool(true),
		CloudWatchRoleRemovalPolicy: awscdk.RemovalPolicy_RETAIN_ON_UPDATE_OR_DELETE,
		DeployOptions: &awsapigateway.StageOptions{
			StageName:            jsii.String(StageName),
			ThrottlingRateLimit:  jsii.Number(cfg.API.ThrottleRate),
			ThrottlingBurstLimit: jsii.Number(cfg.API.ThrottleBurst),
			LoggingLevel:         awsapigateway.MethodLoggingLevel_ERROR,
			DataTraceEnabled:     jsii.Bool(false), // never log request or response bodies
			MetricsEnabled:       jsii.Bool(true),
			AccessLogDestination: awsapigateway.NewLogGroupLogDestination(a.accessLog),
			AccessLogFormat:      awsapigateway.AccessLogFormat_Custom(jsii.String(accessLogFormat)),
		},
		DefaultCorsPreflightOptions: &awsapigateway.CorsOptions{
			AllowOrigins: jsii.Strings(cfg.API.AllowedOrigins...), // exact origins, never "*"
			AllowMethods: jsii.Strings("GET", "POST", "OPTIONS"),
			AllowHeaders: jsii.Strings("Authorization", "Content-Type", "Connect-Protocol-Version", "Connect-Timeout-Ms",
				"Connect-Content-Encoding", "Connect-Accept-Encoding", "X-Grpc-Web", "X-User-Agent", "Grpc-Timeout"),
			ExposeHeaders:    jsii.Strings("Grpc-Status", "Grpc-Message", "Grpc-Status-Details-Bin"),
			AllowCredentials: jsii.Bool(false), // bearer tokens, not cookies
			MaxAge:           awscdk.Duration_Minutes(jsii.Number(10)),
		},
		DisableExecuteApiEndpoint: jsii.Bool(false),
		// Binary Connect, gRPC-Web and protobuf request bodies reach the functions
		// base64-encoded instead of being mangled as UTF-8 text; JSON stays text.
		BinaryMediaTypes: jsii.Strings(BinaryMediaTypes...),
	})

	// TLS 1.2 or later on the execute-api endpoint (its default, TLS_1_0, accepts 1.0 and
	// 1.1); an enhanced policy also needs the endpoint access mode.
	restCfn := a.rest.Node().DefaultChild().(awsapigateway.CfnRestApi)
	restCfn.SetSecurityPolicy(jsii.String(cfg.API.SecurityPolicy))
	if strings.HasPrefix(cfg.API.SecurityPolicy, "SecurityPolicy_") {
		restCfn.SetEndpointAccessMode(jsii.String("STRICT"))
	}
	// API Gateway writes execution logs (level ERROR) to a log group it names itself and
	// creates without retention or key: create it first, encrypted, with the retention.
	execLogs := awslogs.NewLogGroup(c, jsii.String("ExecutionLogs"), &awslogs.LogGroupProps{
		LogGroupName:  awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("API-Gateway-Execution-Logs_"), a.rest.RestApiId(), jsii.String("/" + StageName)}),
		Retention:     retention[cfg.LogRetentionDays],
		EncryptionKey: e.key,
		RemovalPolicy: e.removal(),
	})
	a.rest.DeploymentStage().Node().AddDependency(execLogs)

	// A REQUEST authorizer sees every Authorization header, so the Go authorizer refuses a
	// request carrying two (a TOKEN authorizer would see only one). The identity source is
	// the header alone: API Gateway answers 401 without invoking the function when it is
	// missing, and caches the decision per header value (the policies are API-wide).
	authorizer := awsapigateway.NewRequestAuthorizer(c, jsii.String("Authorizer"), &awsapigateway.RequestAuthorizerProps{
		AuthorizerName:  jsii.String(cfg.Name("authorizer")),
		Handler:         svc.authorizer.fn,
		IdentitySources: &[]*string{awsapigateway.IdentitySource_Header(jsii.String(AuthorizerHeader))},
		ResultsCacheTtl: awscdk.Duration_Seconds(jsii.Number(cfg.API.AuthorizerCacheTTL.Seconds())),
	})
	for _, r := range gatewayResponses() {
		headers := map[string]*string{"Content-Type": jsii.String("'application/json'")}
		if r.retryAfter {
			headers["Retry-After"] = jsii.String(fmt.Sprintf("'%d'", RetryAfterSeconds))
		}
		a.rest.AddGatewayResponse(jsii.String(r.id), &awsapigateway.GatewayResponseOptions{
			Type:            r.kind,
			StatusCode:      jsii.String(r.status),
			ResponseHeaders: &headers,
			Templates:       &map[string]*string{"application/json": jsii.String(connectErrorBody(r.code, r.message))},
		})
	}
	validator := a.rest.AddRequestValidator(jsii.String("Validator"), &awsapigateway.RequestValidatorOptions{
		RequestValidatorName:      jsii.String(cfg.Name("params")),
		ValidateRequestParameters: jsii.Bool(true),
		ValidateRequestBody:       jsii.Bool(true), // no request models: Connect bodies pass as they are
	})

	fns := map[string]*goFunction{"identity": svc.identity, "inference": svc.inference, "admin": svc.admin, "apikey": svc.apikey}
	// Streamed proxy integrations, one per function: API Gateway invokes the function with
	// InvokeWithResponseStream and forwards bytes as they come (server-streaming RPCs and
	// the OpenAI endpoint's server-sent events).
	integrations := map[string]awsapigateway.LambdaIntegration{}
	integration := func(fn string) awsapigateway.LambdaIntegration {
		if i, ok := integrations[fn]; ok {
			return i
		}
		i := awsapigateway.NewLambdaIntegration(fns[fn].fn, &awsapigateway.LambdaIntegrationOptions{
			Proxy:                jsii.Bool(true),
			ResponseTransferMode: awsapigateway.ResponseTransferMode_STREAM,
			AllowTestInvoke:      jsii.Bool(false),
		})
		integrations[fn] = i
		return i
	}
	method := func(res awsapigateway.IResource, verb, fn string) {
		m := res.AddMethod(jsii.String(verb), integration(fn), &awsapigateway.MethodOptions{
			AuthorizationType: awsapigateway.AuthorizationType_CUSTOM,
			Authorizer:        authorizer,
			RequestValidator:  validator,
			RequestParameters: &map[string]*bool{"method.request.header." + AuthorizerHeader: jsii.Bool(true)},
		})
		// A streamed response may run up to 15 minutes (the L2 caps the timeout at 29 s).
		cfn := m.Node().DefaultChild().(awsapigateway.CfnMethod)
		cfn.AddPropertyOverride(jsii.String("Integration.TimeoutInMillis"), jsii.Number(900_000))
		a.methods = append(a.methods, m)
	}
	for _, r := range ServiceRoutes {
		res := a.rest.Root().AddResource(jsii.String(r.path), nil).AddResource(jsii.String("{method}"), nil)
		for _, verb := range []string{"GET", "POST"} {
			method(res, verb, r.fn)
		}
	}
	for _, r := range OpenAIRoutes {
		method(a.rest.Root().ResourceForPath(jsii.String(r.path)), r.verb, "inference")
	}

	a.webACL = newWebACL(c, "WebAcl", webACLProps{
		name:        cfg.Name("api"),
		scope:       "REGIONAL",
		rateLimit:   cfg.API.RateLimit,
		callerKey:   callerKey{header: AuthorizerHeader},
		ipRateLimit: cfg.API.IPRateLimit,
		countries:   cfg.API.AllowedCountries,
		ipAllow:     cfg.API.IPAllowList,
		chatPaths:   APIChatPaths(),
		bodyRules:   cfg.WAFBodyRules,
	})
	awswafv2.NewCfnWebACLAssociation(c, jsii.String("WebAclAssociation"), &awswafv2.CfnWebACLAssociationProps{
		ResourceArn: a.rest.DeploymentStage().StageArn(),
		WebAclArn:   a.webACL.AttrArn(),
	})
	return a
}

// openAIBaseURL is the OpenAI-compatible endpoint's base URL: the stage URL and /v1.
func (a *api) openAIBaseURL() *string {
	return awscdk.Fn_Join(jsii.String(""), &[]*string{a.url(), jsii.String("/v1")})
}

// url is the stage's invoke URL without a trailing slash (the BFF appends /<Service>/<Method>).
func (a *api) url() *string {
	return awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("https://"), a.rest.RestApiId(), jsii.String(".execute-api."), awscdk.Aws_REGION(),
		jsii.String(".amazonaws.com/" + StageName),
	})
}

package authorizer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/portico-dev/portico/services/authn"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/principal"
	"github.com/portico-dev/portico/services/token"
)

// inferenceService is the one Connect service a personal API key may call.
const inferenceService = "portico.inference.v1.InferenceService"

// ErrUnauthorized is the error API Gateway maps to 401; its text must be exactly
// "Unauthorized".
var ErrUnauthorized = errors.New("Unauthorized")

// ErrUnavailable is returned when tokens cannot be checked because the issuer's keys are
// unreachable. API Gateway answers an authorizer's other errors with a 500 (the
// AUTHORIZER_FAILURE gateway response, which a deployment may map to 503) and caches none of
// them: clients retry instead of treating a valid session as signed out, which a 401 would
// make them do.
var ErrUnavailable = errors.New("authorizer: token signing keys unavailable")

// Authorizer answers API Gateway authorizer events.
type Authorizer struct {
	verifier      authn.TokenVerifier
	policy        func() *policy.Policy
	logger        *slog.Logger
	serviceScopes map[string]string
}

// New returns an Authorizer that verifies tokens with v and decides with the policy pol returns
// (called per request: livepolicy.Source.Policy, or a func returning a fixed policy). Machine clients
// are allowed the services of authn.DefaultServiceScopes whose scope they hold.
func New(v authn.TokenVerifier, pol func() *policy.Policy, logger *slog.Logger) *Authorizer {
	return &Authorizer{verifier: v, policy: pol, logger: logger, serviceScopes: authn.DefaultServiceScopes}
}

// Handle answers either event type, told apart by its "type" field; it is the function to
// give lambda.Start.
func (a *Authorizer) Handle(ctx context.Context, event json.RawMessage) (events.APIGatewayCustomAuthorizerResponse, error) {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(event, &head); err != nil {
		a.logger.WarnContext(ctx, "authorizer: unreadable event", "err", err)
		return events.APIGatewayCustomAuthorizerResponse{}, ErrUnauthorized
	}
	switch head.Type {
	case "TOKEN":
		var e events.APIGatewayCustomAuthorizerRequest
		if err := json.Unmarshal(event, &e); err != nil {
			return events.APIGatewayCustomAuthorizerResponse{}, ErrUnauthorized
		}
		return a.HandleToken(ctx, e)
	case "REQUEST":
		var e events.APIGatewayCustomAuthorizerRequestTypeRequest
		if err := json.Unmarshal(event, &e); err != nil {
			return events.APIGatewayCustomAuthorizerResponse{}, ErrUnauthorized
		}
		return a.HandleRequest(ctx, e)
	default:
		a.logger.WarnContext(ctx, "authorizer: unknown event type", "type", head.Type)
		return events.APIGatewayCustomAuthorizerResponse{}, ErrUnauthorized
	}
}

// HandleToken answers a TOKEN authorizer event, whose token source is the Authorization
// header ("Bearer <token>"; a bare token is accepted too).
func (a *Authorizer) HandleToken(ctx context.Context, e events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	raw := e.AuthorizationToken
	if scheme, rest, ok := strings.Cut(raw, " "); ok && strings.EqualFold(scheme, "Bearer") {
		raw = strings.TrimSpace(rest)
	}
	return a.decide(ctx, raw, e.MethodArn)
}

// HandleRequest answers a REQUEST authorizer event, reading the Authorization header.
func (a *Authorizer) HandleRequest(ctx context.Context, e events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	values := headerValues(e.Headers, e.MultiValueHeaders, "Authorization")
	if len(values) != 1 {
		a.logger.WarnContext(ctx, "authorizer: unauthenticated", "reason", fmt.Sprintf("%d Authorization headers", len(values)))
		return events.APIGatewayCustomAuthorizerResponse{}, ErrUnauthorized
	}
	scheme, raw, ok := strings.Cut(values[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		a.logger.WarnContext(ctx, "authorizer: unauthenticated", "reason", "not a Bearer credential")
		return events.APIGatewayCustomAuthorizerResponse{}, ErrUnauthorized
	}
	return a.decide(ctx, strings.TrimSpace(raw), e.MethodArn)
}

func (a *Authorizer) decide(ctx context.Context, raw, methodARN string) (resp events.APIGatewayCustomAuthorizerResponse, err error) {
	defer func() {
		if r := recover(); r != nil {
			a.logger.ErrorContext(ctx, "authorizer: panic", "panic", fmt.Sprint(r))
			resp, err = events.APIGatewayCustomAuthorizerResponse{}, ErrUnauthorized
		}
	}()
	stage, err := stageARN(methodARN)
	if err != nil {
		a.logger.WarnContext(ctx, "authorizer: bad method ARN", "err", err)
		return resp, ErrUnauthorized
	}
	if raw == "" {
		a.logger.WarnContext(ctx, "authorizer: unauthenticated", "reason", "no token")
		return resp, ErrUnauthorized
	}
	p, err := a.verifier.Verify(ctx, raw)
	if errors.Is(err, token.ErrKeySet) || errors.Is(err, authn.ErrUnavailable) {
		a.logger.ErrorContext(ctx, "authorizer: cannot verify tokens", "reason", err.Error())
		return resp, ErrUnavailable
	}
	if err != nil {
		a.logger.WarnContext(ctx, "authorizer: unauthenticated", "reason", err.Error())
		return resp, ErrUnauthorized
	}
	resources := a.allowed(p, stage)
	resp = events.APIGatewayCustomAuthorizerResponse{
		PrincipalID: p.Subject,
		Context:     contextOf(p),
	}
	if len(resources) == 0 {
		a.logger.InfoContext(ctx, "authorizer: denied", "sub", p.Subject, "kind", p.Kind.String())
		resp.PolicyDocument = document("Deny", []string{stage + "/*/*"})
		return resp, nil
	}
	resp.PolicyDocument = document("Allow", resources)
	return resp, nil
}

// allowed lists the resources p may call under stage ("arn:…:api/stage").
func (a *Authorizer) allowed(p *principal.Principal, stage string) []string {
	if p.APIKey != "" {
		// A personal API key: inference only, through Connect or the OpenAI-compatible
		// endpoint (the resolver refused it already if its owner may not hold keys).
		if !a.policy().Entitlements(p).Known() {
			return nil
		}
		return []string{stage + "/*/" + inferenceService + "/*", stage + "/*/v1/*"}
	}
	switch p.Kind {
	case principal.KindPerson:
		if a.policy().Entitlements(p).Known() {
			return []string{stage + "/*/*"}
		}
	case principal.KindMachine:
		var out []string
		for service, scope := range a.serviceScopes {
			if p.HasScope(scope) {
				out = append(out, stage+"/*/"+service+"/*")
			}
		}
		if p.HasScope(authn.ScopeInference) { // the OpenAI-compatible endpoint is inference
			out = append(out, stage+"/*/v1/*")
		}
		slices.Sort(out)
		return out
	}
	return nil
}

func document(effect string, resources []string) events.APIGatewayCustomAuthorizerPolicy {
	return events.APIGatewayCustomAuthorizerPolicy{
		Version: "2012-10-17",
		Statement: []events.IAMPolicyStatement{{
			Action:   []string{"execute-api:Invoke"},
			Effect:   effect,
			Resource: resources,
		}},
	}
}

func contextOf(p *principal.Principal) map[string]any {
	return map[string]any{
		"sub":      p.Subject,
		"username": p.Username,
		"groups":   strings.Join(p.Groups, ","),
		"scopes":   strings.Join(p.Scopes, ","),
		"clientId": p.ClientID,
		"kind":     p.Kind.String(),
		"apiKey":   p.APIKey,
	}
}

// stageARN returns "arn:aws:execute-api:region:account:api/stage" of a method ARN
// "arn:aws:execute-api:region:account:api/stage/METHOD/resource/path".
func stageARN(methodARN string) (string, error) {
	parts := strings.SplitN(methodARN, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "execute-api" {
		return "", fmt.Errorf("not an execute-api ARN: %q", methodARN)
	}
	path := strings.SplitN(parts[5], "/", 3)
	if len(path) < 2 || path[0] == "" || path[1] == "" {
		return "", fmt.Errorf("method ARN %q has no api id and stage", methodARN)
	}
	return strings.Join(parts[:5], ":") + ":" + path[0] + "/" + path[1], nil
}

// headerValues returns every value of the header name (case-insensitive) in either map.
// API Gateway fills both with the same values; multi-value headers win when present.
func headerValues(single map[string]string, multi map[string][]string, name string) []string {
	var out []string
	for k, vs := range multi {
		if strings.EqualFold(k, name) {
			out = append(out, vs...)
		}
	}
	if len(out) > 0 {
		return out
	}
	for k, v := range single {
		if strings.EqualFold(k, name) {
			out = append(out, v)
		}
	}
	return out
}

// Command portico-pretoken is the Cognito user pool's pre token generation Lambda trigger
// (event version V2_0, which needs the pool's Essentials or Plus feature plan). It runs only
// on Lambda (provided.al2023, arm64; `make build` writes build/lambda/portico-pretoken/bootstrap).
//
// For each token Cognito is about to issue to a person it does two things, in its response:
//
//   - Entra groups: the object ids in the user's custom:groups attribute (written by the Entra
//     SAML mapping) that PORTICO_ENTRA_GROUPS maps become Portico groups, added to the groups
//     Cognito would put in cognito:groups (both tokens). Unmapped ids confer nothing.
//   - Department: the user's custom:department attribute becomes the access token's
//     custom:department claim (the services' default PORTICO_DEPARTMENT_CLAIM, recorded on
//     every ledger record for chargeback). Cognito puts custom attributes in ID tokens only;
//     only a V2_0 response can add a claim to the access token. Nothing else is added.
//
// It never fails a sign-in: a user without the attributes gets no change, and an event it
// cannot read is returned unchanged, logged without its content.
//
// Environment (read once, in config.go; docs/contracts.md):
//
//	PORTICO_ENTRA_GROUPS             JSON object: Entra group object id → Portico group (default {})
//	PORTICO_ACCESS_TOKEN_DEPARTMENT  true (default) or false: copy custom:department into access tokens
//	PORTICO_LOG_FORMAT               text or json (default text; json on Lambda)
//
// It has no development defaults, so it reads no PORTICO_ENV.
// A value it cannot parse makes it refuse to start, reporting one init error.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/portico-dev/portico/services/platform/lambdahttp"
	"github.com/portico-dev/portico/services/platform/logs"
)

func main() {
	cfg, err := fromEnv(os.Getenv)
	var format logs.Format // JSON when the configuration cannot be read: the trigger runs on Lambda
	if cfg != nil {
		format = cfg.logFormat
	}
	start := lambdahttp.NewStartup("portico-pretoken", os.Stderr, format, os.Getenv)
	if err != nil {
		start.Fail(context.Background(), err)
		os.Exit(1)
	}
	lambda.Start(&trigger{cfg: cfg, logger: start.Logger})
}

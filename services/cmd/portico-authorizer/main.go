// Command portico-authorizer is Portico's API Gateway Lambda authorizer (REQUEST or TOKEN). It
// runs only on Lambda (provided.al2023, arm64; build with
// `GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o bootstrap`).
//
// Environment:
//
//	PORTICO_ISSUER       the only accepted token issuer (default http://localhost:9000)
//	PORTICO_CLIENT_IDS   accepted client_id values, comma-separated (default portico-web,portico-machine)
//	PORTICO_POLICY_FILE  the policy file (default: the embedded dev policy)
//	PORTICO_LOG_FORMAT   json (default) or text
package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/portico-dev/portico/services/authorizer"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/token"
)

func main() {
	logger := newLogger(os.Getenv("PORTICO_LOG_FORMAT"))
	a, err := build(os.Getenv, logger)
	if err != nil {
		logger.Error("portico-authorizer: configuration", "err", err)
		os.Exit(1)
	}
	lambda.Start(a.Handle)
}

// build assembles the authorizer from the environment.
func build(getenv func(string) string, logger *slog.Logger) (*authorizer.Authorizer, error) {
	issuer := or(getenv("PORTICO_ISSUER"), "http://localhost:9000")
	var clientIDs []string
	for _, id := range strings.Split(or(getenv("PORTICO_CLIENT_IDS"), "portico-web,portico-machine"), ",") {
		if id = strings.TrimSpace(id); id != "" {
			clientIDs = append(clientIDs, id)
		}
	}
	if len(clientIDs) == 0 {
		return nil, fmt.Errorf("PORTICO_CLIENT_IDS names no client")
	}
	var pol *policy.Policy
	var err error
	if path := getenv("PORTICO_POLICY_FILE"); path != "" {
		pol, err = policy.Load(path)
	} else {
		pol, err = policy.Default()
	}
	if err != nil {
		return nil, err
	}
	v := token.NewVerifier(issuer, token.Cognito{ClientIDs: clientIDs})
	return authorizer.New(v, pol, logger), nil
}

func newLogger(format string) *slog.Logger {
	if format == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, nil))
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

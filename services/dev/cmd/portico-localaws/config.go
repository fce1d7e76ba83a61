package main

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/portico-dev/portico/services/dev/localaws"
	"github.com/portico-dev/portico/services/platform/lambdahttp"
	"github.com/portico-dev/portico/services/platform/logs"
)

// Environment variables (docs/contracts.md). This file is the only place the command reads
// its environment.
//
//nolint:gosec // G101: names of environment variables, not credentials
const (
	EnvAddr            = "PORTICO_LOCALAWS_ADDR"
	EnvTokensPerSecond = "PORTICO_LOCALAWS_TOKENS_PER_SECOND"
	EnvOpenAIURL       = "PORTICO_LOCALAWS_OPENAI_URL"
	EnvOpenAIModel     = "PORTICO_LOCALAWS_OPENAI_MODEL"
	EnvAccessKeyID     = "PORTICO_LOCALAWS_ACCESS_KEY_ID"
	EnvSecretAccessKey = "PORTICO_LOCALAWS_SECRET_ACCESS_KEY"
	EnvLogFormat       = logs.Env
)

// Defaults (docs/contracts.md); the accepted credentials default in localaws.Config.
const (
	defaultAddr            = "localhost:4566"
	defaultTokensPerSecond = 50
)

// config is the local AWS endpoint's configuration, read once by fromEnv.
type config struct {
	addr      string
	logFormat logs.Format
	localaws  localaws.Config
}

// fromEnv reads the configuration through getenv (os.Getenv in main), reporting every
// problem at once: the pace (0 for as fast as possible), the OpenAI-compatible server to
// forward to and the accepted credentials.
func fromEnv(getenv func(string) string) (*config, error) {
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	var errs []error
	c := &config{addr: get(EnvAddr), localaws: localaws.Config{
		TokensPerSecond: defaultTokensPerSecond,
		OpenAIURL:       get(EnvOpenAIURL),
		OpenAIModel:     get(EnvOpenAIModel),
		AccessKeyID:     get(EnvAccessKeyID),
		SecretAccessKey: get(EnvSecretAccessKey),
	}}
	if c.addr == "" {
		c.addr = defaultAddr
	}
	var err error
	if c.logFormat, err = logs.ParseFormat(get(EnvLogFormat), get(lambdahttp.RuntimeAPIEnv) != ""); err != nil {
		errs = append(errs, err)
	}
	if v := get(EnvTokensPerSecond); v != "" {
		tps, err := strconv.ParseFloat(v, 64)
		if err != nil || tps < 0 {
			errs = append(errs, fmt.Errorf("%s=%q: want a number of tokens per second, 0 or more", EnvTokensPerSecond, v))
		}
		c.localaws.TokensPerSecond = tps
	}
	if u := c.localaws.OpenAIURL; u != "" {
		parsed, err := url.Parse(u)
		if err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
			errs = append(errs, fmt.Errorf("%s=%q: want an http(s) URL such as http://localhost:11434/v1/chat/completions", EnvOpenAIURL, u))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

package localaws

import (
	"fmt"
	"net/url"
	"strconv"
)

// Environment variables read by ConfigFromEnv, and the listen address default.
const (
	EnvAddr            = "PORTICO_LOCALAWS_ADDR"
	EnvTokensPerSecond = "PORTICO_LOCALAWS_TOKENS_PER_SECOND"
	EnvOpenAIURL       = "PORTICO_LOCALAWS_OPENAI_URL"
	EnvOpenAIModel     = "PORTICO_LOCALAWS_OPENAI_MODEL"
	EnvAccessKeyID     = "PORTICO_LOCALAWS_ACCESS_KEY_ID"
	EnvSecretAccessKey = "PORTICO_LOCALAWS_SECRET_ACCESS_KEY"
	DefaultAddr        = "localhost:4566"
	// DefaultTokensPerSecond is the pace of the built-in generator when
	// PORTICO_LOCALAWS_TOKENS_PER_SECOND is unset.
	DefaultTokensPerSecond = 50
)

// ConfigFromEnv builds a Config from environment variables: the pace
// (PORTICO_LOCALAWS_TOKENS_PER_SECOND, default 50, 0 for as fast as possible), the
// OpenAI-compatible server to forward to (PORTICO_LOCALAWS_OPENAI_URL and
// PORTICO_LOCALAWS_OPENAI_MODEL) and the accepted credentials
// (PORTICO_LOCALAWS_ACCESS_KEY_ID, PORTICO_LOCALAWS_SECRET_ACCESS_KEY, default
// portico-dev / portico-dev-secret).
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	cfg := Config{
		TokensPerSecond: DefaultTokensPerSecond,
		OpenAIURL:       getenv(EnvOpenAIURL),
		OpenAIModel:     getenv(EnvOpenAIModel),
		AccessKeyID:     getenv(EnvAccessKeyID),
		SecretAccessKey: getenv(EnvSecretAccessKey),
	}
	if v := getenv(EnvTokensPerSecond); v != "" {
		tps, err := strconv.ParseFloat(v, 64)
		if err != nil || tps < 0 {
			return cfg, fmt.Errorf("%s=%q: want a number of tokens per second, 0 or more", EnvTokensPerSecond, v)
		}
		cfg.TokensPerSecond = tps
	}
	if cfg.OpenAIURL != "" {
		u, err := url.Parse(cfg.OpenAIURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return cfg, fmt.Errorf("%s=%q: want an http(s) URL such as http://localhost:11434/v1/chat/completions", EnvOpenAIURL, cfg.OpenAIURL)
		}
	}
	return cfg, nil
}

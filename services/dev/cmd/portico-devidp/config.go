package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/portico-dev/portico/services/dev/devidp"
	"github.com/portico-dev/portico/services/platform/lambdahttp"
	"github.com/portico-dev/portico/services/platform/logs"
)

// Environment variables (docs/contracts.md). This file is the only place the command reads
// its environment.
//
//nolint:gosec // G101: names of environment variables (…_TOKEN_TTL), not credentials
const (
	EnvAddr            = "PORTICO_IDP_ADDR"
	EnvIssuer          = "PORTICO_IDP_ISSUER"
	EnvDataDir         = "PORTICO_IDP_DATA_DIR"
	EnvUsersFile       = "PORTICO_IDP_USERS_FILE"
	EnvAccessTokenTTL  = "PORTICO_IDP_ACCESS_TOKEN_TTL"
	EnvIDTokenTTL      = "PORTICO_IDP_ID_TOKEN_TTL"
	EnvRefreshTokenTTL = "PORTICO_IDP_REFRESH_TOKEN_TTL"
	EnvRedirectURIs    = "PORTICO_IDP_REDIRECT_URIS"
	EnvLogoutURIs      = "PORTICO_IDP_LOGOUT_URIS"
	EnvProfile         = "PORTICO_IDP_PROFILE"
	EnvLogFormat       = logs.Env
)

// Defaults (docs/contracts.md); the rest are devidp's own.
const (
	defaultAddr    = "localhost:9000"
	defaultDataDir = ".data/idp"
)

// config is the dev IdP's configuration, read once by fromEnv.
type config struct {
	addr      string
	logFormat logs.Format
	options   []devidp.Option // everything devidp.New takes from the environment
}

// fromEnv reads the configuration through getenv (os.Getenv in main), reporting every
// problem at once.
func fromEnv(getenv func(string) string) (*config, error) {
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	var errs []error
	c := &config{addr: get(EnvAddr), options: []devidp.Option{devidp.WithDataDir(defaultDataDir)}}
	if c.addr == "" {
		c.addr = defaultAddr
	}
	var err error
	if c.logFormat, err = logs.ParseFormat(get(EnvLogFormat), get(lambdahttp.RuntimeAPIEnv) != ""); err != nil {
		errs = append(errs, err)
	}
	if v := get(EnvIssuer); v != "" {
		c.options = append(c.options, devidp.WithIssuer(v))
	}
	if v := get(EnvDataDir); v != "" {
		c.options = append(c.options, devidp.WithDataDir(v))
	}
	if v := get(EnvUsersFile); v != "" {
		users, err := readUsers(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvUsersFile, err))
		} else {
			c.options = append(c.options, devidp.WithUsers(users))
		}
	}
	for _, d := range []struct {
		name string
		opt  func(time.Duration) devidp.Option
	}{
		{EnvAccessTokenTTL, devidp.WithAccessTokenTTL},
		{EnvIDTokenTTL, devidp.WithIDTokenTTL},
		{EnvRefreshTokenTTL, devidp.WithRefreshTokenTTL},
	} {
		v := get(d.name)
		if v == "" {
			continue
		}
		ttl, err := time.ParseDuration(v)
		if err != nil || ttl <= 0 {
			errs = append(errs, fmt.Errorf("%s=%q: want a positive Go duration such as 1h or 30s", d.name, v))
			continue
		}
		c.options = append(c.options, d.opt(ttl))
	}
	if v := get(EnvRedirectURIs); v != "" {
		c.options = append(c.options, devidp.WithRedirectURIs(splitList(v)...))
	}
	if v := get(EnvLogoutURIs); v != "" {
		c.options = append(c.options, devidp.WithLogoutURIs(splitList(v)...))
	}
	switch v := get(EnvProfile); v {
	case "", "cognito":
	case "entra":
		c.options = append(c.options, devidp.WithEntra("", ""))
	default:
		errs = append(errs, fmt.Errorf("%s=%q: want cognito or entra", EnvProfile, v))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

// readUsers reads and validates a users file.
func readUsers(path string) ([]devidp.User, error) {
	data, err := os.ReadFile(path) //nolint:gosec // the operator chooses the users file
	if err != nil {
		return nil, err
	}
	users, err := devidp.ParseUsers(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return users, nil
}

func splitList(s string) []string {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

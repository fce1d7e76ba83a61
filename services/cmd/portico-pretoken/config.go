package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/portico-dev/portico/services/platform/lambdahttp"
	"github.com/portico-dev/portico/services/platform/logs"
)

// Environment variables (docs/contracts.md). This file is the only place the command reads
// its environment.
const (
	// EnvEntraGroups maps Entra group object ids to Portico groups (a JSON object).
	EnvEntraGroups = "PORTICO_ENTRA_GROUPS"
	// EnvAccessTokenDepartment says whether custom:department is copied into access tokens.
	EnvAccessTokenDepartment = "PORTICO_ACCESS_TOKEN_DEPARTMENT"
	// EnvLogFormat is the one log format rule of every binary (json on Lambda).
	EnvLogFormat = logs.Env
	// EnvRuntimeAPI is set by Lambda: the Runtime API the init error is reported to.
	EnvRuntimeAPI = lambdahttp.RuntimeAPIEnv
)

// config is the trigger's configuration, read once by fromEnv.
type config struct {
	// entraGroups maps an Entra group object id to the Portico group it confers.
	entraGroups map[string]string
	// department copies the custom:department attribute into the access token.
	department bool
	logFormat  logs.Format
}

// fromEnv reads the configuration through getenv (os.Getenv in main), reporting every
// problem at once.
func fromEnv(getenv func(string) string) (*config, error) {
	cfg := &config{entraGroups: map[string]string{}, department: true}
	var errs []error
	format, err := logs.ParseFormat(getenv(EnvLogFormat), getenv(EnvRuntimeAPI) != "")
	if err != nil {
		errs = append(errs, err)
	}
	cfg.logFormat = format
	if v := getenv(EnvEntraGroups); v != "" {
		if err := json.Unmarshal([]byte(v), &cfg.entraGroups); err != nil || cfg.entraGroups == nil {
			errs = append(errs, fmt.Errorf("%s: want a JSON object of group id to group name: %v", EnvEntraGroups, err))
		}
		for id, group := range cfg.entraGroups {
			if id == "" || group == "" {
				errs = append(errs, fmt.Errorf("%s: an empty group id or name", EnvEntraGroups))
				break
			}
		}
	}
	if v := getenv(EnvAccessTokenDepartment); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: want true or false, got %q", EnvAccessTokenDepartment, v))
		}
		cfg.department = b
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return cfg, nil
}

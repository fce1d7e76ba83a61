package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/portico-dev/portico/services/lambdahttp"
)

// Service names accepted in PORTICO_SERVICE.
const (
	serviceIdentity  = "identity"
	serviceInference = "inference"
	serviceAdmin     = "admin"
)

var allServices = []string{serviceIdentity, serviceInference, serviceAdmin}

// config is the environment, parsed.
type config struct {
	addr       string
	services   []string // selected, from allServices
	issuer     string
	clientIDs  []string
	policyFile string
	store      string // PORTICO_STORE: sqlite:<path> or dynamodb:<table>
}

func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		addr:       or(getenv("PORTICO_SERVICES_ADDR"), "localhost:8081"),
		issuer:     or(getenv("PORTICO_ISSUER"), "http://localhost:9000"),
		policyFile: getenv("PORTICO_POLICY_FILE"),
		store:      or(getenv(envStore), defaultStore),
	}
	if _, err := lambdahttp.FromEnv(getenv); err != nil {
		return c, err // checked here so that Lambda hears of it as an init error
	}
	c.clientIDs = splitList(or(getenv("PORTICO_CLIENT_IDS"), "portico-web,portico-machine"))
	if len(c.clientIDs) == 0 {
		return c, fmt.Errorf("PORTICO_CLIENT_IDS names no client")
	}
	selected := splitList(or(getenv("PORTICO_SERVICE"), "all"))
	if slices.Equal(selected, []string{"all"}) {
		c.services = allServices
		return c, nil
	}
	for _, s := range selected {
		if !slices.Contains(allServices, s) {
			return c, fmt.Errorf("PORTICO_SERVICE: unknown service %q (want all, %s)", s, strings.Join(allServices, ", "))
		}
		if !slices.Contains(c.services, s) {
			c.services = append(c.services, s)
		}
	}
	if len(c.services) == 0 {
		return c, fmt.Errorf("PORTICO_SERVICE selects no service")
	}
	return c, nil
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

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

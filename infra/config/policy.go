package config

import (
	"errors"
	"fmt"
	"slices"

	"github.com/goccy/go-yaml"
)

// policyGroups is the part of a services policy file (services/policy) the infrastructure
// cross-checks: the Cognito groups it names. The services validate the rest at start-up.
type policyGroups struct {
	UsageAdmins []string `yaml:"usageAdmins"`
	Groups      []struct {
		Name string `yaml:"name"`
	} `yaml:"groups"`
}

// CheckPolicy reports, all at once, every Cognito group a policy file names (a grant or a
// usage admin) that the environment does not create: such a grant would match nobody, or
// silently start to match whoever later creates a group of that name by hand. The services
// validate the rest of the file (models, quotas, scopes) at start-up.
func (c *Config) CheckPolicy(data []byte) error {
	var p policyGroups
	if err := yaml.Unmarshal(data, &p); err != nil {
		return fmt.Errorf("policy file %s: %s", c.PolicyFile, yaml.FormatError(err, false, true))
	}
	known := make([]string, 0, len(c.Identity.Groups))
	for _, g := range c.Identity.Groups {
		known = append(known, g.Name)
	}
	var errs []error
	check := func(where, name string) {
		if !slices.Contains(known, name) {
			errs = append(errs, fmt.Errorf("%s %q is not one of identity.groups %v", where, name, known))
		}
	}
	for _, g := range p.Groups {
		check("group", g.Name)
	}
	for _, g := range p.UsageAdmins {
		check("usageAdmins group", g)
	}
	if len(errs) > 0 {
		return fmt.Errorf("policy file %s: %w", c.PolicyFile, errors.Join(errs...))
	}
	return nil
}

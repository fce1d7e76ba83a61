package config

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"

	"github.com/goccy/go-yaml"
)

// policyGroups is the part of a services policy file (services/policy) the infrastructure
// cross-checks: the groups it names and the Entra group ids it maps. The services validate
// the rest at start-up.
type policyGroups struct {
	UsageAdmins []string `yaml:"usageAdmins"`
	Groups      []struct {
		Name string `yaml:"name"`
	} `yaml:"groups"`
	GroupIDs map[string]string `yaml:"groupIds"`
}

// objectIDRE is an Entra group object id as the services' policy accepts it (any case).
var objectIDRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// CheckPolicy reports, all at once, every group a policy file names (a grant, a usage admin
// or a groupIds target) that is not one of identity.groups: such a grant would match nobody,
// or silently start to match whoever later creates a group of that name by hand. With Entra
// ID directly (identity.mode entra) the file must map the assigned Entra groups' object ids
// to those groups (groupIds), since the services map them; with Cognito the mapping is
// identity.entraGroups and a groupIds section, which Cognito's tokens never use, is refused.
// The services validate the rest of the file (models, quotas, scopes) at start-up.
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
	switch {
	case c.IsEntra() && len(p.GroupIDs) == 0:
		errs = append(errs, fmt.Errorf("groupIds: required with identity.mode %s: map each Entra group assigned to the API app (its object id) to one of identity.groups %v", IdentityEntra, known))
	case !c.IsEntra() && len(p.GroupIDs) > 0:
		errs = append(errs, fmt.Errorf("groupIds: applies to identity.mode %s only; with Cognito, map Entra groups in identity.entraGroups", IdentityEntra))
	case c.IsEntra():
		for _, id := range slices.Sorted(maps.Keys(p.GroupIDs)) {
			if !objectIDRE.MatchString(id) {
				errs = append(errs, fmt.Errorf("groupIds key %q is not an Entra group object id (a GUID)", id))
			}
			check("groupIds "+id+" →", p.GroupIDs[id])
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("policy file %s: %w", c.PolicyFile, errors.Join(errs...))
	}
	return nil
}

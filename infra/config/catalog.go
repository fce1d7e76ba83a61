package config

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/goccy/go-yaml"

	"github.com/portico-dev/portico/services/catalog"
)

// Catalog loads the environment's model catalog: CatalogFile (relative to infraDir), or
// the services' embedded catalog when none is configured.
func (c *Config) Catalog(infraDir string) (*catalog.Catalog, error) {
	path := c.CatalogFile
	if path != "" && !filepath.IsAbs(path) {
		path = filepath.Join(infraDir, path)
	}
	cat, err := catalog.Load(path)
	if err != nil {
		return nil, fmt.Errorf("config %s: catalogFile: %w", c.Env, err)
	}
	return cat, nil
}

// ModelARNs returns the ARNs the Inference Lambda may invoke, sorted and without
// duplicates: for Bedrock each model the way it runs in Region (the foundation model on
// demand, or the inference profile and the foundation model in every region it routes
// to), and each SageMaker endpoint. It refuses, naming every one, catalog models that
// cannot run in Region: deployed, they would fail on their first call.
func (c *Config) ModelARNs(cat *catalog.Catalog) (bedrock, sagemaker []string, err error) {
	bedrock, sagemaker, err = cat.IAMResources(c.Region, c.Account)
	if err != nil {
		return nil, nil, fmt.Errorf("config %s: catalogFile %q (region %s): %w", c.Env, c.CatalogFile, c.Region, err)
	}
	return bedrock, sagemaker, nil
}

// policyGrants is the part of a services policy file naming models and endpoints.
type policyGrants struct {
	Groups []grants `yaml:"groups"`
	Scopes []grants `yaml:"scopes"`
}

type grants struct {
	Name      string   `yaml:"name"`
	Scope     string   `yaml:"scope"`
	Models    []string `yaml:"models"`
	Endpoints []string `yaml:"endpoints"`
}

// CheckPolicyModels reports, all at once, every model or endpoint a policy file grants that
// the catalog lacks (or names as the other kind): the services refuse to start on such a
// policy, so synthesis refuses it first.
func (c *Config) CheckPolicyModels(data []byte, cat *catalog.Catalog) error {
	var p policyGrants
	if err := yaml.Unmarshal(data, &p); err != nil {
		return fmt.Errorf("policy file %s: %s", c.PolicyFile, yaml.FormatError(err, false, true))
	}
	var errs []error
	check := func(who, id string, want catalog.Provider) {
		if m, ok := cat.Lookup(id); !ok || m.Provider != want {
			errs = append(errs, fmt.Errorf("%s grants %s %q, which the catalog (%s) does not list as one", who, want, id, c.CatalogFile))
		}
	}
	for _, list := range [][]grants{p.Groups, p.Scopes} {
		for _, g := range list {
			who := "group " + g.Name
			if g.Scope != "" {
				who = "scope " + g.Scope
			}
			for _, id := range g.Models {
				check(who, id, catalog.ProviderBedrock)
			}
			for _, id := range g.Endpoints {
				check(who, id, catalog.ProviderSageMaker)
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("policy file %s: %w", c.PolicyFile, errors.Join(errs...))
	}
	return nil
}

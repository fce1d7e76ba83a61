package livepolicy

import (
	"github.com/portico-dev/portico/services/catalog"
	"github.com/portico-dev/portico/services/policy"
)

// CatalogOptions returns the validation options of a policy for cat: its Bedrock model ids
// and its SageMaker endpoint names, and nothing else, may be granted.
func CatalogOptions(cat *catalog.Catalog) []policy.Option {
	var models, endpoints []string
	for _, m := range cat.Models() {
		if m.Provider == catalog.ProviderSageMaker {
			endpoints = append(endpoints, m.ID)
		} else {
			models = append(models, m.ID)
		}
	}
	return []policy.Option{policy.WithModelIDs(models...), policy.WithEndpointNames(endpoints...)}
}

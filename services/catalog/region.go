package catalog

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Profile is a Bedrock cross-region (system-defined) inference profile through which a
// foundation model runs where it is not offered on demand.
type Profile struct {
	// ID is the profile id: a geography prefix ("us.", "eu.", "apac.", "global.", …) and
	// the foundation model's id.
	ID string
	// Regions are the regions the profile may be called from and may route to. AWS lists
	// the same regions both ways for the geographic profiles Portico uses; a source region
	// may route to a subset, so granting all of them is the narrowest rule that always
	// works. For a global profile they are the source regions (it routes to every
	// commercial region).
	Regions []string
}

// Global reports whether p is a global profile, whose destinations are every commercial
// region rather than a list.
func (p Profile) Global() bool { return strings.HasPrefix(p.ID, "global.") }

// Route is how a model is reached from one region.
type Route struct {
	// ModelID is the id the provider is called with: the model's own id when it runs on
	// demand in the region (or is a SageMaker endpoint), else the inference profile's id.
	ModelID string
	// Profile is the inference profile the call goes through; nil on demand.
	Profile *Profile
}

// Route says how the model runs when called from region: on demand where the catalog
// lists the region in onDemandRegions, else through the first of its profiles whose
// regions include it. An inference-profile entry runs from the regions it lists; a
// SageMaker endpoint runs where it is deployed. A Bedrock model the catalog gives no
// region facts for, or whose facts exclude region, cannot run there: the error says where
// it can.
func (m Model) Route(region string) (Route, error) {
	switch m.Kind {
	case KindEndpoint:
		return Route{ModelID: m.ID}, nil
	case KindInferenceProfile:
		if slices.Contains(m.Regions, region) {
			return Route{ModelID: m.ID, Profile: &Profile{ID: m.ID, Regions: slices.Clone(m.Regions)}}, nil
		}
		return Route{}, fmt.Errorf("%s: inference profile %s is called from %v, not %s", m.DisplayName, m.ID, m.Regions, region)
	}
	if slices.Contains(m.OnDemandRegions, region) {
		return Route{ModelID: m.ID}, nil
	}
	for _, p := range m.Profiles {
		if slices.Contains(p.Regions, region) {
			p.Regions = slices.Clone(p.Regions)
			return Route{ModelID: p.ID, Profile: &p}, nil
		}
	}
	if len(m.OnDemandRegions) == 0 && len(m.Profiles) == 0 {
		return Route{}, fmt.Errorf("%s (%s): the catalog does not say where it runs (onDemandRegions, profiles)", m.DisplayName, m.ID)
	}
	var via []string
	for _, p := range m.Profiles {
		via = append(via, fmt.Sprintf("%s from %v", p.ID, p.Regions))
	}
	return Route{}, fmt.Errorf("%s (%s) runs on demand in %v and through %v, not from %s", m.DisplayName, m.ID, m.OnDemandRegions, via, region)
}

// InvokeID is the id the provider is called with: the inference profile or on-demand id
// InRegion chose, or else the model's own id.
func (m Model) InvokeID() string {
	if m.invokeID != "" {
		return m.invokeID
	}
	return m.ID
}

// InRegion returns a copy of the catalog whose models are called the way they run from
// region (Model.InvokeID: a profile id where the model is not on demand there). When some
// models cannot run from region the error names every one of them; the returned catalog is
// still usable (those models keep their own ids), for callers that only warn, such as the
// development stack whose local endpoint serves every model anywhere. Production refuses.
func (c *Catalog) InRegion(region string) (*Catalog, error) {
	out := &Catalog{prices: c.prices, byID: c.byID, models: make([]Model, len(c.models)), kbs: c.kbs, kbByID: c.kbByID}
	var errs []error
	for i, m := range c.models {
		m = m.clone()
		r, err := m.Route(region)
		if err != nil {
			errs = append(errs, err)
		} else {
			m.invokeID = r.ModelID
		}
		out.models[i] = m
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("models that cannot run from %s: %w", region, errors.Join(errs...))
	}
	return out, nil
}
